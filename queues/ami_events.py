"""Translates AMI events and resync snapshots (from `asterisk.ami`) into router calls."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from asterisk.ami import AMISnapshot, ChannelSnapshot
from queues.model import EndCause
from queues.router import Router

log = logging.getLogger(__name__)


class EventSource(Protocol):
    """What we need of `asterisk.ami.AMIClient`."""

    def add_event_handler(self, handler: Any, *event_types: Any) -> None: ...
    def add_reconciler(self, reconciler: Any) -> None: ...


def _field(event: Any, attr: str, header: str) -> str | None:
    """A typed event's attribute, or the header of a plain event (`.get`), or None."""
    value = getattr(event, attr, None)
    if value is None and hasattr(event, "get"):
        try:
            value = event.get(header)
        except Exception:
            value = None
    return None if value is None else str(value)


# the dialplan's plain queue for callers kck cannot serve (asterisk/pbxconfig: `fallback_queue`)
FALLBACK_QUEUE = "kck-fallback"
_FALLBACK_STAGES = {
    "QueueCallerJoin": "joined",
    "AgentConnect": "answered",
    "QueueCallerAbandon": "abandoned",
}


def in_fallback_queue(channel: ChannelSnapshot, queue: str = FALLBACK_QUEUE) -> bool:
    """The channel is in the dialplan's fallback `Queue()` (waiting, or bridged by it)."""
    data = (channel.application_data or "").split(",", 1)[0].strip()
    return (channel.application or "").lower() == "queue" and data == queue


class RouterAMIAdapter:
    """Device states, hang-ups, answers and the fallback queue's events seen on AMI become
    router transitions."""

    EVENTS = (
        "DeviceStateChange",
        "Hangup",
        "DialEnd",
        "OriginateResponse",
        *_FALLBACK_STAGES,
    )

    def __init__(self, router: Router, *, fallback_queue: str = FALLBACK_QUEUE) -> None:
        self.router = router
        self.fallback_queue = fallback_queue

    def attach(self, client: EventSource) -> None:
        client.add_event_handler(self.on_event, *self.EVENTS)
        client.add_reconciler(self.reconcile)

    async def on_event(self, event: Any) -> None:
        name = _field(event, "name", "Event")
        if name == "DeviceStateChange":
            device, state = _field(event, "device", "Device"), _field(event, "state", "State")
            if device and state:
                await self.router.device_state(device, state)
        elif name == "Hangup":
            await self._hangup(_field(event, "channel_uniqueid", "Uniqueid"))
        elif name == "DialEnd":
            await self._dial_end(event)
        elif name == "OriginateResponse":
            await self._originate_response(event)
        elif name in _FALLBACK_STAGES:
            await self._fallback(event, _FALLBACK_STAGES[name])

    async def _fallback(self, event: Any, stage: str) -> None:
        """The dialplan's fallback queue took, connected or lost a caller: kck no longer holds
        them (a call it held leaves the router as `fallback`, never as an abandon), and what
        really happened is recorded as the call's outcome."""
        if _field(event, "queue", "Queue") != self.fallback_queue:
            return
        uniqueid = _field(event, "channel_uniqueid", "Uniqueid")
        if not uniqueid:
            return
        agent = None
        if stage == "answered":  # the member whose phone took it (Interface: PJSIP/101)
            agent = self.router.agent_for_device(_field(event, "interface", "Interface") or "")
        await self.router.fallback_event(uniqueid, stage, agent)

    async def _hangup(self, uniqueid: str | None) -> None:
        if not uniqueid:
            return
        call_id = await self.router.store.call_id_for_uniqueid(uniqueid)
        if call_id is not None:
            call = await self.router.call_state(call_id)
            if call is None:
                return
            if call.get("kind") == "callback":
                return  # the caller left a callback request and hung up: keep the place
            cause = EndCause.COMPLETED if call.get("state") == "on_call" else EndCause.CALLER_HANGUP
            await self.router.call_ended(call_id, cause)
        elif uniqueid.startswith("kck-cb-"):
            # the agent's leg of a callback ended: done if the citizen was reached
            call_id = uniqueid.removeprefix("kck-cb-")
            call = await self.router.call_state(call_id)
            if call is None or call.get("state") != "on_call":
                return  # not answered by the agent: OriginateResponse settles the offer
            if call.get("reached") == "1":
                await self.router.call_ended(call_id, EndCause.CALLBACK_DONE)
            else:  # the agent's channel never got to dial (e.g. no such trunk)
                await self.router.callback_attempt(call_id, "failed", "not_dialled")

    async def _dial_end(self, event: Any) -> None:
        """The caller's channel dialled the agent: ANSWER is the moment the agent picked up.

        Any other end is also reported here, so an offer is settled even when the process
        that ran the Dial died meanwhile (its own report then finds the offer settled)."""
        status = (_field(event, "dial_status", "DialStatus") or "").upper()
        uniqueid = _field(event, "channel_uniqueid", "Uniqueid")
        if not uniqueid or not status:
            return
        if uniqueid.startswith("kck-cb-"):
            # a callback: the agent's channel dialled the citizen through the trunk
            result = "reached" if status == "ANSWER" else "failed"
            await self.router.callback_attempt(uniqueid.removeprefix("kck-cb-"), result, status)
            return
        call_id = await self.router.store.call_id_for_uniqueid(uniqueid)
        if call_id is None:
            return
        call = await self.router.call_state(call_id)
        if not call or call.get("state") != "offered" or not call.get("offer"):
            return
        # a late DialEnd of an earlier offer must not settle the current one (another agent)
        agent = await self.router.agent_status(call.get("agent", ""))
        dial = (await self.router.store.agent(call.get("agent", "")) or {}).get("dial", "")
        dest = (_field(event, "dest_channel", "DestChannel") or "").lower()
        if (
            agent is None
            or not dial
            or not (dest == dial.lower() or dest.startswith(dial.lower() + "-"))
        ):
            return
        if status == "ANSWER":
            await self.router.offer_answered(call["offer"])
        elif status == "NOANSWER":
            await self.router.offer_not_answered(call["offer"], "no_answer")
        elif status in ("BUSY", "CONGESTION", "CHANUNAVAIL"):
            await self.router.offer_not_answered(call["offer"], "busy")
        # CANCEL: the caller hung up; the Hangup event ends the call and frees the agent

    async def _originate_response(self, event: Any) -> None:
        uniqueid = _field(event, "channel_uniqueid", "Uniqueid") or ""
        call_id: str | None = None
        if uniqueid.startswith("kck-cb-"):
            call_id = uniqueid.removeprefix("kck-cb-")
        else:
            # a PBX that ignores ChannelId: the agent's phone (Channel) tells whose callback it is
            username = self.router.agent_for_device(_field(event, "channel", "Channel") or "")
            status = await self.router.agent_status(username) if username else None
            call_id = status.call_id if status and status.offer_id else None
        if call_id is None:
            return
        call = await self.router.call_state(call_id)
        if call is not None and call.get("kind") != "callback":
            return
        if call is None or call.get("state") != "offered":
            return
        if (_field(event, "response", "Response") or "").lower() == "success":
            await self.router.offer_answered(call["offer"])
        else:
            # the agent's phone did not answer (Reason 3) or was busy (5): as with an inbound
            # offer, the callback goes back to the head of the queue for another agent
            reason = _field(event, "reason", "Reason") or ""
            why = "busy" if reason in ("5", "8") else "no_answer" if reason == "3" else "failed"
            await self.router.offer_not_answered(call["offer"], why)

    async def reconcile(self, snapshot: AMISnapshot) -> None:
        fallback = {
            c.uniqueid for c in snapshot.channels if in_fallback_queue(c, self.fallback_queue)
        }
        await self.router.reconcile(
            snapshot.channel_ids(), dict(snapshot.device_states), snapshot.taken_at, fallback
        )
