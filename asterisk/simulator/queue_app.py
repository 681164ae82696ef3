"""The dialplan's fallback `Queue()` (strategy ringall): what happens when kck is unavailable."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .ami_protocol import Headers
from .call import DialAttempt, SimulatedCall
from .channel import ChannelState, SimChannel
from .dial import new_agent_leg
from .events import bridge_headers
from .phones import DeviceState, SimulatedPhone
from .scripts import PhoneMode

if TYPE_CHECKING:
    from .pbx import PBXSimulator

AGENT = "agent,all"
CALL = "call,all"
RETRY_SECONDS = 5.0  # queues.conf retry=5


@dataclass
class _Leg:
    phone: SimulatedPhone
    channel: SimChannel


class FallbackQueue:
    """Runs `Queue(<name>,t,,,<max_wait>)` for one caller, with the events app_queue sends."""

    def __init__(
        self,
        pbx: PBXSimulator,
        call: SimulatedCall,
        name: str,
        max_wait: float,
        ring_seconds: float,
    ) -> None:
        self.pbx = pbx
        self.call = call
        self.name = name
        self.max_wait = max_wait
        self.ring_seconds = ring_seconds
        self.joined_at = pbx.clock.now()

    def _queue_event(self, event: str, tail: Headers) -> None:
        self.pbx.events.raw(event, AGENT, [*self.call.channel.headers(), *tail])

    def _agent_event(self, event: str, leg: _Leg, tail: Headers) -> None:
        self.pbx.events.raw(
            event,
            AGENT,
            [
                *self.call.channel.headers(),
                *leg.channel.headers("Dest"),
                ("Queue", self.name),
                ("Interface", leg.phone.device),
                ("MemberName", leg.phone.endpoint),
                *tail,
            ],
        )

    async def run(self) -> None:
        pbx, call, ev = self.pbx, self.call, self.pbx.events
        caller = call.channel
        ev.newexten(caller, "Queue", f"{self.name},t,,,{int(self.max_wait)}")
        for name in (
            "ANSWEREDTIME",
            "ANSWEREDTIME_MS",
            "DIALEDTIME",
            "DIALEDTIME_MS",
            "QUEUEWAIT",
            "QUEUEWAIT_MS",
        ):
            ev.varset(caller, name, "")
        ev.device_state(f"Queue:{self.name}", "RINGING")
        self._queue_event(
            "QueueCallerJoin", [("Queue", self.name), ("Position", "1"), ("Count", "1")]
        )
        call.music_on("default")
        deadline = self.joined_at + self.max_wait
        while not call.caller_gone and pbx.clock.now() < deadline:
            free = [
                p
                for p in pbx.phones.values()
                if p.registered
                and p.state is DeviceState.NOT_INUSE
                and p.behaviour.mode is not PhoneMode.BUSY
            ]
            if not free:
                await call.wait_input(RETRY_SECONDS, "")
                continue
            answered = await self._ring_all(free)
            if answered is not None:
                await self._connect(answered)
                return
            if not call.caller_gone:
                await call.wait_input(RETRY_SECONDS, "")
        if call.caller_gone:
            return  # abandon events were sent where the caller hung up
        call.music_off()
        self._leave()

    def _leave(self) -> None:
        self.pbx.events.device_state(f"Queue:{self.name}", "NOT_INUSE")
        self._queue_event(
            "QueueCallerLeave", [("Queue", self.name), ("Position", "1"), ("Count", "0")]
        )
        self.pbx.events.varset(self.call.channel, "QUEUEPOSITION", "1")

    async def _ring_all(self, phones: list[SimulatedPhone]) -> _Leg | None:
        pbx, call, ev = self.pbx, self.call, self.pbx.events
        caller = call.channel
        legs = []
        for phone in phones:
            leg = _Leg(phone, new_agent_leg(pbx, caller, phone))
            self._agent_event("AgentCalled", leg, [])
            ev.dial("DialBegin", caller, leg.channel, [("DialString", phone.endpoint)])
            leg.channel.state = ChannelState.RINGING
            ev.newstate(leg.channel)
            ev.dial("DialState", caller, leg.channel, [("DialStatus", "RINGING")])
            phone.set_state(DeviceState.RINGING)
            legs.append(leg)
        started = pbx.clock.now()
        answering = [
            (leg.phone.behaviour.answer_after, leg)
            for leg in legs
            if leg.phone.behaviour.mode is PhoneMode.ANSWER
            and leg.phone.behaviour.answer_after < self.ring_seconds
        ]
        first = min(answering, key=lambda pair: pair[0]) if answering else None
        wait_for = first[0] if first else self.ring_seconds
        hung_up = await pbx.clock.wait_for(call.gone, wait_for)
        ring_seconds = pbx.clock.now() - started

        def end_leg(leg: _Leg, status: str, twice: bool = False) -> None:
            for _ in range(2 if twice else 1):
                ev.dial("DialEnd", caller, leg.channel, [("DialStatus", status)])
            ev.hangup(leg.channel, 0)
            pbx.forget_channel(leg.channel)
            leg.phone.set_state(DeviceState.NOT_INUSE)
            call.dial_attempts.append(DialAttempt(leg.phone.endpoint, status, ring_seconds, 0))

        if hung_up:
            for leg in legs:
                end_leg(leg, "CANCEL", twice=True)  # app_queue sends DialEnd twice here
            waited = pbx.clock.now() - self.joined_at
            for name, val in (
                ("QUEUEWAIT", str(int(waited))),
                ("QUEUEWAIT_MS", str(int(waited * 1000))),
                ("DIALEDTIME", str(int(pbx.clock.now() - caller.created_at))),
                ("DIALEDTIME_MS", str(int((pbx.clock.now() - caller.created_at) * 1000))),
                ("ANSWEREDTIME", "0"),
                ("ANSWEREDTIME_MS", "0"),
                ("ABANDONED", "TRUE"),
            ):
                ev.varset(caller, name, val)
            self._queue_event(
                "QueueCallerAbandon",
                [
                    ("Queue", self.name),
                    ("Position", "1"),
                    ("OriginalPosition", "1"),
                    ("HoldTime", str(int(waited))),
                ],
            )
            self._leave()
            return None
        if first is None:
            for leg in legs:
                end_leg(leg, "NOANSWER")
            return None
        winner = first[1]
        for leg in legs:
            if leg is not winner:
                end_leg(leg, "CANCEL")
        return winner

    async def _connect(self, leg: _Leg) -> None:
        pbx, call, ev = self.pbx, self.call, self.pbx.events
        caller, agent, phone = call.channel, leg.channel, leg.phone
        ring_started = agent.created_at
        agent.state = ChannelState.UP
        agent.answered_at = pbx.clock.now()
        ev.newstate(agent)
        phone.set_state(DeviceState.INUSE)
        phone.calls_answered += 1
        ev.dial("DialEnd", caller, agent, [("DialStatus", "ANSWER")])
        call.music_off()
        self._leave()
        hold = pbx.clock.now() - self.joined_at
        ev.varset(caller, "QUEUEWAIT", str(int(hold)))
        ev.varset(caller, "QUEUEWAIT_MS", str(int(hold * 1000)))
        self._agent_event(
            "AgentConnect",
            leg,
            [("HoldTime", str(int(hold))), ("RingTime", str(int(pbx.clock.now() - ring_started)))],
        )
        call.agent = phone.endpoint
        call.agent_answered_at = pbx.clock.now()
        bridge_id = str(uuid.uuid4())
        agent.bridge_id = caller.bridge_id = bridge_id
        ev.raw("BridgeCreate", CALL, bridge_headers(bridge_id, "simple_bridge", 0))
        ev.raw(
            "BridgeEnter", CALL, [*bridge_headers(bridge_id, "simple_bridge", 1), *agent.headers()]
        )
        ev.raw(
            "BridgeEnter", CALL, [*bridge_headers(bridge_id, "simple_bridge", 2), *caller.headers()]
        )
        talk = phone.behaviour.talk_for
        agent_gone = pbx.hangup_event(agent)
        waiters = [
            asyncio.ensure_future(call.gone.wait()),
            asyncio.ensure_future(agent_gone.wait()),
        ]
        try:
            await asyncio.wait(
                waiters,
                timeout=None if talk is None else pbx.clock.real_seconds(talk),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for w in waiters:
                w.cancel()
        talked = pbx.clock.now() - (agent.answered_at or pbx.clock.now())
        reason = "caller" if call.caller_gone else "agent"
        if reason == "agent":
            call.hung_up_by = "agent"
            ev.hangup_request(agent, 16)
            ev.hangup(agent, 16)
        self._agent_event(
            "AgentComplete",
            leg,
            [("HoldTime", str(int(hold))), ("TalkTime", str(int(talked))), ("Reason", reason)],
        )
        phone.set_state(DeviceState.NOT_INUSE)
        ev.raw(
            "BridgeLeave", CALL, [*bridge_headers(bridge_id, "simple_bridge", 1), *agent.headers()]
        )
        ev.raw(
            "BridgeLeave", CALL, [*bridge_headers(bridge_id, "simple_bridge", 0), *caller.headers()]
        )
        now = pbx.clock.now()
        ev.varset(caller, "ANSWEREDTIME", str(int(talked)))
        ev.varset(caller, "ANSWEREDTIME_MS", str(int(talked * 1000)))
        ev.varset(caller, "DIALEDTIME", str(int(now - self.joined_at)))
        ev.varset(caller, "DIALEDTIME_MS", str(int((now - self.joined_at) * 1000)))
        ev.raw("BridgeDestroy", CALL, bridge_headers(bridge_id, "simple_bridge", 0))
        agent.bridge_id = caller.bridge_id = ""
        if reason == "caller":
            ev.hangup_request(agent, 16)
            ev.hangup(agent, 16)
        pbx.forget_channel(agent)
        call.dial_attempts.append(
            DialAttempt(phone.endpoint, "ANSWER", (agent.answered_at or now) - ring_started, talked)
        )
