"""The one pattern of the live sockets (the desk's and the wall board's), after wazo-websocketd.

`serve_socket` refuses a socket from another site (close 4003) and runs a `SocketSession`: what
it pushes is subscribed to first (`open`), then three tasks run under
`asyncio.wait(FIRST_COMPLETED)`: receive (the client's `ready`, pings, the socket's own
messages), transmit (nothing before `ready`, so nothing is lost between subscribing and the
first frame) and a session check (still signed in, every `SocketTiming.session_check_s`).
Whichever ends first ends the session; the others are cancelled and awaited, the first error is
re-raised and becomes the close code.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from agentdesk.i18n import translate
from agentdesk.keys import socket_timing_key, sockets_key
from agentdesk.request_body import parse_json
from agentdesk.security import principal_of, same_origin, still_signed_in
from kck.stopping import TASK_STOP_S, stop_tasks

log = logging.getLogger(__name__)


class CloseCode(enum.IntEnum):
    """Why the server closed the socket (the client reconnects unless told to sign in)."""

    SESSION_ENDED = 4001  # signed out or session expired: go to the login page
    PROTOCOL_ERROR = 4002  # bad message or no `ready` in time
    FORBIDDEN = 4003  # wrong origin
    SERVER_ERROR = 4004  # our fault; the client reconnects


@dataclass(frozen=True)
class SocketTiming:
    """How long a client has to say `ready`, and how often its sign-in is checked again."""

    ready_timeout_s: float = 30.0
    session_check_s: float = 15.0


class SessionEnded(Exception):
    pass


class ProtocolError(Exception):
    pass


class ClientLeft(Exception):
    pass


class SocketSession:
    """One browser's live socket; a screen subclasses it with what it subscribes to and pushes."""

    what = "live"  # names the socket in the log

    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        self.request = request
        self.ws = ws
        self.app = request.app
        self.timing = self.app.get(socket_timing_key) or SocketTiming()
        self.ready = asyncio.Event()
        principal = principal_of(request)
        self.who = principal.username if principal is not None else "?"

    # --- what a screen fills in ---------------------------------------------------------------

    async def open(self) -> None:
        """Subscribe to what will be pushed; runs before the client is told anything."""

    async def close(self) -> None:
        """Undo `open` (runs always, also after a failed `open`)."""

    async def transmit(self) -> None:
        """Push to the client from `ready` on, until the session ends."""
        raise NotImplementedError

    async def on_message(self, kind: str, body: dict[str, Any]) -> None:
        """A client message other than `ready` and `ping`."""
        raise ProtocolError(f"unknown message type {kind!r}")

    async def on_check(self) -> None:
        """At the start and at every session check (e.g. renew a presence in Redis)."""

    # --- the pattern --------------------------------------------------------------------------

    async def run(self) -> None:
        tasks = [
            asyncio.create_task(self._receive(), name=f"{self.what} receive"),
            asyncio.create_task(self._transmit(), name=f"{self.what} transmit"),
            asyncio.create_task(self._check_session(), name=f"{self.what} session check"),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            pending = [task for task in tasks if not task.done()]
            await stop_tasks(pending, within=TASK_STOP_S, what=self.what)
            # Every task's end is read (none left "never retrieved"); the first that ended by
            # error says why the session ended (a cancel of our own is not one).
            errors = [t.exception() for t in tasks if t.done() and not t.cancelled()]
        if first := next((error for error in errors if error is not None), None):
            raise first

    async def _receive(self) -> None:
        deadline = asyncio.timeout(self.timing.ready_timeout_s)
        try:
            async with deadline:
                while not self.ready.is_set():
                    await self._handle(await self.ws.receive())
        except TimeoutError:
            if deadline.expired():
                raise ProtocolError(f"no ready within {self.timing.ready_timeout_s} s") from None
            raise
        while True:
            await self._handle(await self.ws.receive())

    async def _handle(self, message: aiohttp.WSMessage) -> None:
        if message.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.CLOSED,
        ):
            raise ClientLeft()
        if message.type == aiohttp.WSMsgType.ERROR:
            raise ConnectionError(str(self.ws.exception()))
        if message.type != aiohttp.WSMsgType.TEXT:
            raise ProtocolError("text frames only")
        try:
            # the one reader of what browsers send: no lone surrogate, no absurd nesting
            body = parse_json(message.data.encode("utf-8", "surrogatepass"))
            kind = body["type"]
        except (ValueError, KeyError, TypeError):
            raise ProtocolError(f"not a JSON message with a type: {message.data[:80]!r}") from None
        if kind == "ready":
            self.ready.set()
        elif kind == "ping":
            await self.ws.send_json({"type": "pong", "t": body.get("t")})
        else:
            await self.on_message(str(kind), body)

    async def _transmit(self) -> None:
        await self.ready.wait()
        await self.transmit()

    async def _check_session(self) -> None:
        while True:
            await self.on_check()
            await asyncio.sleep(self.timing.session_check_s)
            if not await still_signed_in(self.request):
                raise SessionEnded()


def install_sockets(app: web.Application) -> None:
    """Keep the open sockets of `app` (once), to tell them on shutdown that we are going away."""
    if sockets_key not in app:
        app[sockets_key] = set()
        app.on_shutdown.append(close_open_sockets)


async def close_open_sockets(app: web.Application) -> None:
    """On shutdown: tell every socket we are going away (1001); the pages reconnect by themselves."""
    sockets: set[web.WebSocketResponse] = app[sockets_key]
    for ws in list(sockets):
        with contextlib.suppress(Exception):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"server shutdown")


async def serve_socket(
    request: web.Request,
    make_session: Callable[[web.Request, web.WebSocketResponse], SocketSession],
) -> web.WebSocketResponse:
    """Run one live socket to its end and close it with the code that says why."""
    ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=64 * 1024)
    await ws.prepare(request)
    if not same_origin(request):
        await ws.close(code=CloseCode.FORBIDDEN, message=b"cross-site socket refused")
        return ws
    open_sockets = request.app[sockets_key]
    open_sockets.add(ws)
    session = make_session(request, ws)
    code: int = CloseCode.SERVER_ERROR
    reason = "server error"
    try:
        await session.open()
        await session.run()
        code, reason = aiohttp.WSCloseCode.OK, ""
    except ClientLeft:
        code, reason = aiohttp.WSCloseCode.OK, ""
    except SessionEnded:
        code, reason = CloseCode.SESSION_ENDED, translate("en", "login.title")
    except ProtocolError as exc:
        code, reason = CloseCode.PROTOCOL_ERROR, str(exc)
        log.info("%s socket of %s: protocol error: %s", session.what, session.who, exc)
    except (ConnectionError, aiohttp.ClientConnectionResetError):  # the network went
        code, reason = aiohttp.WSCloseCode.GOING_AWAY, ""
    except Exception:
        log.exception("%s socket of %s failed", session.what, session.who)
    finally:
        open_sockets.discard(ws)
        with contextlib.suppress(Exception):
            await session.close()
    if not ws.closed:
        await ws.close(code=code, message=reason.encode()[:120])
    return ws
