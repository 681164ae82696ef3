"""One agent's WebSocket: screen-pops and state changes pushed live (built like wazo-websocketd).

A session runs a few tasks under `asyncio.wait(FIRST_COMPLETED)`: receive (the client's `ready`,
pings), transmit (live messages, only after `ready`), and a session check. Whichever ends first
ends the session; the others are cancelled and awaited and the first error is re-raised.
The Redis subscription is made before the client is told anything, so an offer published
between the page load and `ready` waits in the subscription; the current offer is read from
Redis after `ready`, so one made while the page was reloading is shown too (deduplicated).
A desk subscribes to its own agent's channel `agent:<username>` only (its state changes and
offers): the shared `agents` channel carries every agent's changes and is the wall board's.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
from typing import Any

import aiohttp
from aiohttp import web
from redis.asyncio.client import PubSub

from agentdesk.i18n import translate
from agentdesk.keys import backend_key, pops_key
from agentdesk.last_call import remember_last_call
from agentdesk.ports import AgentState, AgentStatus, Offer
from agentdesk.security import _same_origin, current_session, language_of, sessions_key
from agentdesk.sessions import DeskSession
from kck.services import Services
from kck.stopping import TASK_STOP_S, stop_tasks

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 30.0
SESSION_CHECK_S = 15.0
# the desk says it is open this long at a time (renewed at every session check)
DESK_PRESENCE_S = 3 * SESSION_CHECK_S


_CALL_STATES = frozenset({AgentState.OFFERED, AgentState.ON_CALL, AgentState.WRAP_UP})


class CloseCode(enum.IntEnum):
    """Why the server closed the socket (the client reconnects unless told to sign in)."""

    SESSION_ENDED = 4001  # signed out or session expired: go to the login page
    PROTOCOL_ERROR = 4002  # bad message or no `ready` in time
    FORBIDDEN = 4003  # wrong origin
    SERVER_ERROR = 4004  # our fault; the client reconnects


sockets_key: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("desk_sockets")


async def close_open_sockets(app: web.Application) -> None:
    """On shutdown: tell every desk we are going away (1001); their pages reconnect by themselves."""
    sockets = app[sockets_key]
    for ws in list(sockets):
        with contextlib.suppress(Exception):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"server shutdown")


class SessionEnded(Exception):
    pass


class ProtocolError(Exception):
    pass


class ClientLeft(Exception):
    pass


class DeskSocket:
    def __init__(
        self,
        request: web.Request,
        ws: web.WebSocketResponse,
        session: DeskSession,
        services: Services,
    ) -> None:
        self.request = request
        self.ws = ws
        self.session = session
        self.services = services
        self.app = request.app
        self.language = language_of(request)
        self.ready = asyncio.Event()
        self.popped: dict[str, Offer] = {}  # offer id → offer, as sent on this socket

    async def run(self, pubsub: PubSub) -> None:
        tasks = [
            asyncio.create_task(self._receive(), name="desk receive"),
            asyncio.create_task(self._transmit(pubsub), name="desk transmit"),
            asyncio.create_task(self._check_session(), name="desk session check"),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended = [task for task in tasks if task.done()]
            await stop_tasks(
                [task for task in tasks if not task.done()], within=TASK_STOP_S, what="desk socket"
            )
            # why the socket ends: the error of a task that ended by itself (ClientLeft…)
            for task in ended:
                if not task.cancelled() and (exc := task.exception()) is not None:
                    raise exc

    async def _receive(self) -> None:
        async with asyncio.timeout(READY_TIMEOUT_S) as deadline:
            while not self.ready.is_set():
                await self._handle(await self.ws.receive())
            deadline.reschedule(None)
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
            body = json.loads(message.data)
            kind = body["type"]
        except (ValueError, KeyError, TypeError):
            raise ProtocolError(f"not a JSON message with a type: {message.data[:80]!r}") from None
        if kind == "ready":
            self.ready.set()
        elif kind == "shown":
            # the page shows the pop: the caller's side may ring the phone now
            offer = self.popped.get(str(body.get("offer_id")))
            if offer is not None:
                await self.app[backend_key].pop_shown(offer)
        elif kind == "ping":
            await self.ws.send_json({"type": "pong", "t": body.get("t")})
        else:
            raise ProtocolError(f"unknown message type {kind!r}")

    async def _transmit(self, pubsub: PubSub) -> None:
        await self.ready.wait()
        backend = self.app[backend_key]
        status = await backend.status(self.session.username)
        await self._send_state(status)
        offer = await backend.current_offer(self.session.username)
        if offer is not None and status.state in _CALL_STATES:
            await self._pop(offer)
        task = asyncio.current_task()
        while True:
            # redis-py can swallow a cancellation landing while a read times out (it returns
            # None): a cancel that was asked for must still end the loop.
            if task is not None and task.cancelling():
                raise asyncio.CancelledError
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
            if message is None or message.get("type") != "message":
                continue
            try:
                body = json.loads(message["data"])
                kind, data = str(body["type"]), dict(body["data"])
            except (ValueError, KeyError, TypeError):
                log.warning("unreadable live message on %s", message.get("channel"))
                continue
            await self._forward(kind, data)

    async def _forward(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "agent_state":
            if data.get("agent") != self.session.username:
                return
            try:
                status = AgentStatus.from_event(data)
            except ValueError as bad:
                log.warning("desk of %s: %s", self.session.username, bad)
                return
            await self._send_state(status)
        elif kind == "offer":
            await self._pop(Offer.from_json(data))

    async def _send_state(self, status: AgentStatus) -> None:
        """The same shape as on load and from the state API: the router's event is not passed
        through as it is (it says `until_ms`, the page reads `until` and `server_now`)."""
        now = self.services.clock.now()
        await self.ws.send_json({"type": "state", "data": status.as_json(now)})

    async def _pop(self, offer: Offer) -> None:
        if offer.offer_id in self.popped:
            return
        self.popped[offer.offer_id] = offer
        await remember_last_call(self.services, self.session.username, offer.call_id)
        pop = await self.app[pops_key].build(offer, self.language, self.services.clock.now())
        await self.ws.send_json({"type": "pop", "data": pop})

    async def _check_session(self) -> None:
        backend = self.app[backend_key]
        while True:
            await backend.desk_open(self.session.username, DESK_PRESENCE_S)
            await asyncio.sleep(SESSION_CHECK_S)
            if await self.app[sessions_key].get(self.session.id) is None:
                raise SessionEnded()


async def desk_socket(request: web.Request) -> web.StreamResponse:
    from agentdesk.app import services_key

    session = current_session(request)
    services = request.app[services_key]
    ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=64 * 1024)
    await ws.prepare(request)
    if not _same_origin(request):
        await ws.close(code=CloseCode.FORBIDDEN, message=b"cross-site socket refused")
        return ws
    open_sockets = request.app[sockets_key]
    open_sockets.add(ws)
    pubsub = services.redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(services.bus.channel(f"agent:{session.username}"))
    code, reason = CloseCode.SESSION_ENDED, ""
    try:
        await DeskSocket(request, ws, session, services).run(pubsub)
        code = aiohttp.WSCloseCode.OK  # type: ignore[assignment]
    except ClientLeft:
        code = aiohttp.WSCloseCode.OK  # type: ignore[assignment]
    except SessionEnded:
        code, reason = CloseCode.SESSION_ENDED, translate("en", "login.title")
    except (ProtocolError, TimeoutError) as exc:
        code, reason = CloseCode.PROTOCOL_ERROR, str(exc) or "no ready in time"
        log.info("desk socket of %s: protocol error: %s", session.username, exc)
    except (ConnectionError, aiohttp.ClientConnectionResetError):  # the network went
        code = aiohttp.WSCloseCode.GOING_AWAY  # type: ignore[assignment]
    except Exception:
        log.exception("desk socket of %s failed", session.username)
        code, reason = CloseCode.SERVER_ERROR, "server error"
    finally:
        open_sockets.discard(ws)
        with contextlib.suppress(Exception):
            await request.app[backend_key].desk_closed(session.username)
        with contextlib.suppress(Exception):
            await pubsub.aclose()
    if not ws.closed:
        await ws.close(code=code, message=reason.encode()[:120])
    return ws
