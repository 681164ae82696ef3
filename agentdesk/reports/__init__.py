"""Reports: metric definitions (shared with the wall board), periods, report tables, charts, CSV."""
