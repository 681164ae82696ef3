"""The dialplan's fallback `Queue()` (strategy ringall): what happens when kck is unavailable.

Event for event as app_queue sent them on the real Asterisk 22.10.1
(`tests/data/real_asterisk/fallback-queue-events.json`: a caller answered by a PJSIP phone, a
caller who hangs up while waiting; `ami-session.jsonl`: answered and abandoned while ringing).
What no capture shows follows app_queue.c: the callers' positions, that only the first caller
rings the phones (ringall), the answer's order (`DialEnd ANSWER`, then `CANCEL` for the others)
and `AgentRingNoAnswer`.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .ami_protocol import Headers
from .call import DialAttempt, SimulatedCall
from .channel import ChannelState, SimChannel
from .events import bridge_headers
from .phones import DeviceState, SimulatedPhone
from .scripts import PhoneMode

if TYPE_CHECKING:
    from .pbx import PBXSimulator

AGENT = "agent,all"
CALL = "call,all"
RETRY_SECONDS = 5.0  # queues.conf retry=5: the wait after a round in which nobody answered
RECHECK_SECONDS = 1.0  # app_queue's RECHECK: a caller who may not ring anyone looks again


@dataclass
class _Leg:
    phone: SimulatedPhone
    channel: SimChannel
    # the agent channel as last published (Newchannel / NewCallerid): what DialBegin reports,
    # before app_queue set its extension and connected line without publishing them
    published: Headers


class FallbackQueue:
    """Runs `Queue(<name>,t,,,<max_wait>)` for one caller, with the events app_queue sends.

    The callers of the queue, in order, are `pbx.fallback_callers`.
    """

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
        self.callers = pbx.fallback_callers
        self.original_position = 0

    @property
    def position(self) -> int:
        return self.callers.index(self) + 1

    def _queue_event(self, event: str, tail: Headers) -> None:
        self.pbx.events.raw(event, AGENT, [*self.call.channel.headers(), *tail])

    def _agent_event(
        self, event: str, leg: _Leg, tail: Headers, dest: Headers | None = None
    ) -> None:
        self.pbx.events.raw(
            event,
            AGENT,
            [
                *self.call.channel.headers(),
                *(leg.channel.headers("Dest") if dest is None else dest),
                ("Queue", self.name),
                ("Interface", leg.phone.device),
                ("MemberName", leg.phone.member_name),
                *tail,
            ],
        )

    async def run(self) -> bool:
        """Until the caller is answered (True: the bridged call is over and Queue() returns -1,
        so the channel is hung up), hangs up, or waited `max_wait` (False)."""
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
        self._join()
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
            if not free or self.position != 1:
                # ringall: only the first caller rings, and only phones that are free
                await call.wait_input(RECHECK_SECONDS, "")
                continue
            answered = await self._ring_all(free)
            if answered is not None:
                await self._connect(*answered)
                return True
            if not call.caller_gone:
                await call.wait_input(RETRY_SECONDS, "")
        if call.caller_gone:
            if self in self.callers:  # hung up while waiting, not while the phones rang
                self._abandon()
            return False
        call.music_off()
        self._leave()
        return False

    def _join(self) -> None:
        self.callers.append(self)
        self.original_position = count = len(self.callers)
        if count == 1:
            self.pbx.events.device_state(f"Queue:{self.name}", "RINGING")
        self._queue_event(
            "QueueCallerJoin",
            [("Queue", self.name), ("Position", str(count)), ("Count", str(count))],
        )

    def _leave(self) -> None:
        position = self.position
        self.callers.remove(self)
        count = len(self.callers)
        if count == 0:
            self.pbx.events.device_state(f"Queue:{self.name}", "NOT_INUSE")
        self._queue_event(
            "QueueCallerLeave",
            [("Queue", self.name), ("Position", str(position)), ("Count", str(count))],
        )
        self.pbx.events.varset(self.call.channel, "QUEUEPOSITION", str(position))

    def _abandon(self) -> None:
        """The caller hung up in the queue: `QueueCallerAbandon`, then `QueueCallerLeave`."""
        self.pbx.events.varset(self.call.channel, "ABANDONED", "TRUE")
        self._queue_event(
            "QueueCallerAbandon",
            [
                ("Queue", self.name),
                ("Position", str(self.position)),
                ("OriginalPosition", str(self.original_position)),
                ("HoldTime", str(int(self.pbx.clock.now() - self.joined_at))),
            ],
        )
        self._leave()

    def _new_leg(self, phone: SimulatedPhone) -> _Leg:
        """ring_entry(): the agent channel, its caller ID, then AgentCalled and DialBegin."""
        pbx, ev, caller = self.pbx, self.pbx.events, self.call.channel
        phone.calls_offered += 1
        agent = pbx.new_channel(
            f"PJSIP/{phone.endpoint}",
            context=pbx.agent_context,
            exten="s",
            linkedid=caller.linkedid,
        )
        if phone.name:  # the endpoint's own caller ID (pjsip.conf callerid=)
            agent.callerid_num, agent.callerid_name = phone.endpoint, phone.name
        ev.newchannel(agent)
        ev.varset(agent, "DIALEDPEERNUMBER", phone.endpoint)
        if not phone.name:
            # "If the new channel has no callerid, try to guess": the number the caller dialled
            agent.callerid_num = self.call.script.dialed
            ev.newcallerid(agent)
        leg = _Leg(phone, agent, agent.headers("Dest"))
        agent.connected_num, agent.connected_name = caller.callerid_num, caller.callerid_name
        agent.exten = caller.exten
        self._agent_event("AgentCalled", leg, [])
        ev.raw("DialBegin", CALL, [*caller.headers(), *leg.published, ("DialString", phone.device)])
        return leg

    async def _ring_all(
        self, phones: list[SimulatedPhone]
    ) -> tuple[_Leg, list[_Leg], float] | None:
        """One ring round; (the leg that answered, the others, ring seconds) or None."""
        pbx, call, ev = self.pbx, self.call, self.pbx.events
        caller = call.channel
        legs = []
        for phone in phones:
            leg = self._new_leg(phone)
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

        if hung_up:
            for leg in legs:
                for _ in range(2):  # app_queue sends DialEnd twice here
                    ev.dial("DialEnd", caller, leg.channel, [("DialStatus", "CANCEL")])
                self._end_leg(leg, "CANCEL", ring_seconds)
            waited = pbx.clock.now() - self.joined_at
            for name, val in (
                ("QUEUEWAIT", str(int(waited))),
                ("QUEUEWAIT_MS", str(int(waited * 1000))),
                ("DIALEDTIME", str(int(pbx.clock.now() - caller.created_at))),
                ("DIALEDTIME_MS", str(int((pbx.clock.now() - caller.created_at) * 1000))),
                ("ANSWEREDTIME", "0"),
                ("ANSWEREDTIME_MS", "0"),
            ):
                ev.varset(caller, name, val)
            self._abandon()
            return None
        if first is None:
            for leg in legs:  # rna(): each phone that rang, then one DialEnd per phone
                self._agent_event(
                    "AgentRingNoAnswer", leg, [("RingTime", str(int(self.ring_seconds * 1000)))]
                )
            for leg in legs:
                ev.dial("DialEnd", caller, leg.channel, [("DialStatus", "NOANSWER")])
            for leg in legs:
                self._end_leg(leg, "NOANSWER", ring_seconds)
            return None
        winner = first[1]
        return winner, [leg for leg in legs if leg is not winner], ring_seconds

    def _end_leg(self, leg: _Leg, status: str, ring_seconds: float) -> None:
        self.pbx.events.hangup(leg.channel, 0)
        self.pbx.forget_channel(leg.channel)
        leg.phone.set_state(DeviceState.NOT_INUSE)
        self.call.dial_attempts.append(DialAttempt(leg.phone.endpoint, status, ring_seconds, 0))

    async def _connect(self, leg: _Leg, others: list[_Leg], ring_seconds: float) -> None:
        pbx, call, ev = self.pbx, self.call, self.pbx.events
        caller, agent, phone = call.channel, leg.channel, leg.phone
        agent.state = ChannelState.UP
        agent.answered_at = pbx.clock.now()
        ev.newstate(agent)
        phone.set_state(DeviceState.INUSE)
        phone.calls_answered += 1
        ev.dial("DialEnd", caller, agent, [("DialStatus", "ANSWER")])
        for other in others:
            ev.dial("DialEnd", caller, other.channel, [("DialStatus", "CANCEL")])
        if phone.name:
            # a phone with its own caller ID becomes the caller's connected line on answer
            caller.connected_num, caller.connected_name = phone.endpoint, phone.name
            ev.newconnectedline(caller)
        for other in others:
            self._end_leg(other, "CANCEL", ring_seconds)
        call.music_off()
        self._leave()
        hold = pbx.clock.now() - self.joined_at
        ev.varset(caller, "QUEUEWAIT", str(int(hold)))
        ev.varset(caller, "QUEUEWAIT_MS", str(int(hold * 1000)))
        self._agent_event(
            "AgentConnect",
            leg,
            [("HoldTime", str(int(hold))), ("RingTime", str(int(ring_seconds)))],
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
        by_caller = call.caller_gone
        if not by_caller:
            call.hung_up_by = "agent"
            ev.hangup_request(agent, None)  # the phone's BYE: no Cause header (as captured)
        self._agent_event(
            "AgentComplete",
            leg,
            [
                ("HoldTime", str(int(hold))),
                ("TalkTime", str(int(talked))),
                ("Reason", "caller" if by_caller else "agent"),
            ],
        )
        phone.set_state(DeviceState.NOT_INUSE)
        # the one who hung up leaves the bridge first
        first_out, last_out = (caller, agent) if by_caller else (agent, caller)
        for channel, left in ((first_out, 1), (last_out, 0)):
            ev.raw(
                "BridgeLeave",
                CALL,
                [*bridge_headers(bridge_id, "simple_bridge", left), *channel.headers()],
            )
        now = pbx.clock.now()
        ev.varset(caller, "ANSWEREDTIME", str(int(talked)))
        ev.varset(caller, "ANSWEREDTIME_MS", str(int(talked * 1000)))
        ev.varset(caller, "DIALEDTIME", str(int(now - self.joined_at)))
        ev.varset(caller, "DIALEDTIME_MS", str(int((now - self.joined_at) * 1000)))
        if by_caller:
            ev.hangup_request(agent, 16)
        ev.hangup(agent, 16)
        ev.raw("BridgeDestroy", CALL, bridge_headers(bridge_id, "simple_bridge", 0))
        agent.bridge_id = caller.bridge_id = ""
        pbx.forget_channel(agent)
        call.dial_attempts.append(DialAttempt(phone.endpoint, "ANSWER", ring_seconds, talked))
