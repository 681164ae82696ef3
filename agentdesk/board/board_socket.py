"""One wall board's WebSocket (a `SocketSession`, the desk socket's sibling): the snapshot after
`ready`, then every change the feed fans out. The board only listens."""

from __future__ import annotations

import asyncio

from aiohttp import web

from agentdesk.board.feed import Message
from agentdesk.keys import feed_key
from agentdesk.socket_session import SocketSession, serve_socket


class BoardSocket(SocketSession):
    what = "board"

    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        super().__init__(request, ws)
        self.feed = self.app[feed_key]
        self.changes: asyncio.Queue[Message] | None = None

    async def open(self) -> None:
        # before the snapshot is counted, so no change falls between the two
        self.changes = self.feed.subscribe()

    async def close(self) -> None:
        if self.changes is not None:
            self.feed.unsubscribe(self.changes)

    async def transmit(self) -> None:
        assert self.changes is not None, "transmit runs after open"
        await self.ws.send_json({"type": "snapshot", "data": await self.feed.snapshot()})
        while True:
            await self.ws.send_json(await self.changes.get())


async def board_socket(request: web.Request) -> web.StreamResponse:
    return await serve_socket(request, BoardSocket)
