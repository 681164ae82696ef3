"""The simulated PBX: channels, the kck dialplan, phones, calls, and the AMI server in front."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .agi_client import AGIAddress, FastAGISession, parse_agi_url
from .ami_protocol import Headers
from .call import CallResult, SimulatedCall, StreamControl
from .channel import ChannelState, SimChannel
from .clock import SimClock
from .consult import Consult, TransferPrompt
from .events import ChannelEvents
from .mixmonitor import MixMonitors
from .phones import DeviceState, SimulatedPhone
from .queue_app import FallbackQueue
from .scripts import CallerScript, PhoneBehaviour, SoundLibrary

if TYPE_CHECKING:
    from .ami_server import AMIServer, AMIUser

log = logging.getLogger(__name__)

EventListener = Callable[[str, str, Headers], None]
ANSWER_DELAY = 0.5  # PJSIP Answer(): the next priority ran ~500 ms later in every capture
LOCAL_ANSWER_DELAY = 0.02


@dataclass(frozen=True)
class OriginateRequest:
    """What an AMI Originate asked for, to answer it with `OriginateResponse` at the right time."""

    action_id: str | None
    application: str
    data: str
    variables: tuple[tuple[str, str], ...] = ()

    def respond(self, pbx: PBXSimulator, channel: SimChannel) -> None:
        aid = [("ActionID", self.action_id)] if self.action_id is not None else []
        pbx.events.raw(
            "OriginateResponse",
            "call,all",
            [
                *aid,
                ("Response", "Success"),
                ("Channel", channel.name),
                ("Application", self.application),
                ("Data", self.data),
                ("Reason", "4"),
                ("Uniqueid", channel.uniqueid),
                ("CallerIDNum", channel.callerid_num or "<unknown>"),
                ("CallerIDName", channel.callerid_name or "<unknown>"),
            ],
        )


class PBXSimulator:
    """A stand-in for Asterisk 22 running the kck dialplan (see `docs/simulator.md`).

    `users` maps AMI user names to secrets (or `AMIUser`s with read/write classes);
    `agi_url` is the FastAGI URL(s) the hotline's dialplan calls, tried in order.
    """

    version = "22.10.1"

    def __init__(
        self,
        ami_host: str = "127.0.0.1",
        ami_port: int = 0,
        users: Mapping[str, str | AMIUser] | None = None,
        agi_url: str | Sequence[str] = "agi://127.0.0.1:4573/ivr",
        *,
        speed: float = 1.0,
        clock: SimClock | None = None,
        sounds: SoundLibrary | None = None,
        hotline: str = "126165555",
        inbound_context: str = "kck-inbound",
        agent_context: str = "kck-agents",
        caller_endpoint: str = "sipp",
        sip_domain: str = "127.0.0.1",
        fallback_queue: str = "kck-fallback",
        fallback_ring_seconds: float = 15.0,
        fallback_max_wait: float = 600.0,
        caller_remote_addr: str = "127.0.0.1:5061",
        language: str = "en",
        originate_channels: bool = False,
    ) -> None:
        from .ami_server import AMIServer

        self.clock = clock or SimClock(speed=speed)
        self.sounds = sounds or SoundLibrary()
        self.hotline = hotline
        self.inbound_context = inbound_context
        self.agent_context = agent_context
        self.caller_endpoint = caller_endpoint
        self.sip_domain = sip_domain
        self.fallback_queue = fallback_queue
        self.fallback_ring_seconds = fallback_ring_seconds
        self.fallback_max_wait = fallback_max_wait
        self.caller_remote_addr = caller_remote_addr
        self.language = language  # of every channel (pjsip.conf language=; the captures: en)
        # an Originate to a phone that answers leaves the agent's channel up (its uniqueid the
        # Originate's ChannelId) until it is hung up, as Asterisk does; off by default: the
        # router's tests script the rest of a callback with events of their own
        self.originate_channels = originate_channels
        urls = [agi_url] if isinstance(agi_url, str) else list(agi_url)
        self.agi_addresses = [parse_agi_url(u) for u in urls]
        self.events = ChannelEvents(self._emit)
        self.mixmonitors = MixMonitors(self.clock.now)
        self.events.hangup_listeners.append(lambda ch: self.mixmonitors.hung_up(ch.name))
        self.ami: AMIServer = AMIServer(self, ami_host, ami_port, users or {"kck": "kcksecret"})
        self.channels: dict[str, SimChannel] = {}
        self.phones: dict[str, SimulatedPhone] = {}
        self.calls: list[SimulatedCall] = []
        self.bridges: dict[str, tuple[SimChannel, SimChannel]] = {}
        self.consults: dict[str, Consult] = {}  # by the transferer's channel (AMI Atxfer)
        # attended transfers reading their extension, by the transferer's channel; a test sets
        # transfer_digits_lost to have that many digits they should hear lost (consult.py)
        self.transfer_prompts: dict[str, TransferPrompt] = {}
        self.transfer_digits_lost = 0
        self.fallback_callers: list[FallbackQueue] = []  # in the fallback queue, in order
        self.globals: dict[str, str] = {}
        self.astdb: dict[tuple[str, str], str] = {}
        self.thread_id = 140378894276288
        self.booted_at = self.clock.now()
        self._listeners: list[EventListener] = []
        self._hangup_events: dict[str, asyncio.Event] = {}
        self._channel_seq = 0
        self._uid_seq = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._trunk_calls = 0

    def set_agi_urls(self, agi_url: str | Sequence[str]) -> None:
        """Point the hotline's AGI() at other FastAGI URL(s), e.g. after the server restarted."""
        urls = [agi_url] if isinstance(agi_url, str) else list(agi_url)
        self.agi_addresses = [parse_agi_url(u) for u in urls]

    @property
    def trunk_calls(self) -> int:
        """Calls on the caller endpoint now (its device state is INUSE while > 0)."""
        return self._trunk_calls

    @property
    def channels_created(self) -> int:
        return self._uid_seq

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def ami_port(self) -> int:
        return self.ami.port

    async def start(self) -> None:
        await self.ami.start()

    async def stop(self) -> None:
        for call in list(self.calls):
            call.hangup_channel(16, announce=not call.in_agi)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.mixmonitors.drain()
        await self.ami.stop()

    async def __aenter__(self) -> PBXSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Receive every AMI event (name, privilege, headers) in process; returns unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _emit(self, name: str, privilege: str, headers: Headers) -> None:
        for listener in list(self._listeners):
            listener(name, privilege, headers)
        self.ami.publish(name, privilege, headers)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- phones ----------------------------------------------------------------------------------
    def add_phone(
        self,
        endpoint: str,
        behaviour: PhoneBehaviour | None = None,
        *,
        password: str = "",
        name: str = "",
    ) -> SimulatedPhone:
        """An agent phone; `name` as `kck asterisk config` gives it (caller ID, member name)."""
        phone = SimulatedPhone(endpoint, behaviour or PhoneBehaviour(), password, name)
        phone._notify = lambda p: self.events.device_state(p.device, p.state.value)
        self.phones[endpoint] = phone
        return phone

    def phone_for_dial_target(self, target: str) -> SimulatedPhone | None:
        tech, _, rest = target.partition("/")
        if tech.upper() != "PJSIP":
            return None
        return self.phones.get(rest.split("/")[0].split("@")[0])

    def device_states(self) -> list[tuple[str, str]]:
        states = [(p.device, p.state.value) for p in self.phones.values()]
        trunk = "INUSE" if self._trunk_calls else "NOT_INUSE"
        return [(f"PJSIP/{self.caller_endpoint}", trunk), *states]

    # -- channels --------------------------------------------------------------------------------
    def new_channel(
        self,
        prefix: str,
        *,
        context: str,
        exten: str,
        linkedid: str | None = None,
        suffix: str = "",
        same_seq: bool = False,
    ) -> SimChannel:
        if same_seq:
            self._channel_seq -= 1
        name = f"{prefix}-{self._channel_seq:08x}{suffix}"
        self._channel_seq += 1
        now = self.clock.now()
        uniqueid = f"{int(now)}.{self._uid_seq}"
        self._uid_seq += 1
        ch = SimChannel(
            name=name,
            uniqueid=uniqueid,
            linkedid=linkedid or uniqueid,
            context=context,
            exten=exten,
            language=self.language,
            created_at=now,
        )
        self.channels[name] = ch
        self._hangup_events[name] = asyncio.Event()
        return ch

    def channel_named(self, name_or_uniqueid: str) -> SimChannel | None:
        """A channel by its name or its uniqueid: Asterisk's AMI takes either (MixMonitor…)."""
        found = self.channels.get(name_or_uniqueid)
        if found is None:
            found = next(
                (c for c in self.channels.values() if c.uniqueid == name_or_uniqueid), None
            )
        return found

    def originated_channel(self, phone: str, uniqueid: str = "") -> SimChannel:
        """The agent's channel an Originate rang and the phone answered, up until hung up;
        `uniqueid`: the Originate's ChannelId, if it gave one."""
        ch = self.new_channel(f"PJSIP/{phone}", context=self.agent_context, exten="s")
        if uniqueid:
            ch.uniqueid = ch.linkedid = uniqueid
        ch.state = ChannelState.UP
        self.events.newchannel(ch)

        async def until_hung_up() -> None:
            await self.hangup_event(ch).wait()
            ch.hung_up = True
            self.events.hangup(ch, 16)
            self.forget_channel(ch)

        self.spawn(until_hung_up())
        return ch

    def forget_channel(self, ch: SimChannel) -> None:
        self.channels.pop(ch.name, None)
        self._hangup_events.pop(ch.name, None)

    def hangup_event(self, ch: SimChannel) -> asyncio.Event:
        return self._hangup_events.setdefault(ch.name, asyncio.Event())

    def call_for_channel(self, name: str) -> SimulatedCall | None:
        """The call whose AGI channel (PJSIP caller, or `;2` of a Local caller) this is."""
        return next((c for c in self.calls if c.channel.name == name), None)

    def request_hangup(self, name: str, cause: int | None) -> bool:
        """AMI `Hangup` / AGI `HANGUP <channel>`: False when there is no such channel."""
        ch = self.channels.get(name)
        if ch is None or ch.hung_up:
            return False
        call = self.call_for_channel(name)
        peer_of = next((c for c in self.calls if c.peer is not None and c.peer.name == name), None)
        if call is not None:
            # the AGI channel itself: silent while the AGI runs (the capture shows no event
            # until the AGI ends), announced at once when it is elsewhere in the dialplan
            call.hangup_channel(cause, announce=not call.in_agi)
        elif peer_of is not None:
            peer_of.caller_hangup(cause if cause is not None else 0, by="pbx")
        else:
            self.events.soft_hangup_request(ch, cause if cause is not None else 16)
            self.hangup_event(ch).set()
        return True

    def control_playback(self, name: str, control: StreamControl) -> None:
        """AMI `ControlPlayback` on an existing channel: reaches the AGI command that plays or
        waits for a key on it, if one runs; otherwise it is dropped (see `SimulatedCall`)."""
        call = self.call_for_channel(name)
        if call is not None:
            call.control_playback(control)

    def redirect(self, name: str, context: str, exten: str, priority: int) -> bool:
        call = self.call_for_channel(name)
        if call is None:
            return False
        call.redirect(context, exten, priority)
        return True

    # -- variables -------------------------------------------------------------------------------
    def lookup_variable(self, ch: SimChannel | None, name: str) -> str | None:
        """A channel variable, global or dialplan function as Asterisk resolves them."""
        upper = name.upper()
        if ch is not None:
            if upper in ("CALLERID(NAME)", "CALLERID(NAME-PRES)"):
                return ch.callerid_name
            if upper in ("CALLERID(NUM)", "CALLERID(NUMBER)"):
                return ch.callerid_num
            if upper == "CALLERID(ALL)":
                return f'"{ch.callerid_name}" <{ch.callerid_num}>'
            if upper in ("CHANNEL", "CHANNEL(NAME)"):
                return ch.name
            if upper == "UNIQUEID":
                return ch.uniqueid
            if upper == "CONTEXT":
                return ch.context
            if upper == "EXTEN":
                return ch.exten
            if upper == "CHANNEL(LANGUAGE)":
                return ch.language
            if upper == "CHANNEL(AUDIOREADFORMAT)":
                return "ulaw" if ch.tech == "PJSIP" else "slin"
            if upper == "CHANNEL(DTMF_FEATURES)":
                return ""
            if upper == "CHANNEL(PJSIP,REMOTE_ADDR)" and ch.tech == "PJSIP":
                return self.caller_remote_addr
            if upper == "BRIDGEPEER":
                # the other channel of its two-party bridge; '' when not bridged (as Asterisk)
                for pair in self.bridges.values():
                    if ch in pair:
                        return pair[1].name if pair[0] is ch else pair[0].name
                return ""
            if upper == "HANGUPCAUSE":
                return ch.variables.get(
                    "HANGUPCAUSE",
                    "16"
                    if "DIALSTATUS" in ch.variables and ch.variables.get("DIALSTATUS") == "ANSWER"
                    else "0",
                )
            if name in ch.variables:
                return ch.variables[name]
        if upper == "EPOCH":
            return str(int(self.clock.now()))
        m = re.fullmatch(r"LEN\((.*)\)", name, flags=re.S)
        if m:
            return str(len(m.group(1).encode("utf-8")))
        return self.globals.get(name)

    def substitute(self, ch: SimChannel | None, expr: str) -> str:
        """Expand `${...}` references (nested, e.g. `${LEN(${CALLERID(name)})}`)."""
        out = []
        i = 0
        while i < len(expr):
            if expr.startswith("${", i):
                depth, j = 1, i + 2
                while j < len(expr) and depth:
                    if expr.startswith("${", j):
                        depth += 1
                        j += 2
                        continue
                    if expr[j] == "}":
                        depth -= 1
                    j += 1
                inner = self.substitute(ch, expr[i + 2 : j - 1])
                out.append(self.lookup_variable(ch, inner) or "")
                i = j
            else:
                out.append(expr[i])
                i += 1
        return "".join(out)

    # -- calls -----------------------------------------------------------------------------------
    def place_call(
        self, script: CallerScript, *, originate: OriginateRequest | None = None
    ) -> SimulatedCall:
        """Start a simulated inbound call to the hotline; `await` the result for its outcome.

        A `Local` script is what AMI `Originate` of `Local/<hotline>@<context>` makes: the AGI
        runs on the `;2` half, the `;1` half plays the caller (`originate` describes the action).
        """
        peer = None
        if script.channel == "Local":
            base = f"Local/{script.dialed}@{self.inbound_context}"
            peer = self.new_channel(
                base, context=self.inbound_context, exten=script.dialed, suffix=";1"
            )
            ch = self.new_channel(
                base,
                context=self.inbound_context,
                exten=script.dialed,
                linkedid=peer.uniqueid,
                suffix=";2",
                same_seq=True,
            )
        else:
            ch = self.new_channel(
                f"PJSIP/{self.caller_endpoint}", context=self.inbound_context, exten=script.dialed
            )
        ch.state = ChannelState.RING
        if script.withheld:
            ch.callerid_num, ch.callerid_name = "anonymous", "Anonymous"
        else:
            ch.callerid_num = script.number or ""
            ch.callerid_name = script.name or ""
        call = SimulatedCall(self, script, ch, started_at=self.clock.now())
        call.peer = peer
        call.originate = originate
        self.calls.append(call)
        self.spawn(self._run_call(call))
        if script.patience is not None:
            self.spawn(self._patience(call, script.patience))
        return call

    async def _patience(self, call: SimulatedCall, seconds: float) -> None:
        await self.clock.sleep(seconds)
        if not call.done:
            call.caller_hangup(None, by="caller")

    async def _run_call(self, call: SimulatedCall) -> None:
        try:
            await self._dialplan(call)
        except asyncio.CancelledError:
            call.finish(CallResult.CALLER_HUNG_UP)
            raise
        except Exception as exc:
            log.exception("simulated call %s failed", call.channel.name)
            call.fail(exc)
        finally:
            if call in self.calls:
                self.calls.remove(call)
            self.forget_channel(call.channel)

    def local_device(self, call: SimulatedCall) -> str:
        return f"Local/{call.script.dialed}@{self.inbound_context}"

    def _arrive_pjsip(self, call: SimulatedCall) -> None:
        """A SIP INVITE on the trunk endpoint, then NoOp and Answer() of the hotline."""
        ev = self.events
        ch = call.channel
        ev.newchannel(ch)
        ev.varset(ch, "SIPDOMAIN", self.sip_domain)
        shown = f'"{ch.callerid_name}" <{ch.callerid_num}>'
        ev.newexten(ch, "NoOp", f"KCK inbound call from {shown} to {call.script.dialed}")
        ch.priority = 2
        ev.newexten(ch, "Answer", "")
        ch.state = ChannelState.UP
        ch.answered_at = self.clock.now()
        ev.newstate(ch)
        self._trunk_calls += 1
        if self._trunk_calls == 1:
            ev.device_state(f"PJSIP/{self.caller_endpoint}", DeviceState.INUSE.value)

    def _arrive_local(self, call: SimulatedCall) -> None:
        """AMI Originate of Local/<hotline>@<context>: the pair, LocalBridge, the originate's
        own Dial of ;1, then ;2 runs NoOp and Answer()."""
        ev = self.events
        one, two = call.peer, call.channel
        assert one is not None
        num, name = two.callerid_num, two.callerid_name
        two.callerid_num = two.callerid_name = ""
        variables = call.originate.variables if call.originate is not None else ()
        ev.newchannel(one)
        ev.newchannel(two)
        ev.newexten(one, "AppDial2", "(Outgoing Line)")
        for key, val in variables:
            ev.varset(one, key, val)
        one.callerid_num, one.callerid_name = num, name
        ev.newcallerid(one)
        one.connected_num, one.connected_name = num, name
        ev.newconnectedline(one)
        for key, val in variables:
            ev.varset(two, key, val)
        two.callerid_num, two.callerid_name = num, name
        ev.newcallerid(two)
        two.connected_num, two.connected_name = num, name
        ev.newconnectedline(two)
        ev.raw(
            "LocalBridge",
            "call,all",
            [
                *[("LocalOne" + k, v) for k, v in one.headers()],
                *[("LocalTwo" + k, v) for k, v in two.headers()],
                ("Context", self.inbound_context),
                ("Exten", call.script.dialed),
                ("LocalOptimization", "Yes"),
            ],
        )
        ev.dial_no_caller(
            "DialBegin", one, [("DialString", f"{call.script.dialed}@{self.inbound_context}")]
        )
        if call.originate is not None:
            call.originate.respond(self, one)
        shown = f'"{name}" <{num}>'
        ev.newexten(two, "NoOp", f"KCK inbound call from {shown} to {call.script.dialed}")
        two.priority = 2
        ev.newexten(two, "Answer", "")
        one.state = ChannelState.UP
        one.answered_at = self.clock.now()
        ev.newstate(one)
        ev.dial_no_caller("DialEnd", one, [("DialStatus", "ANSWER")])
        if call.originate is not None and call.originate.application.lower() == "musiconhold":
            # the originate's own application runs on ;1 (the "caller" hears music)
            one.application, one.app_data = "MusicOnHold", call.originate.data
            call.peer_moh = call.originate.data.split(",")[0] or "default"
            ev.moh_start(one, call.peer_moh)
        elif call.originate is not None:
            one.application, one.app_data = call.originate.application, call.originate.data
        two.state = ChannelState.UP
        two.answered_at = self.clock.now()
        ev.newstate(two)
        device = self.local_device(call)
        ev.device_state(device, "INUSE")
        ev.device_state(device, "INUSE")

    async def _dialplan(self, call: SimulatedCall) -> None:
        ev = self.events
        ch = call.channel
        local = call.peer is not None
        if local:
            self._arrive_local(call)
        else:
            self._arrive_pjsip(call)
        try:
            await call.wait_input(LOCAL_ANSWER_DELAY if local else ANSWER_DELAY, "")
            ch.priority = 3
            epoch = str(int(self.clock.now()))
            ev.newexten(ch, "Set", f"KCK_INBOUND={epoch}")
            ev.varset(ch, "KCK_INBOUND", epoch)
            await self._run_agis(call)
        finally:
            self._final_hangup(call)

    def _final_hangup(self, call: SimulatedCall) -> None:
        ev = self.events
        ch = call.channel
        peer = call.peer
        # the channel's hangup cause: Normal Clearing once it was bridged to an agent (the
        # bridge sets it), else still unset (0), unless AMI gave one -- as in every capture;
        # a Local ;1 half goes with the same cause
        cause = 16 if call.agent is not None else 0
        if call.hangup_cause is not None:
            cause = call.hangup_cause
        if not ch.hung_up:
            if call.caller_gone or call.agi_dead:
                if not call.soft_hangup_announced:
                    ev.soft_hangup_request(ch, 16)
                    if peer is not None and not peer.hung_up:
                        ev.hangup_request(peer, cause)
                ev.hangup(ch, cause)
            else:
                ev.hangup(ch, 16)
                cause = 16
        if peer is not None:
            if not peer.hung_up and call.peer_moh is not None:
                call.peer_moh = None
                ev.moh_stop(peer)
            if not peer.hung_up:
                ev.hangup(peer, cause)
                ev.device_state(self.local_device(call), "NOT_INUSE")
                self.forget_channel(peer)
            ev.device_state(self.local_device(call), "NOT_INUSE")
            return
        self._trunk_calls -= 1
        if self._trunk_calls == 0:
            ev.device_state(f"PJSIP/{self.caller_endpoint}", DeviceState.NOT_INUSE.value)

    async def _one_agi(self, call: SimulatedCall, address: AGIAddress) -> str:
        """One `AGI()` application: returns (and sets) AGISTATUS."""
        session = FastAGISession(self, call, address)
        if not await session.connect():
            status = "FAILURE"
        else:
            call.in_agi = True
            try:
                await session.run()
            finally:
                call.in_agi = False
            status = "HANGUP" if call.agi_dead and not call.redirected else "SUCCESS"
        self.events.varset(call.channel, "AGISTATUS", status)
        call.agi_status = status
        call.agi_finished.set()
        return status

    async def _run_agis(self, call: SimulatedCall) -> None:
        """Priorities 4 and on of the shipped extensions.conf (see asterisk/pbxconfig): one
        `AGI()` per FastAGI URL with its checks, then `Queue(kck-fallback)` or `Hangup()`."""
        ev = self.events
        ch = call.channel
        last = len(self.agi_addresses) - 1
        for n, address in enumerate(self.agi_addresses):
            if call.caller_gone:
                break
            ch.priority = 4 + 6 * n
            ev.newexten(ch, "AGI", address.url)
            status = await self._one_agi(call, address)
            if status == "HANGUP" or call.caller_gone:
                # a hung-up channel runs no more dialplan
                call.hung_up_by = call.hung_up_by or "controller"
                call.finish(
                    CallResult.TALKED_TO_AGENT
                    if call.agent is not None
                    else CallResult.ENDED_BY_CONTROLLER
                    if call.hung_up_by in ("controller", "pbx")
                    else CallResult.CALLER_HUNG_UP
                )
                return
            if call.redirected or (ch.context, ch.exten) != (
                self.inbound_context,
                call.script.dialed,
            ):
                # AMI Redirect, or the AGI's SET CONTEXT/EXTENSION/PRIORITY: continue there
                if not call.redirected:
                    call.redirect_target = (ch.context, ch.exten, ch.priority)
                await self._redirected(call)
                return
            done = ch.variables.get("KCK_DONE", "")
            failure = ch.variables.get("KCK_AGI_FAILURE", "")

            def step(application: str, data: str) -> None:
                ch.priority += 1
                ev.newexten(ch, application, data)

            step("NoOp", f"AGISTATUS={status} KCK_DONE={done} KCK_AGI_FAILURE={failure}")
            step("GotoIf", "0?done")
            step("GotoIf", f"{int(failure != '')}?fallback")
            if failure:
                break
            step("GotoIf", f"{int(done == '1')}?done")
            if done == "1":
                ch.priority = 11 + 6 * last
                ev.newexten(ch, "Hangup", "")
                call.hung_up_by = call.hung_up_by or "controller"
                ev.soft_hangup_request(ch, 16)
                ev.hangup(ch, 16)
                call.finish(
                    CallResult.TALKED_TO_AGENT if call.agent else CallResult.ENDED_BY_CONTROLLER
                )
                return
            if n < last:
                step("GotoIf", f"{int(status != 'FAILURE')}?fallback")
                if status != "FAILURE":
                    break
        if call.caller_gone:
            call.finish(CallResult.CALLER_HUNG_UP)
            return
        ch.priority = 9 + 6 * last
        await self._fallback_queue(call)

    async def _fallback_queue(self, call: SimulatedCall) -> None:
        """`Queue(kck-fallback)` with every phone a member (ringall), as the shipped dialplan
        does when kck is unavailable; then `Hangup()` after a timeout. After a bridged call
        Queue() returns -1 (no option `c`), so the channel is hung up where it is (priority of
        Queue, as captured), without running `Hangup()`."""
        ch = call.channel
        ev = self.events
        ev.newexten(ch, "NoOp", f"kck unavailable: fallback queue {self.fallback_queue}")
        ch.priority += 1
        bridged = await FallbackQueue(
            self, call, self.fallback_queue, self.fallback_max_wait, self.fallback_ring_seconds
        ).run()
        if not call.caller_gone:
            if not bridged:
                ch.priority += 1
                ev.newexten(ch, "Hangup", "")
            ev.soft_hangup_request(ch, 16)
            call.hung_up_by = call.hung_up_by or "pbx"
        call.finish(CallResult.FALLBACK_QUEUE if call.agent else CallResult.CALLER_HUNG_UP)

    async def _redirected(self, call: SimulatedCall) -> None:
        ch = call.channel
        context, exten, priority = call.redirect_target
        ch.context, ch.exten, ch.priority = context, exten, priority
        self.events.newexten(ch, "MusicOnHold", "default")
        call.music_on("default")
        await call.gone.wait()
        call.finish(CallResult.REDIRECTED)
