"""One agent's WebSocket: screen-pops and state changes pushed live (a `SocketSession`).

The agent's live channel is subscribed before the client is told anything, so an offer published
between the page load and `ready` waits in the subscription; the current state and offer are read
from Redis after `ready` (and again after Redis was away), so one made while the page was
reloading is shown too (deduplicated). A desk subscribes to its own agent's channel
`agent:<username>` only (its state changes and offers): the shared `agents` channel carries every
agent's changes and is the wall board's. While the socket is open the desk counts as open for
the router (renewed at every session check).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from aiohttp import web

from agentdesk.keys import backend_key, pops_key, services_key
from agentdesk.last_call import remember_last_call
from agentdesk.ports import AgentState, AgentStatus, Offer
from agentdesk.refusals import language_of
from agentdesk.security import current_session
from agentdesk.socket_session import SocketSession, serve_socket
from agentdesk.wrap_up_pop import wrap_up_offer
from kck.bus import RESUBSCRIBED, LiveSubscription
from queues.events import AgentStateChanged, decode_event

log = logging.getLogger(__name__)

# the desk says it is open for this many session checks at a time
DESK_PRESENCE_CHECKS = 3
# offers a socket remembers (to send each once, and to find the one the page says it shows)
POPS_REMEMBERED = 8

_CALL_STATES = frozenset({AgentState.OFFERED, AgentState.ON_CALL, AgentState.WRAP_UP})


class DeskSocket(SocketSession):
    what = "desk"

    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        super().__init__(request, ws)
        self.session = current_session(request)
        self.services = self.app[services_key]
        self.backend = self.app[backend_key]
        self.language = language_of(request)
        # offer id → offer, the last POPS_REMEMBERED sent on this socket (a desk stays open all
        # day: every offer of the day kept would grow with the calls)
        self.popped: OrderedDict[str, Offer] = OrderedDict()
        self.live: LiveSubscription | None = None

    async def open(self) -> None:
        channel = f"agent:{self.session.username}"
        self.live = await self.services.bus.subscription(channel).open()

    async def close(self) -> None:
        if self.live is not None:
            await self.live.close()
        await self.backend.desk_closed(self.session.username)

    async def on_message(self, kind: str, body: dict[str, Any]) -> None:
        if kind != "shown":
            await super().on_message(kind, body)
            return
        # the page shows the pop: the caller's side may ring the phone now
        offer = self.popped.get(str(body.get("offer_id")))
        if offer is not None:
            await self.backend.pop_shown(offer)

    async def on_check(self) -> None:
        presence_s = DESK_PRESENCE_CHECKS * self.timing.session_check_s
        await self.backend.desk_open(self.session.username, presence_s)

    async def transmit(self) -> None:
        assert self.live is not None, "transmit runs after open"
        await self._send_current()
        async for kind, data in self.live:
            if kind == RESUBSCRIBED:
                await self._send_current()  # what changed while Redis was away
            else:
                await self._forward(kind, data)

    async def _send_current(self) -> None:
        status = await self.backend.status(self.session.username)
        await self._send_state(status)
        offer = await self.backend.current_offer(self.session.username)
        if offer is None and status.state is AgentState.WRAP_UP:  # ended: the router forgot it
            offer = await wrap_up_offer(
                self.services, self.session.username, self.session.extension
            )
        if offer is not None and status.state in _CALL_STATES:
            await self._pop(offer)

    async def _forward(self, kind: str, data: dict[str, Any]) -> None:
        try:
            event = decode_event(kind, data)
        except ValueError as bad:
            log.warning("desk of %s: %s", self.session.username, bad)
            return
        if isinstance(event, AgentStateChanged):
            if event.agent == self.session.username:
                await self._send_state(AgentStatus.from_change(event))
        elif isinstance(event, Offer):
            await self._pop(event)
        elif kind == "matter_offer":  # a matter without a call (queues.nonvoice): the task list
            await self.ws.send_json({"type": "matter", "data": data.get("item") or {}})

    async def _send_state(self, status: AgentStatus) -> None:
        """The same shape as on load and from the state API: the router's event is not passed
        through as it is (it says `until_ms`, the page reads `until` and `server_now`)."""
        now = self.services.clock.now()
        await self.ws.send_json({"type": "state", "data": status.as_json(now)})

    async def _pop(self, offer: Offer) -> None:
        if offer.offer_id in self.popped:
            return
        self.popped[offer.offer_id] = offer
        while len(self.popped) > POPS_REMEMBERED:
            self.popped.popitem(last=False)
        await remember_last_call(self.services, self.session.username, offer.call_id)
        pop = await self.app[pops_key].build(offer, self.language, self.services.clock.now())
        await self.ws.send_json({"type": "pop", "data": pop})


async def desk_socket(request: web.Request) -> web.StreamResponse:
    return await serve_socket(request, DeskSocket)
