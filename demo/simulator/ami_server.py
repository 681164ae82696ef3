"""The simulator's AMI server: Asterisk 22's banner, login, actions and event stream on real TCP."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .ami_protocol import BANNER, AMIAction, AMIFrameError, Headers, encode_message, parse_action
from .call import StreamControl
from .consult import digit_heard, end_consult, start_consult
from .events import CALL
from .pbx import OriginateRequest
from .scripts import CallerScript

if TYPE_CHECKING:
    from .pbx import PBXSimulator

log = logging.getLogger(__name__)

ALL_CLASSES = frozenset(
    {
        "system",
        "call",
        "log",
        "verbose",
        "command",
        "agent",
        "user",
        "config",
        "dtmf",
        "reporting",
        "cdr",
        "dialplan",
        "originate",
        "agi",
        "cc",
        "aoc",
        "test",
        "security",
        "message",
    }
)
MAX_FRAME = 64 * 1024
UNKNOWN_ACTION = "Invalid/unknown command: {}. Use Action: ListCommands to show available commands."
# ControlPlayback's `Control:` values (app_controlplayback.c)
PLAYBACK_CONTROLS = {
    "stop": StreamControl.STOP,
    "forward": StreamControl.FORWARD,
    "reverse": StreamControl.REVERSE,
    "pause": StreamControl.PAUSE,
    "restart": StreamControl.RESTART,
}
# Which write class each action needs (manager.conf "write =").
ACTION_CLASS = {
    "originate": "originate",
    "hangup": "system",
    "redirect": "call",
    "atxfer": "call",
    "cancelatxfer": "call",
    "playdtmf": "call",
    "controlplayback": "call",
    "mixmonitor": "system",
    "stopmixmonitor": "system",
    "mixmonitormute": "system",
    "getvar": "call",
    "setvar": "call",
    "coreshowchannels": "system",
    "devicestatelist": "call",
    "queuestatus": "",
    "pjsipshowendpoints": "system",
    "command": "command",
    "status": "system",
    "filter": "system",
    "events": "",
    "ping": "",
    "logoff": "",
    "coresettings": "system",
    "corestatus": "system",
}


@dataclass(frozen=True)
class AMIUser:
    """A manager.conf user: secret, read/write classes, and `permit` networks (empty = any)."""

    secret: str
    read: frozenset[str] = ALL_CLASSES
    write: frozenset[str] = ALL_CLASSES
    permit: tuple[str, ...] = ()

    def permits(self, address: str) -> bool:
        if not self.permit:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(net, strict=False) for net in self.permit)


class AMIServer:
    """Listens like Asterisk's manager on `host:port` (port 0 picks a free one)."""

    def __init__(
        self, pbx: PBXSimulator, host: str, port: int, users: Mapping[str, str | AMIUser]
    ) -> None:
        self.pbx = pbx
        self.host = host
        self._port = port
        self.users = {
            name: (u if isinstance(u, AMIUser) else AMIUser(u)) for name, u in users.items()
        }
        self.sessions: set[AMISession] = set()
        self._server: asyncio.base_events.Server | None = None

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for session in list(self.sessions):
            session.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
        self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AMISession(self, reader, writer)
        self.sessions.add(session)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)
            session.close()

    def publish(self, name: str, privilege: str, headers: Headers) -> None:
        classes = set(privilege.split(",")) - {"all"}
        message = [("Event", name), ("Privilege", privilege), *headers]
        for session in list(self.sessions):
            session.deliver_event(message, classes)


@dataclass(eq=False)
class AMISession:
    server: AMIServer
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    user: str | None = None
    events_on: bool = True
    event_mask: frozenset[str] | None = None  # `Events: call,agent` limits the classes
    filters: list[tuple[bool, re.Pattern[str]]] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    @property
    def pbx(self) -> PBXSimulator:
        return self.server.pbx

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()

    def write(self, headers: Headers) -> None:
        if not self.writer.is_closing():
            self.writer.write(encode_message(headers))

    def deliver_event(self, message: Headers, classes: set[str]) -> None:
        if self.user is None or not self.events_on:
            return
        allowed = self.server.users[self.user].read
        if not classes & allowed:
            return
        if self.event_mask is not None and not classes & self.event_mask:
            return
        if self.filters:
            text = "".join(f"{k}: {v}\r\n" for k, v in message)
            includes = [rx for inc, rx in self.filters if inc]
            if includes and not any(rx.search(text) for rx in includes):
                return
            if any(rx.search(text) for inc, rx in self.filters if not inc):
                return
        self.write(message)

    def respond(self, action: AMIAction, response: str, *headers: tuple[str, str]) -> None:
        out: Headers = [("Response", response)]
        if action.action_id is not None:
            out.append(("ActionID", action.action_id))
        out.extend(headers)
        self.write(out)

    def error(self, action: AMIAction, message: str) -> None:
        self.respond(action, "Error", ("Message", message))

    def list_event(
        self, action: AMIAction, name: str, headers: Headers, action_id_last: bool = False
    ) -> None:
        aid = [("ActionID", action.action_id)] if action.action_id is not None else []
        self.write(
            [("Event", name), *headers, *aid]
            if action_id_last
            else [("Event", name), *aid, *headers]
        )

    def list_complete(
        self, action: AMIAction, name: str, count: int, *extra: tuple[str, str]
    ) -> None:
        aid = [("ActionID", action.action_id)] if action.action_id is not None else []
        self.write(
            [("Event", name), *aid, ("EventList", "Complete"), ("ListItems", str(count)), *extra]
        )

    async def run(self) -> None:
        self.writer.write(BANNER)
        buffer = b""
        while True:
            try:
                chunk = await self.reader.read(65536)
            except (OSError, ConnectionError):
                return
            if not chunk:
                return
            buffer += chunk
            while True:
                m = re.search(rb"\r?\n\r?\n", buffer)
                if m is None:
                    break
                block, buffer = buffer[: m.start()], buffer[m.end() :]
                if not block.strip():
                    continue
                try:
                    action = parse_action(block)
                except AMIFrameError:
                    continue
                if not await self.dispatch(action):
                    await self._drain()
                    return
            if len(buffer) > MAX_FRAME:
                log.warning("AMI client sent a frame over %d bytes; closing", MAX_FRAME)
                return
            await self._drain()

    async def _drain(self) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            await self.writer.drain()

    # -- actions ---------------------------------------------------------------------------------
    async def dispatch(self, action: AMIAction) -> bool:
        """Handle one action; False closes the connection."""
        name = action.name.lower()
        if not name:
            self.error(action, "Missing action in request")
            return True
        if name == "login":
            return await self.login(action)
        if name == "logoff":
            self.respond(action, "Goodbye", ("Message", "Thanks for all the fish."))
            return False
        if self.user is None:
            self.error(action, "Permission denied")
            return True
        handler = getattr(self, "act_" + name, None)
        if handler is None:
            self.error(action, UNKNOWN_ACTION.format(action.name))
            self.security_event(
                "RequestBadFormat",
                "Error",
                [("RequestType", f"Action: {action.name}")],
                account_last=True,
            )
            return True
        needed = ACTION_CLASS.get(name, "")
        if needed and needed not in self.server.users[self.user].write:
            self.error(action, "Permission denied")
            return True
        try:
            await handler(action)
        except Exception as exc:  # a simulator bug must not take the session down
            log.exception("simulated AMI action %s failed", action.name)
            self.error(action, f"Internal error: {type(exc).__name__}")
        return True

    def security_event(
        self, name: str, severity: str, tail: Headers, account_last: bool = False
    ) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
        local = self.writer.get_extra_info("sockname") or ("127.0.0.1", 5038)
        remote = self.writer.get_extra_info("peername") or ("127.0.0.1", 0)
        session_tv = (
            datetime.fromtimestamp(self.started, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
            + "+0000"
        )
        head: Headers = [
            ("EventTV", now),
            ("Severity", severity),
            ("Service", "AMI"),
            ("EventVersion", "1"),
        ]
        account = [("AccountID", self.user or "")]
        addresses: Headers = [
            ("SessionID", f"0x{id(self):x}"),
            ("LocalAddress", f"IPV4/TCP/{local[0]}/{local[1]}"),
            ("RemoteAddress", f"IPV4/TCP/{remote[0]}/{remote[1]}"),
        ]
        if account_last:
            body = [*head, *addresses, *tail, ("SessionTV", session_tv), *account]
        else:
            body = [*head, *account, *addresses, *tail, ("SessionTV", session_tv)]
        message = [("Event", name), ("Privilege", "security,all"), *body]
        if self.wants("security"):
            self.write(message)

    async def login(self, action: AMIAction) -> bool:
        username = action.get("Username") or ""
        user = self.server.users.get(username)
        peer = self.writer.get_extra_info("peername") or ("", 0)
        if (
            user is None
            or user.secret != (action.get("Secret") or "")
            or not user.permits(str(peer[0]))
        ):
            await self.pbx.clock.sleep(1.0)  # Asterisk answers a failed login after ~1 s
            self.error(action, "Authentication failed")
            return False
        self.user = username
        self.set_event_mask(action.get("Events") or "on")
        self.respond(action, "Success", ("Message", "Authentication accepted"))
        uptime = str(int(self.pbx.clock.now() - self.pbx.booted_at))
        if self.wants("system"):
            self.write(
                [
                    ("Event", "FullyBooted"),
                    ("Privilege", "system,all"),
                    ("Uptime", uptime),
                    ("LastReload", uptime),
                    ("Status", "Fully Booted"),
                ]
            )
        if self.wants("security"):
            self.security_event("SuccessfulAuth", "Informational", [("UsingPassword", "0")])
        return True

    async def act_ping(self, action: AMIAction) -> None:
        self.respond(
            action, "Success", ("Ping", "Pong"), ("Timestamp", f"{self.pbx.clock.now():.6f}")
        )

    def wants(self, event_class: str) -> bool:
        """Would this session receive an event of that class (user's read + event mask)?"""
        if self.user is None or not self.events_on:
            return False
        if event_class not in self.server.users[self.user].read:
            return False
        return self.event_mask is None or event_class in self.event_mask

    def set_event_mask(self, mask: str) -> None:
        """`on`/`off`, or a list of classes (`call,agent`), as Asterisk reads it."""
        value = mask.strip().lower()
        if value in ("off", "no", "false", "0", "none"):
            self.events_on, self.event_mask = False, None
        elif value in ("on", "yes", "true", "1", "all", ""):
            self.events_on, self.event_mask = True, None
        else:
            self.events_on = True
            self.event_mask = frozenset(c.strip() for c in value.split(",") if c.strip())

    async def act_events(self, action: AMIAction) -> None:
        self.set_event_mask(action.get("EventMask") or "on")
        self.respond(action, "Success", ("Events", "On" if self.events_on else "Off"))

    async def act_filter(self, action: AMIAction) -> None:
        flt = action.get("Filter") or ""
        include = not flt.startswith("!")
        try:
            self.filters.append((include, re.compile(flt.lstrip("!"))))
        except re.error:
            self.error(action, "Filter Not Added")
            return
        self.respond(action, "Success", ("Message", "Filter Added Successfully"))

    async def act_coresettings(self, action: AMIAction) -> None:
        self.respond(
            action,
            "Success",
            ("AMIversion", "11.0.0"),
            ("AsteriskVersion", self.pbx.version),
            ("SystemName", ""),
            ("CoreMaxCalls", "0"),
            ("CoreMaxLoadAvg", "0.000000"),
            ("CoreRunUser", ""),
            ("CoreRunGroup", ""),
            ("CoreMaxFilehandles", "0"),
            ("CoreRealTimeEnabled", "No"),
            ("CoreCDRenabled", "Yes"),
            ("CoreHTTPenabled", "No"),
            ("SoundsSearchCustomDir", "No"),
        )

    async def act_corestatus(self, action: AMIAction) -> None:
        booted = datetime.fromtimestamp(self.pbx.booted_at, UTC)
        self.respond(
            action,
            "Success",
            ("CoreStartupDate", booted.strftime("%Y-%m-%d")),
            ("CoreStartupTime", booted.strftime("%H:%M:%S")),
            ("CoreReloadDate", booted.strftime("%Y-%m-%d")),
            ("CoreReloadTime", booted.strftime("%H:%M:%S")),
            ("CoreCurrentCalls", str(len(self.pbx.calls))),
            ("CoreProcessedCalls", str(self.pbx.channels_created)),
        )

    async def act_getvar(self, action: AMIAction) -> None:
        variable = action.get("Variable")
        if not variable:
            self.error(action, "No variable specified")
            return
        channel_name = action.get("Channel")
        ch = None
        if channel_name:
            ch = self.pbx.channels.get(channel_name)
            if ch is None:
                self.error(action, "No such channel")
                return
        if variable.startswith("${") or "(" in variable:
            value = self.pbx.lookup_variable(ch, variable.strip("${}"))
        else:
            value = self.pbx.lookup_variable(ch, variable)
        self.respond(action, "Success", ("Variable", variable), ("Value", value or ""))

    async def act_setvar(self, action: AMIAction) -> None:
        variable = action.get("Variable")
        if not variable:
            self.error(action, "No variable specified")
            return
        value = action.get("Value") or ""
        channel_name = action.get("Channel")
        if channel_name:
            ch = self.pbx.channels.get(channel_name)
            if ch is None:
                self.error(action, "No such channel")
                return
            self.respond(action, "Success", ("Message", "Variable Set"))
            self.pbx.events.varset(ch, variable, value)
            return
        self.pbx.globals[variable] = value
        self.respond(action, "Success", ("Message", "Variable Set"))

    async def act_hangup(self, action: AMIAction) -> None:
        name = action.get("Channel") or ""
        if not name:
            self.error(action, "No channel specified")
            return
        cause_text = action.get("Cause")
        cause = int(cause_text) if cause_text and cause_text.isdigit() else None
        if name not in self.pbx.channels:
            self.error(action, "No such channel")
            return
        self.respond(action, "Success", ("Message", "Channel Hungup"))
        self.pbx.request_hangup(name, cause)

    async def act_atxfer(self, action: AMIAction) -> None:
        name, exten = action.get("Channel") or "", action.get("Exten") or ""
        if not name or not exten:
            self.error(action, "No channel specified" if not name else "No extension specified")
            return
        problem = start_consult(self.pbx, name, exten, action.get("Context") or "")
        if problem is not None:
            self.error(action, problem)
            return
        self.respond(action, "Success", ("Message", "Atxfer successfully queued"))

    async def act_cancelatxfer(self, action: AMIAction) -> None:
        name = action.get("Channel") or ""
        if not end_consult(self.pbx, name):
            self.error(
                action, "No attended transfer in progress" if name else "No channel specified"
            )
            return
        self.respond(action, "Success", ("Message", "CancelAtxfer successfully queued"))

    async def act_playdtmf(self, action: AMIAction) -> None:
        """app_senddtmf's manager action. `Receive: true`: the digit is queued on the channel as
        if its phone pressed it (what an attended transfer reading its extension hears)."""
        name, digit = action.get("Channel") or "", action.get("Digit") or ""
        ch = self.pbx.channels.get(name)
        if ch is None:
            self.error(action, "Channel not found")
            return
        if not digit:
            self.error(action, "No digit specified")
            return
        self.respond(action, "Success", ("Message", "DTMF successfully queued"))
        if (action.get("Receive") or "").lower() in ("1", "true", "yes", "on"):
            self.pbx.events.dtmf(ch, digit[0], 100)
            digit_heard(self.pbx, name, digit[0])

    async def act_redirect(self, action: AMIAction) -> None:
        name = action.get("Channel") or ""
        if not name:
            self.error(action, "Channel not specified")
            return
        if name not in self.pbx.channels:
            self.error(action, "Channel specified does not exist")
            return
        try:
            priority = int(action.get("Priority") or "1")
        except ValueError:
            self.error(action, "Invalid priority")
            return
        if not self.pbx.redirect(
            name, action.get("Context") or "", action.get("Exten") or "", priority
        ):
            self.error(action, "Redirect failed")
            return
        self.respond(action, "Success", ("Message", "Redirect successful"))

    async def act_controlplayback(self, action: AMIAction) -> None:
        """Queues a stream-control frame on the channel (app_controlplayback.c): the answer is a
        bare `Success` whether or not anything plays on it."""
        name = action.get("Channel") or ""
        control = (action.get("Control") or "").lower()
        if not name:
            self.error(action, "Channel not specified")
            return
        if not control:
            self.error(action, "Control not specified")
            return
        if name not in self.pbx.channels:
            self.error(action, "No such channel")
            return
        if control not in PLAYBACK_CONTROLS:
            self.error(action, "Unknown control type")
            return
        self.pbx.control_playback(name, PLAYBACK_CONTROLS[control])
        self.respond(action, "Success")

    async def act_mixmonitor(self, action: AMIAction) -> None:
        name = action.get("Channel") or ""
        ch = self.pbx.channel_named(name)
        if ch is None:
            self.error(action, "No such channel")
            return
        path = action.get("File") or f"/var/spool/asterisk/monitor/{ch.uniqueid}.wav"
        self.pbx.mixmonitors.start(ch.name, Path(path))
        self.respond(action, "Success")
        self.pbx.events.varset(ch, "MIXMONITOR_FILENAME", path)
        self.pbx.events.mixmonitor(ch, True)

    async def act_mixmonitormute(self, action: AMIAction) -> None:
        name = action.get("Channel") or ""
        ch = self.pbx.channel_named(name)
        if ch is None:
            self.error(action, "No such channel")
            return
        direction = (action.get("Direction") or "both").lower()
        state = (action.get("State") or "") in ("1", "yes", "true", "on")
        if not self.pbx.mixmonitors.mute(ch.name, direction, state):
            self.error(action, "Cannot set mute flag")
            return
        self.respond(action, "Success")
        self.pbx.events.mixmonitor_mute(ch, direction, state)

    async def act_stopmixmonitor(self, action: AMIAction) -> None:
        name = action.get("Channel") or ""
        ch = self.pbx.channel_named(name)
        if ch is None:
            self.error(action, "No such channel")
            return
        recording = self.pbx.mixmonitors.stop(ch.name)
        if recording is None:
            self.error(action, "Could not stop MixMonitor")
            return
        self.respond(action, "Success")
        self.pbx.events.mixmonitor(ch, False)
        await self.pbx.mixmonitors.finish(recording)

    async def act_coreshowchannels(self, action: AMIAction) -> None:
        self.respond(action, "Success", ("EventList", "start"), ("Message", "Channels will follow"))
        live = [c for c in self.pbx.channels.values() if not c.hung_up]
        now = self.pbx.clock.now()
        for ch in live:
            seconds = int(now - ch.created_at)
            duration = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
            self.list_event(
                action,
                "CoreShowChannel",
                [
                    *ch.headers(),
                    ("Application", ch.application),
                    ("ApplicationData", ch.app_data),
                    ("Duration", duration),
                    ("BridgeId", ch.bridge_id),
                ],
            )
        self.list_complete(action, "CoreShowChannelsComplete", len(live))

    async def act_status(self, action: AMIAction) -> None:
        name = action.get("Channel")
        chans = [c for c in self.pbx.channels.values() if not c.hung_up]
        if name:
            chans = [c for c in chans if c.name == name]
            if not chans:
                self.error(action, "No such channel")
                return
        self.respond(
            action, "Success", ("EventList", "start"), ("Message", "Channel status will follow")
        )
        now = self.pbx.clock.now()
        for ch in chans:
            aid = [("ActionID", action.action_id)] if action.action_id is not None else []
            self.write(
                [
                    ("Event", "Status"),
                    ("Privilege", "Call"),
                    *ch.headers(),
                    ("Type", ch.tech),
                    ("DNID", ""),
                    ("EffectiveConnectedLineNum", ch.connected_num or "<unknown>"),
                    ("EffectiveConnectedLineName", ch.connected_name or "<unknown>"),
                    ("TimeToHangup", "0"),
                    ("BridgeID", ch.bridge_id),
                    ("Application", ch.application),
                    ("Data", ch.app_data),
                    ("Nativeformats", "(ulaw)"),
                    ("Readformat", "ulaw"),
                    ("Readtrans", ""),
                    ("Writeformat", "ulaw"),
                    ("Writetrans", ""),
                    ("Callgroup", "0"),
                    ("Pickupgroup", "0"),
                    ("Seconds", str(int(now - ch.created_at))),
                    *aid,
                ]
            )
        self.list_complete(action, "StatusComplete", len(chans), ("Items", str(len(chans))))

    async def act_devicestatelist(self, action: AMIAction) -> None:
        self.respond(
            action,
            "Success",
            ("EventList", "start"),
            ("Message", "Device State Changes will follow"),
        )
        states = self.pbx.device_states()
        for device, state in states:
            self.list_event(action, "DeviceStateChange", [("Device", device), ("State", state)])
        self.list_complete(action, "DeviceStateListComplete", len(states))

    async def act_queuestatus(self, action: AMIAction) -> None:
        wanted = action.get("Queue")
        self.respond(
            action, "Success", ("EventList", "start"), ("Message", "Queue status will follow")
        )
        count = 0
        queue = self.pbx.fallback_queue
        if wanted in (None, "", queue):
            self.list_event(
                action,
                "QueueParams",
                [
                    ("Queue", queue),
                    ("Max", "0"),
                    ("Strategy", "ringall"),
                    ("Calls", "0"),
                    ("Holdtime", "0"),
                    ("TalkTime", "0"),
                    ("Completed", "0"),
                    ("Abandoned", "0"),
                    ("ServiceLevel", "0"),
                    ("ServicelevelPerf", "0.0"),
                    ("ServicelevelPerf2", "0.0"),
                    ("Weight", "0"),
                ],
                action_id_last=True,
            )
            count += 1
            status_code = {"NOT_INUSE": "1", "INUSE": "2", "RINGING": "6", "UNAVAILABLE": "5"}
            for phone in self.pbx.phones.values():
                self.list_event(
                    action,
                    "QueueMember",
                    [
                        ("Queue", queue),
                        ("Name", phone.member_name),
                        ("Location", phone.device),
                        ("StateInterface", phone.device),
                        ("Membership", "static"),
                        ("Penalty", "0"),
                        ("CallsTaken", str(phone.calls_answered)),
                        ("LastCall", "0"),
                        ("LastPause", "0"),
                        ("LoginTime", str(int(self.pbx.booted_at))),
                        ("InCall", "1" if phone.state.value == "INUSE" else "0"),
                        ("Status", status_code[phone.state.value]),
                        ("Paused", "0"),
                        ("PausedReason", ""),
                        ("Wrapuptime", "0"),
                    ],
                    action_id_last=True,
                )
                count += 1
        self.list_complete(action, "QueueStatusComplete", count)

    async def act_pjsipshowendpoints(self, action: AMIAction) -> None:
        self.respond(
            action,
            "Success",
            ("EventList", "start"),
            (
                "Message",
                "A listing of Endpoints follows, presence of "
                "EndpointListComplete event signals end of list",
            ),
        )
        count = 0
        state_text = {
            "NOT_INUSE": "Not in use",
            "INUSE": "In use",
            "RINGING": "Ringing",
            "UNAVAILABLE": "Unavailable",
        }
        trunk_calls = self.pbx.trunk_calls
        endpoints = [
            (self.pbx.caller_endpoint, "INUSE" if trunk_calls else "NOT_INUSE", trunk_calls)
        ]
        endpoints += [
            (p.endpoint, p.state.value, 1 if p.state.value in ("INUSE", "RINGING") else 0)
            for p in self.pbx.phones.values()
        ]
        for endpoint, state, active in endpoints:
            phone = self.pbx.phones.get(endpoint)
            contacts = (
                f"{endpoint}/sip:{endpoint}@127.0.0.1:5060,"
                if phone is None or phone.registered
                else ""
            )
            self.list_event(
                action,
                "EndpointList",
                [
                    ("ObjectType", "endpoint"),
                    ("ObjectName", endpoint),
                    ("Transport", ""),
                    ("Aor", endpoint),
                    ("Auths", endpoint if phone is not None else ""),
                    ("OutboundAuths", ""),
                    ("Contacts", contacts),
                    ("DeviceState", state_text[state]),
                    ("ActiveChannels", str(active) if active else ""),
                ],
            )
            count += 1
        self.list_complete(action, "EndpointListComplete", count)

    async def act_command(self, action: AMIAction) -> None:
        command = (action.get("Command") or "").strip()
        if command == "core show version":
            output = [f"Asterisk {self.pbx.version} (kck PBX simulator)"]
        elif command in ("core show channels", "core show channels concise"):
            live = [c for c in self.pbx.channels.values() if not c.hung_up]
            output = (
                [f"{c.name}!{c.context}!{c.exten}!{c.priority}!{c.state.desc}" for c in live]
                if command.endswith("concise")
                else [f"{len(live)} active channels", f"{len(self.pbx.calls)} active calls"]
            )
        elif command in (
            "dialplan reload",
            "module reload",
            "manager reload",
            "pjsip reload",
            "queue reload all",
            "moh reload",
        ):
            output = []
        else:
            self.respond(
                action,
                "Error",
                ("Message", "Command output follows"),
                (
                    "Output",
                    f"No such command '{command}' (type 'core show help "
                    f"{command}' for other possible commands)",
                ),
            )
            return
        self.respond(
            action,
            "Success",
            ("Message", "Command output follows"),
            *[("Output", line) for line in output],
        )

    async def act_originate(self, action: AMIAction) -> None:
        target = action.get("Channel") or ""
        if not target:
            self.error(action, "Channel not specified")
            return
        async_ = (action.get("Async") or "").lower() in ("true", "yes", "1")
        local = re.fullmatch(r"Local/([^@]+)@([^/]+)(/n)?", target)
        caller_id = action.get("CallerID") or ""
        m = re.fullmatch(r'\s*"?([^"<]*)"?\s*<([^>]*)>\s*', caller_id)
        name, number = (m.group(1).strip(), m.group(2)) if m else ("", caller_id)
        if local and local.group(1) == self.pbx.hotline:
            self.respond(action, "Success", ("Message", "Originate successfully queued"))
            application = action.get("Application") or ""
            data = action.get("Data") or ""
            script = CallerScript(
                number=number or None,
                name=name or None,
                dialed=self.pbx.hotline,
                label="originate",
                channel="Local",
                patience=originated_patience(application, data),
            )
            variables = tuple(
                (k, v)
                for k, _, v in (
                    item.partition("=") for item in action.get_all("Variable") if "=" in item
                )
            )
            self.pbx.place_call(
                script, originate=OriginateRequest(action.action_id, application, data, variables)
            )
            return
        phone = self.pbx.phone_for_dial_target(target)
        reason = "0"
        if phone is not None and phone.registered:
            reason = {"answer": "4", "busy": "5", "no_answer": "3"}[phone.behaviour.mode.value]
        if async_:
            self.respond(action, "Success", ("Message", "Originate successfully queued"))
        aid = [("ActionID", action.action_id)] if action.action_id else []
        uniqueid = "<null>"
        if reason == "4" and phone is not None and self.pbx.originate_channels:
            wanted = action.get("ChannelId") or ""
            uniqueid = self.pbx.originated_channel(phone.endpoint, wanted).uniqueid
        self.pbx.events.raw(
            "OriginateResponse",
            CALL,
            [
                *aid,
                ("Response", "Success" if reason == "4" else "Failure"),
                ("Channel", target),
                ("Context", action.get("Context") or ""),
                ("Exten", action.get("Exten") or ""),
                ("Reason", reason),
                ("Uniqueid", uniqueid),
                ("CallerIDNum", number or "<unknown>"),
                ("CallerIDName", name or "<unknown>"),
            ],
        )
        if not async_:
            if reason == "4":
                self.respond(action, "Success", ("Message", "Originate successfully queued"))
            else:
                self.error(action, "Originate failed")


def originated_patience(application: str, data: str) -> float | None:
    """How long the `;1` half of an originated Local call stays: the application's own limit
    (`Wait(40)`, `MusicOnHold(default,120)`, `Record(file,0,180)`), else until hung up."""
    args = data.split(",")
    index = {"wait": 0, "musiconhold": 1, "record": 2}.get(application.lower())
    if index is None or len(args) <= index:
        return None
    try:
        seconds = float(args[index])
    except ValueError:
        return None
    return seconds if seconds > 0 else None


__all__ = ["AMIServer", "AMIUser"]
