"""The web application's listening socket, guarded so that no web load can starve the telephony.

- A connection must send a complete request head within `header_timeout_s` of connecting
  (a client that connects and says nothing, or dribbles a header, is closed); between requests
  a connection may stay idle `keepalive_timeout_s` (aiohttp closes it then).
- At most `max_connections` web connections are open, and never so many that fewer than
  `fd_reserve` descriptors of RLIMIT_NOFILE stay free: FastAGI (one per call), AMI, Redis and
  the database need them. A connection beyond either is closed at once, and counted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from kck.settings import HTTPSettings

log = logging.getLogger(__name__)


def open_descriptors() -> int:
    """Descriptors this process has open now (Linux /proc; 0 elsewhere: no limit applied)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


class ConnectionBudget:
    """How many web connections may be open: counts them, and looks at the process's open
    descriptors again whenever half of the last free margin has been handed out."""

    def __init__(self, max_connections: int, fd_reserve: int) -> None:
        self.max_connections = max_connections
        self.fd_reserve = fd_reserve
        self.open = 0
        self.refused = 0
        self._until_recount = 0

    def admit(self) -> bool:
        if self.open >= self.max_connections:
            return self._refuse("the web connection cap", self.max_connections)
        if self._until_recount <= 0:
            soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            free = soft - open_descriptors() - self.fd_reserve
            if free <= 0:
                return self._refuse("the descriptors kept for calls", soft - self.fd_reserve)
            self._until_recount = free // 2
        self._until_recount -= 1
        self.open += 1
        return True

    def closed(self) -> None:
        self.open -= 1

    def _refuse(self, what: str, limit: int) -> bool:
        self.refused += 1
        log.warning("web connection refused: %s (%d) is reached", what, limit)
        return False


class GuardedRequestHandler(RequestHandler):
    """aiohttp's handler with a deadline for the first request head and a connection budget."""

    def __init__(
        self, manager: web.Server, *, budget: ConnectionBudget, header_timeout_s: float, **kw: Any
    ) -> None:
        super().__init__(manager, **kw)
        self._budget = budget
        self._header_timeout_s = header_timeout_s
        self._admitted = False
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._budget.admit():
            transport.close()
            return
        self._admitted = True
        super().connection_made(transport)
        self._header_deadline = self._loop.call_later(self._header_timeout_s, self._no_head)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._header_deadline is not None and self._request_count > 0:
            self._header_deadline.cancel()  # a whole request head came
            self._header_deadline = None

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None
        if self._admitted:
            self._admitted = False
            self._budget.closed()
            super().connection_lost(exc)

    def _no_head(self) -> None:
        self._header_deadline = None
        if self._request_count == 0 and self.transport is not None:
            self.transport.close()


class GuardedServer(web.Server):
    """Makes a `GuardedRequestHandler` for each connection."""

    def __init__(
        self, *args: Any, budget: ConnectionBudget, header_timeout_s: float, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._budget = budget
        self._header_timeout_s = header_timeout_s

    def __call__(self) -> GuardedRequestHandler:
        return GuardedRequestHandler(
            self,
            loop=self._loop,
            budget=self._budget,
            header_timeout_s=self._header_timeout_s,
            **self._kwargs,
        )


class GuardedAppRunner(web.AppRunner):
    """An AppRunner whose connections are guarded (`GuardedServer`)."""

    def __init__(self, app: web.Application, http: HTTPSettings, **kwargs: Any) -> None:
        super().__init__(app, keepalive_timeout=http.keepalive_timeout_s, **kwargs)
        self.budget = ConnectionBudget(http.max_connections, http.fd_reserve)
        self._header_timeout_s = http.header_timeout_s

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()  # the application started and frozen, as usual
        return GuardedServer(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=asyncio.get_running_loop(),
            budget=self.budget,
            header_timeout_s=self._header_timeout_s,
            **made._kwargs,
        )
