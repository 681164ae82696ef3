"""Supervisor wall board: today's numbers per queue and in total, agents' states, live over WebSocket."""

from agentdesk.board.feed import BoardFeed
from agentdesk.board.force import (
    AgentStateWriter,
    ForcedState,
    LoggedStateWriter,
    RouterStateWriter,
    force_state,
)
from agentdesk.board.routes import register_board_routes
from agentdesk.board.snapshot import build_board

__all__ = [
    "AgentStateWriter",
    "BoardFeed",
    "ForcedState",
    "LoggedStateWriter",
    "RouterStateWriter",
    "build_board",
    "force_state",
    "register_board_routes",
]
