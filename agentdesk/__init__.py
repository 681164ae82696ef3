"""The web application: agent desk with screen-pop, supervisor wall board, KB and ticket screens."""
