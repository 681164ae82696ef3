"""The AMI client kck uses: login, pings, reconnects with backoff, resync, ordered events."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from asterisk.ami import actions as act
from asterisk.ami.backoff import ExponentialBackoff
from asterisk.ami.connection import AMIConnection
from asterisk.ami.dispatch import CallOrderedDispatcher, EventFilter, EventHandler
from asterisk.ami.errors import (
    AMIActionError,
    AMIActionTimeout,
    AMIAuthenticationError,
    AMIClosedError,
    AMIConnectionError,
    AMIConnectionLost,
    AMIError,
    AMIFrameTooLarge,
    AMIOutcomeUnknown,
    AMIUnreachable,
)
from asterisk.ami.events import OriginateResponse, parse_event
from asterisk.ami.framing import DEFAULT_MAX_FRAME
from asterisk.ami.health import AMIHealth, ConnectionState
from asterisk.ami.message import AMIMessage
from asterisk.ami.results import AMIResponse, AMISnapshot, ChannelSnapshot
from kck.stopping import TASK_STOP_S, stop_task, stop_tasks

log = logging.getLogger(__name__)

Reconciler = Callable[[AMISnapshot], Awaitable[None]]

# While nothing accepts connections (Asterisk down or restarting), try again at least once a
# second: one TCP SYN a second is no load on anyone, and the client is back within a second of
# Asterisk. Outcomes that do not fix themselves soon (a refused login, a peer that accepts and
# drops) keep the long exponential backoff.
UNREACHABLE_RETRY_MAX_S = 1.0


# Before its first login the client says nothing above debug about an AMI that refuses
# connections for this long: Asterisk may be starting beside kck (and `kck demo`'s simulated one
# starts after the controller). A refusal that lasts longer is a warning, as after a loss.
START_GRACE_S = 10.0


def unreachable_retry() -> ExponentialBackoff:
    """0.1 s doubling to UNREACHABLE_RETRY_MAX_S, each delay up to half shorter (jitter)."""
    return ExponentialBackoff(initial=0.1, maximum=UNREACHABLE_RETRY_MAX_S, jitter=0.5)


# Right after Asterisk starts, DeviceStateList may be an unknown command for a moment.
DEVICE_LIST_RETRY_S = 0.25
DEVICE_LIST_WAIT_S = 10.0

_client_numbers = itertools.count(1)


@dataclass
class _Registered:
    """A reconciler and the login whose snapshot it got last (0: none yet)."""

    reconcile: Reconciler
    login: int = 0


class AMIClient:
    """Use ``await connect()`` (fails fast) or ``start()`` (keeps trying), then ``close()``."""

    def __init__(
        self,
        *,
        host: str,
        port: int = 5038,
        username: str,
        secret: str,
        ping_interval: float = 5.0,
        ping_timeout: float = 3.0,
        action_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        resync_timeout: float = 15.0,
        backoff: ExponentialBackoff | None = None,
        unreachable_backoff: ExponentialBackoff | None = None,
        max_frame_bytes: int = DEFAULT_MAX_FRAME,
        clock: Callable[[], float] = time.monotonic,
        start_grace_s: float = START_GRACE_S,
    ) -> None:
        if ping_interval <= 0 or ping_timeout <= 0:
            raise ValueError("AMI ping_interval and ping_timeout must be positive")
        self.host = host
        self.port = port
        self._username = username
        self._secret = secret
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.action_timeout = action_timeout
        self.connect_timeout = connect_timeout
        self.resync_timeout = resync_timeout
        self._backoff = backoff or ExponentialBackoff()
        self._unreachable_backoff = unreachable_backoff or unreachable_retry()
        self._max_frame_bytes = max_frame_bytes
        self._clock = clock
        self.start_grace_s = start_grace_s
        # Our own ActionIDs: unique per process and client, so answers never cross.
        self._id_prefix = f"kck-{os.getpid()}-{next(_client_numbers)}-"
        self._ids = itertools.count(1)
        self._dispatcher = CallOrderedDispatcher()
        self._originate_waiters: dict[str | None, asyncio.Future[OriginateResponse]] = {}
        self._reconcilers: list[_Registered] = []
        self._resync_lock = asyncio.Lock()  # one resync at a time
        self._resyncs: set[asyncio.Task[None]] = set()
        self._state = ConnectionState.IDLE
        self._connection: AMIConnection | None = None
        self._connected = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._first_login: asyncio.Future[None] | None = None
        self._closing = False
        self._wake = asyncio.Event()
        # health counters
        self._banner: str | None = None
        self._last_event_at: float | None = None
        self._last_resync_at: float | None = None
        self._resync_count = 0
        self._reconnect_count = 0
        self._login_count = 0
        self._resynced_login = 0  # the last login whose snapshot was taken whole
        self._frames_rejected = 0
        self._last_error: str | None = None
        self._last_disconnect_reason: str | None = None
        self._ping_rtt: float | None = None
        self.disconnects: list[tuple[float, str]] = []  # (clock time, reason), newest last

    # -- lifecycle ---------------------------------------------------------------------------
    async def connect(self) -> None:
        """Connect and log in once; raise (and leave nothing running) if that fails.

        AMIAuthenticationError for a refused login, AMIConnectionError when Asterisk cannot be
        reached. Afterwards the client reconnects by itself until :meth:`close`.
        """
        self._start(fail_fast=True)
        assert self._first_login is not None
        try:
            await asyncio.shield(self._first_login)
        except (AMIError, asyncio.CancelledError):
            # Nothing may keep retrying behind the caller's back.
            await self.close()
            raise

    def start(self) -> None:
        """Run in the background, retrying with backoff until connected (and after losses)."""
        self._start(fail_fast=False)

    def _start(self, *, fail_fast: bool) -> None:
        if self._closing:
            raise AMIClosedError("AMI client was closed; make a new one")
        if self._supervisor is not None:
            raise RuntimeError("AMI client already started")
        loop = asyncio.get_running_loop()
        self._first_login = loop.create_future()
        self._supervisor = loop.create_task(self._supervise(fail_fast), name="ami-supervisor")

    async def close(self) -> None:
        """Log off if connected, stop reconnecting, cancel pending work. Safe to call twice."""
        if self._closing and self._supervisor is None:
            return
        self._closing = True
        self._wake.set()
        connection = self._connection
        if connection is not None and not connection.is_closed:
            with contextlib.suppress(AMIError, TimeoutError, ValueError):
                await connection.request("Logoff", self._next_id(), [], 1.0)
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            # stop_task, not `await`: a reconciler's Redis call may swallow a cancel
            await stop_task(supervisor, within=TASK_STOP_S, what="AMI supervisor")
        if connection is not None:
            await connection.close("client closed")
        await self._dispatcher.close()
        if self._first_login is not None and not self._first_login.done():
            self._first_login.set_exception(AMIClosedError("AMI client closed before login"))
            self._first_login.exception()
        self._set_state(ConnectionState.CLOSED)
        self._connected.clear()

    async def wait_connected(self, timeout: float | None = None) -> None:
        async with asyncio.timeout(timeout):
            await self._connected.wait()

    @property
    def state(self) -> ConnectionState:
        return self._state

    def _set_state(self, state: ConnectionState) -> None:
        if state is not self._state:
            log.info("AMI %s:%s: %s → %s", self.host, self.port, self._state.value, state.value)
            self._state = state

    # -- supervisor --------------------------------------------------------------------------
    async def _supervise(self, fail_fast: bool) -> None:
        assert self._first_login is not None
        attempt = 0  # long backoff: failures that will not fix themselves soon
        refused = 0  # short retry: nothing accepts connections (yet)
        refusal_told = False  # the present refusal was logged as a warning
        first = True
        began = self._clock()
        while not self._closing:
            self._set_state(ConnectionState.CONNECTING if first else ConnectionState.RECONNECTING)
            try:
                connection = await self._open_and_login()
            except AMIUnreachable as exc:
                self._last_error = str(exc)
                if first and fail_fast:
                    self._first_login.set_exception(exc)
                    return
                # Once a second at most: say it once, not every second of an outage, and not
                # while Asterisk may still be starting (START_GRACE_S).
                starting = self._login_count == 0 and self._clock() - began < self.start_grace_s
                if starting or refusal_told:
                    log.debug("AMI not reachable: %s", exc)
                else:
                    log.warning("AMI not reachable: %s", exc)
                    refusal_told = True
                await self._sleep(self._unreachable_backoff.delay(refused))
                refused += 1
                continue
            except AMIAuthenticationError as exc:
                self._last_error = str(exc)
                self._set_state(ConnectionState.AUTH_FAILED)
                log.error("%s", exc)
                if first and fail_fast:
                    self._first_login.set_exception(exc)
                    return
                # A wrong secret does not fix itself quickly: wait the longest delay.
                await self._sleep(self._backoff.maximum)
                continue
            except Exception as exc:
                self._last_error = str(exc)
                log.warning("AMI connect to %s:%s failed: %s", self.host, self.port, exc)
                if first and fail_fast:
                    if not isinstance(exc, AMIError):
                        exc = AMIConnectionError(f"AMI connect failed: {exc!r}")
                    self._first_login.set_exception(exc)
                    return
                await self._sleep(self._backoff.delay(attempt))
                attempt += 1
                continue
            refused = 0
            refusal_told = False
            connected_at = self._clock()
            self._login_count += 1
            if not first:
                self._reconnect_count += 1
            first = False
            self._connection = connection
            self._set_state(ConnectionState.CONNECTED)
            self._connected.set()
            if not self._first_login.done():
                self._first_login.set_result(None)
            ping = asyncio.create_task(self._ping_loop(connection), name="ami-ping")
            self._start_resync(connection, always=True)
            try:
                await connection.wait_closed()
            finally:
                self._connected.clear()
                self._connection = None
                await stop_tasks([ping, *self._resyncs], within=TASK_STOP_S, what="AMI")
            reason = connection.close_reason or "closed"
            self._last_disconnect_reason = reason
            self.disconnects.append((self._clock(), reason))
            del self.disconnects[:-20]
            if self._closing:
                return
            log.warning("AMI connection to %s:%s lost: %s", self.host, self.port, reason)
            worked = self._resynced_login == self._login_count
            if worked or self._clock() - connected_at >= self._backoff.maximum:
                # A connection that worked (its login's snapshot came whole) or stayed up a while
                # resets the backoff: an Asterisk restarted again and again is back within a
                # second each time, while one that accepts and drops at once (no snapshot ever)
                # is not hammered at the shortest delay.
                attempt = 0
            self._set_state(ConnectionState.RECONNECTING)
            await self._sleep(self._backoff.delay(attempt))
            attempt += 1

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    async def _open_and_login(self) -> AMIConnection:
        connection = await AMIConnection.open(
            self.host,
            self.port,
            connect_timeout=self.connect_timeout,
            on_event=self._on_event,
            on_frame_error=self._on_frame_error,
            max_frame_bytes=self._max_frame_bytes,
        )
        self._banner = connection.banner.text if connection.banner else None
        login = act.Login(username=self._username, secret=self._secret)
        try:
            response = await connection.request(
                login.action_name, self._next_id(), login.headers(), self.connect_timeout
            )
        except TimeoutError:
            await connection.close("login timed out")
            raise AMIConnectionError(
                f"AMI at {self.host}:{self.port} did not answer Login within "
                f"{self.connect_timeout} s"
            ) from None
        except AMIConnectionLost as exc:
            await connection.close("lost during login")
            raise AMIConnectionError(
                f"AMI at {self.host}:{self.port} closed the connection during Login: {exc.reason}"
            ) from exc
        if not response.success:
            await connection.close("login refused")
            raise AMIAuthenticationError(
                f"AMI login as {self._username!r} at {self.host}:{self.port} refused: "
                f"{response.text or response.message.name}"
            )
        return connection

    async def _ping_loop(self, connection: AMIConnection) -> None:
        while not connection.is_closed:
            await asyncio.sleep(self.ping_interval)
            sent_at = self._clock()
            try:
                response = await connection.request("Ping", self._next_id(), [], self.ping_timeout)
            except TimeoutError:
                connection.abort(f"no Ping reply within {self.ping_timeout} s")
                return
            except AMIConnectionLost:
                return
            self._ping_rtt = self._clock() - sent_at
            if not response.success:
                log.warning("AMI Ping answered %s", response.message.name)

    def _start_resync(self, connection: AMIConnection, *, always: bool) -> None:
        task = asyncio.create_task(
            self._resync(connection, self._login_count, always=always), name="ami-resync"
        )
        self._resyncs.add(task)
        task.add_done_callback(self._resyncs.discard)

    async def _resync(self, connection: AMIConnection, login: int, *, always: bool) -> None:
        """Hand a fresh snapshot to every reconciler that has none of this login yet.

        `always`: the login's own resync, taken even when no reconciler waits for it. Resyncs
        run one at a time, so one for a reconciler added late waits for the one in progress and
        is skipped when that one took the reconciler in.
        """
        async with self._resync_lock:
            if not always and all(r.login >= login for r in self._reconcilers):
                return
            try:
                channels = await connection.request(
                    "CoreShowChannels", self._next_id(), [], self.resync_timeout
                )
                devices = await self._device_state_list(connection)
            except (AMIConnectionLost, TimeoutError) as exc:
                self._last_error = f"resync failed: {exc!r}"
                log.warning("AMI resync failed: %r", exc)
                return  # the next login's resync serves every reconciler again
            device_states: dict[str, str] = {}
            if devices.success:
                for item in devices.items:
                    device = item.get("Device")
                    if device is not None:
                        device_states[device] = item.get("State") or ""
            else:
                log.warning("AMI DeviceStateList refused: %s", devices.text)
            snapshot = AMISnapshot(
                channels=tuple(ChannelSnapshot.from_item(item) for item in channels.items),
                device_states=device_states,
                taken_at=datetime.now(UTC),
                login_number=login,
            )
            due = [r for r in self._reconcilers if r.login < login]
            for registered in due:
                registered.login = login  # a reconciler that fails is not called again for it
                try:
                    await registered.reconcile(snapshot)
                except Exception:
                    log.exception(
                        "AMI reconciler %s failed",
                        getattr(registered.reconcile, "__qualname__", ""),
                    )
            self._resync_count += 1
            self._resynced_login = max(self._resynced_login, login)
            self._last_resync_at = self._clock()
            log.info(
                "AMI resync #%d: %d channels, %d devices, %d reconcilers",
                self._resync_count,
                len(snapshot.channels),
                len(device_states),
                len(due),
            )

    async def _device_state_list(self, connection: AMIConnection) -> AMIResponse:
        """DeviceStateList. Asterisk accepts AMI logins before it has loaded every module and
        meanwhile answers "Invalid/unknown command" (seen on the real Asterisk 22 right after a
        restart): asked again, every DEVICE_LIST_RETRY_S for up to DEVICE_LIST_WAIT_S, so a
        restart does not leave the router with the device states of before it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEVICE_LIST_WAIT_S
        while True:
            devices = await connection.request(
                "DeviceStateList", self._next_id(), [], self.resync_timeout
            )
            if devices.success or "unknown command" not in (devices.text or "").lower():
                return devices
            if loop.time() >= deadline:
                return devices
            await asyncio.sleep(DEVICE_LIST_RETRY_S)

    # -- events ------------------------------------------------------------------------------
    def _on_event(self, message: AMIMessage) -> None:
        self._last_event_at = self._clock()
        event = parse_event(message)
        if isinstance(event, OriginateResponse) and event.action_id in self._originate_waiters:
            waiter = self._originate_waiters[event.action_id]
            if not waiter.done():
                waiter.set_result(event)
        self._dispatcher.submit(event)

    def _on_frame_error(self, error: AMIFrameTooLarge) -> None:
        self._frames_rejected += 1
        self._last_error = str(error)

    def add_event_handler(self, handler: EventHandler, *event_types: EventFilter) -> None:
        """Call ``handler`` for these event classes or names (all events when none given).

        Events of one call (Linkedid, else Uniqueid) reach handlers one at a time in order;
        a handler that raises is logged and does not stop the others.
        """
        self._dispatcher.add_handler(handler, *event_types)

    def remove_event_handler(self, handler: EventHandler) -> None:
        self._dispatcher.remove_handler(handler)

    def add_reconciler(self, reconciler: Reconciler) -> None:
        """Called with a fresh :class:`AMISnapshot` after every (re)login.

        Added while connected (the login's resync done or in progress), it gets a fresh
        snapshot of this login as well, once, after the resync in progress.
        """
        self._reconcilers.append(_Registered(reconciler))
        connection = self._connection
        if connection is not None and self._connected.is_set():
            self._start_resync(connection, always=False)

    async def drain_events(self) -> None:
        """Wait until every event received so far went through the handlers."""
        await self._dispatcher.drain()

    # -- actions -----------------------------------------------------------------------------
    def _next_id(self) -> str:
        return f"{self._id_prefix}{next(self._ids)}"

    async def send(
        self,
        action: act.Action,
        *,
        timeout: float | None = None,
        check: bool = True,
        on_action_id: Callable[[str], None] | None = None,
    ) -> AMIResponse:
        """Send with our own ActionID and wait for the whole answer (event lists collected).

        Not yet connected: waits (within the timeout) and sends once connected. Connection lost
        after sending: idempotent actions are sent again; others raise AMIOutcomeUnknown.
        ``Response: Error`` raises AMIActionError unless ``check`` is False.
        """
        name = action.action_name
        headers = action.headers()
        limit = self.action_timeout if timeout is None else timeout
        deadline = self._clock() + limit
        while True:
            action_id = self._next_id()
            connection = await self._connection_before(deadline, name, action_id, limit)
            if on_action_id is not None:
                on_action_id(action_id)
            remaining = max(0.001, deadline - self._clock())
            try:
                response = await connection.request(name, action_id, headers, remaining)
            except TimeoutError:
                raise AMIActionTimeout(name, action_id, limit, sent=True) from None
            except AMIConnectionLost as exc:
                if not exc.sent:
                    continue
                if not action.is_idempotent:
                    raise AMIOutcomeUnknown(name, action_id, exc.reason) from exc
                log.info("AMI %s (%s) lost with the connection; sending again", name, action_id)
                continue
            if check and not response.success:
                raise AMIActionError(name, action_id, response.text or response.message.name)
            return response

    async def _connection_before(
        self, deadline: float, name: str, action_id: str, limit: float
    ) -> AMIConnection:
        while True:
            if self._closing:
                raise AMIClosedError(f"AMI client closed; {name} not sent")
            if self._state is ConnectionState.AUTH_FAILED:
                raise AMIAuthenticationError(f"AMI login is refused; {name} not sent")
            connection = self._connection
            if connection is not None and not connection.is_closed and self._connected.is_set():
                return connection
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise AMIActionTimeout(name, action_id, limit, sent=False)
            try:
                async with asyncio.timeout(remaining):
                    await self._connected.wait()
            except TimeoutError:
                raise AMIActionTimeout(name, action_id, limit, sent=False) from None

    # -- typed wrappers ----------------------------------------------------------------------
    async def ping(self) -> float:
        """Round-trip time in seconds."""
        start = self._clock()
        await self.send(act.Ping())
        return self._clock() - start

    async def originate(self, originate: act.Originate) -> AMIResponse:
        """Queue the call (``Async: true``); the outcome comes later as OriginateResponse."""
        return await self.send(originate)

    async def originate_and_wait(
        self, originate: act.Originate, *, answer_timeout: float = 60.0
    ) -> OriginateResponse:
        """Originate and wait for its OriginateResponse (``Response: Success`` when answered,
        ``Failure`` with ``reason`` 3 no answer / 5 busy / 0 no such channel...)."""
        if not originate.asynchronous:
            raise ValueError("originate_and_wait needs an asynchronous Originate")
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[OriginateResponse] = loop.create_future()
        ids: list[str] = []

        def register(action_id: str) -> None:
            # Registered before the bytes go out: the event may follow the response in one read.
            ids.append(action_id)
            self._originate_waiters[action_id] = waiter

        try:
            await self.send(originate, on_action_id=register)
            async with asyncio.timeout(answer_timeout):
                return await waiter
        except TimeoutError:
            raise AMIActionTimeout(
                "Originate", ids[-1] if ids else "?", answer_timeout, sent=True
            ) from None
        finally:
            for action_id in ids:
                self._originate_waiters.pop(action_id, None)

    async def stop_playback(self, channel: str) -> None:
        """Cut short the prompt or music `channel` hears (see :class:`ControlPlayback`)."""
        await self.send(act.ControlPlayback(channel=channel), check=False)

    async def hangup(self, channel: str, cause: int | None = None) -> None:
        await self.send(act.Hangup(channel=channel, cause=cause))

    async def hangup_bridge_peer(self, channel: str) -> str:
        """Hang up the channel bridged with `channel` (its `BRIDGEPEER`: the agent's leg of a
        caller the controller transfers); returns its name. `AMIActionError` when `channel` is
        bridged with nobody."""
        peer = await self.getvar("BRIDGEPEER", channel=channel)
        if not peer:
            raise AMIActionError("Getvar", "BRIDGEPEER", f"{channel} is bridged with no channel")
        await self.hangup(peer)
        return peer

    async def atxfer(self, channel: str, exten: str, context: str) -> None:
        """Attended transfer by `channel` to `exten`@`context` (see :class:`Atxfer`)."""
        await self.send(act.Atxfer(channel=channel, exten=exten, context=context))

    async def cancel_atxfer(self, channel: str) -> None:
        await self.send(act.CancelAtxfer(channel=channel))

    async def play_dtmf(self, channel: str, digit: str, *, receive: bool = False) -> None:
        """One DTMF digit on `channel` (see :class:`PlayDTMF`; `receive`: as if pressed there)."""
        await self.send(act.PlayDTMF(channel=channel, digit=digit, receive=receive))

    async def redirect(self, channel: str, context: str, exten: str, priority: str = "1") -> None:
        await self.send(
            act.Redirect(channel=channel, context=context, exten=exten, priority=priority)
        )

    async def mix_monitor(self, channel: str, file: str, options: str = "") -> AMIResponse:
        return await self.send(act.MixMonitor(channel=channel, file=file, options=options))

    async def mute_mix_monitor(self, channel: str, muted: bool, direction: str = "both") -> None:
        """Pause (`muted`) or resume the channel's recording; the paused time stays as silence."""
        await self.send(act.MixMonitorMute(channel=channel, direction=direction, state=muted))

    async def stop_mix_monitor(self, channel: str, mixmonitor_id: str | None = None) -> None:
        await self.send(act.StopMixMonitor(channel=channel, mixmonitor_id=mixmonitor_id))

    async def getvar(self, variable: str, channel: str | None = None) -> str | None:
        """The value; '' when unset (Asterisk answers an empty ``Value:``)."""
        response = await self.send(act.Getvar(variable=variable, channel=channel))
        return response.get("Value")

    async def setvar(self, variable: str, value: str, channel: str | None = None) -> None:
        await self.send(act.Setvar(variable=variable, value=value, channel=channel))

    async def core_show_channels(self) -> list[ChannelSnapshot]:
        response = await self.send(act.CoreShowChannels())
        return [ChannelSnapshot.from_item(item) for item in response.items]

    async def device_state_list(self) -> dict[str, str]:
        response = await self.send(act.DeviceStateList())
        return {i.get("Device") or "": i.get("State") or "" for i in response.items}

    async def queue_status(self, queue: str | None = None) -> list[AMIMessage]:
        """``QueueParams`` / ``QueueMember`` / ``QueueEntry`` items."""
        return list((await self.send(act.QueueStatus(queue=queue))).items)

    async def pjsip_show_endpoints(self) -> list[AMIMessage]:
        return list((await self.send(act.PJSIPShowEndpoints())).items)

    async def command(self, command: str) -> list[str]:
        """Run a CLI command; its output lines."""
        return (await self.send(act.Command(command=command))).output

    # -- health ------------------------------------------------------------------------------
    def health(self) -> AMIHealth:
        now = self._clock()
        connection = self._connection
        return AMIHealth(
            state=self._state,
            host=self.host,
            port=self.port,
            asterisk_banner=self._banner,
            last_event_age_s=None if self._last_event_at is None else now - self._last_event_at,
            resync_count=self._resync_count,
            reconnect_count=self._reconnect_count,
            login_count=self._login_count,
            last_resync_age_s=None if self._last_resync_at is None else now - self._last_resync_at,
            last_error=self._last_error,
            last_disconnect_reason=self._last_disconnect_reason,
            pending_actions=connection.pending_count if connection else 0,
            pending_events=self._dispatcher.pending,
            frames_rejected=self._frames_rejected,
            ping_rtt_s=self._ping_rtt,
        )
