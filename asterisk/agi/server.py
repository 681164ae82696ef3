"""FastAGI server: accepts Asterisk's connections, reads the environment, runs the route."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from asterisk.agi.access import ClientAllowList
from asterisk.agi.connection import AGIConnection
from asterisk.agi.environment import (
    AGIEnvironment,
    build_environment,
    parse_environment_line,
)
from asterisk.agi.errors import AGIError, AGIProtocolError, CallerHungUp
from asterisk.agi.session import DEFAULT_HANGUP_GRACE, DEFAULT_MAX_LINE, AGISession
from kck.logs import call_context
from kck.stopping import stop_task

log = logging.getLogger(__name__)

Route = Callable[[AGISession], Awaitable[None]]

# A FastAGI script that closes the socket leaves AGISTATUS=SUCCESS whatever happened, so the
# shipped dialplan falls back to the plain Asterisk queue unless we confirm with KCK_DONE=1 that
# the call was handled (a crash, a lost connection or an unknown route never confirms).
DONE_VARIABLE = "KCK_DONE"
# Diagnostic only (the fallback does not depend on it): why our route failed.
FAILURE_VARIABLE = "KCK_AGI_FAILURE"
# The FAILURE_VARIABLE value of a call handed back because kck is stopping.
SHUTDOWN_FAILURE = "shutdown"

# stop() hands every live call back to the dialplan within this many seconds: the route is
# cancelled (a waiting caller leaves the router's queue), the channel is flagged
# KCK_AGI_FAILURE=shutdown and the socket closed, so the shipped dialplan sends the caller to
# the fallback queue. A session still open at the bound is dropped: the caller goes to the
# fallback all the same (no KCK_DONE). Documented in docs/deployment.md (SIGTERM).
STOP_HANDBACK_S = 3.0
# After that, how long stop() still waits for routes that ignore cancellation (then it logs them
# and returns: their callers are already back in the dialplan).
STRAGGLER_GRACE_S = 1.0
# Within the hand-back, how long we wait for Asterisk to take KCK_AGI_FAILURE=shutdown. It answers
# after the command in progress: our write ends a WAIT FOR DIGIT or GET DATA at once (res_agi
# watches the socket), a STREAM FILE or a Dial run on, and the socket is closed without the flag.
_SHUTDOWN_FLAG_S = 1.0


@dataclass(slots=True)
class _Connection:
    """One accepted socket; `session` once its environment was read."""

    socket: AGIConnection
    session: AGISession | None = None

    @property
    def label(self) -> str:
        return f"FastAGI session {self.session.env.uniqueid}" if self.session else "FastAGI peer"

    def drop(self, reason: str) -> None:
        if self.session is not None:
            self.session.abort(reason)
        else:
            self.socket.abort()


class FastAGIServer:
    """Routes are ``async def route(session) -> None`` keyed by script path (``ivr``)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        allowed_clients: Sequence[str],
        env_timeout: float = 5.0,
        command_timeout: float | None = None,
        hangup_grace: float = DEFAULT_HANGUP_GRACE,
        max_env_bytes: int = 16 * 1024,
        max_line_bytes: int = DEFAULT_MAX_LINE,
        done_variable: str | None = DONE_VARIABLE,
        handback_timeout: float = STOP_HANDBACK_S,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.port = port
        self._allow = ClientAllowList(allowed_clients)
        self._env_timeout = env_timeout
        self._command_timeout = command_timeout
        self._hangup_grace = hangup_grace
        self._max_env_bytes = max_env_bytes
        self._max_line_bytes = max_line_bytes
        self._done_variable = done_variable
        self.handback_timeout = handback_timeout
        self._routes: dict[str, Route] = {}
        self._server: asyncio.Server | None = None
        self._tasks: dict[asyncio.Task[None], _Connection] = {}
        self._stopping = False
        self.sessions_started = 0
        self.connections_rejected = 0

    def add_route(self, path: str, handler: Route) -> None:
        key = path.strip("/")
        if key in self._routes:
            raise ValueError(f"FastAGI route {key!r} is already registered")
        self._routes[key] = handler

    @property
    def active_sessions(self) -> int:
        return len(self._tasks)

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("FastAGI server already started")
        self._stopping = False
        max_line = self._max_line_bytes
        self._server = await asyncio.get_running_loop().create_server(
            lambda: AGIConnection(self._accepted, max_line), self.host, self._requested_port
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("FastAGI listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening and hand every live call back to the dialplan, within
        `handback_timeout` (STOP_HANDBACK_S) plus STRAGGLER_GRACE_S at the very worst.

        Each route is cancelled; when its cancellation reaches us, the channel is flagged
        KCK_AGI_FAILURE=shutdown and the socket closed. A connection still open at
        `handback_timeout` (its route swallowed the cancel, or Asterisk does not answer) is
        dropped: its caller goes to the fallback queue all the same, as no KCK_DONE was set.
        """
        self._stopping = True
        server, self._server = self._server, None
        if server is not None:
            server.close()
        connections = dict(self._tasks)
        for task in connections:
            task.cancel()
        if connections:
            _done, late = await asyncio.wait(set(connections), timeout=self.handback_timeout)
            for task in late:
                connections[task].drop(f"not handed back within {self.handback_timeout} s of stop")
            if late:
                log.warning(
                    "FastAGI stop: %d session(s) dropped after %s s; their callers go to the "
                    "dialplan fallback",
                    len(late),
                    self.handback_timeout,
                )
                await asyncio.gather(
                    *(
                        stop_task(task, within=STRAGGLER_GRACE_S, what=connections[task].label)
                        for task in late
                    )
                )
        if server is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STRAGGLER_GRACE_S):
                    await server.wait_closed()

    def _accepted(self, socket: AGIConnection) -> None:
        """A new socket (the protocol's connection_made): its call gets the one task it has."""
        connection = _Connection(socket)
        task = asyncio.get_running_loop().create_task(self._on_connection(connection))
        self._tasks[task] = connection

    async def _on_connection(self, connection: _Connection) -> None:
        try:
            await self._serve(connection)
        except asyncio.CancelledError:
            # stop() cancelled this task and awaits it: a normal end
            if not self._stopping:
                raise
        except Exception:
            # the route's own failures are handled in _run_route; this is ours: the socket is
            # dropped, the caller goes on in the dialplan (no KCK_DONE: the fallback queue)
            log.exception("%s failed", connection.label)
            connection.drop("FastAGI server error")
        finally:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.pop(task, None)
            connection.socket.close()  # cancelled before the session existed (environment)

    async def _serve(self, connection: _Connection) -> None:
        socket = connection.socket
        assert socket.transport is not None
        peer = socket.transport.get_extra_info("peername")
        host = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        if not self._allow.allows(host):
            self.connections_rejected += 1
            log.warning("FastAGI connection from %s refused: not in allowed_clients", host)
            await _close(socket)
            return
        try:
            env = await self._read_environment(socket, host)
        except AGIProtocolError as exc:
            log.warning("FastAGI connection from %s dropped: %s", host, exc)
            await _close(socket)
            return
        if env is None:
            await _close(socket)
            return
        self.sessions_started += 1
        # Every log line of this call carries its uniqueid: ours, the session's reader's (a task
        # started here) and the route's, which adds our call id once it has one.
        with call_context(uniqueid=env.uniqueid):
            session = AGISession(
                env,
                socket,
                command_timeout=self._command_timeout,
                hangup_grace=self._hangup_grace,
            )
            connection.session = session
            try:
                await self._run_route(session)
            finally:
                await session.close()

    async def _read_environment(self, socket: AGIConnection, host: str) -> AGIEnvironment | None:
        try:
            async with asyncio.timeout(self._env_timeout):
                # the whole block: it ends with the first empty line
                raw = await socket.environment()
        except TimeoutError:
            raise AGIProtocolError(
                f"no complete environment block within {self._env_timeout} s"
            ) from None
        if raw is None:
            # A port scan or health check: connect and close. Not an error.
            log.debug("FastAGI peer %s closed before the environment ended", host)
            return None
        if len(raw) > self._max_env_bytes:
            raise AGIProtocolError(f"environment block larger than {self._max_env_bytes} bytes")
        values: dict[str, str] = {}
        for line_no, line in enumerate(raw[:-2].split(b"\n"), start=1):
            text = line.rstrip(b"\r").decode("utf-8", errors="replace")
            key, value = parse_environment_line(text, line_no=line_no)
            values[key] = value
        if not values:
            raise AGIProtocolError("empty environment block")
        return build_environment(values, copy=False)

    async def _run_route(self, session: AGISession) -> None:
        env = session.env
        handler = self._routes.get(env.route)
        if handler is None:
            log.error(
                "no FastAGI route for script %r (channel %s); known: %s",
                env.network_script,
                env.channel,
                sorted(self._routes),
            )
            await _flag_failure(session, "NoRoute")
            return
        log.info("FastAGI %s for %s", env.route, env.channel)
        try:
            await handler(session)
        except asyncio.CancelledError:
            if self._stopping:
                log.warning(
                    "route %s stopped by shutdown; caller handed back to the dialplan", env.route
                )
                await _flag_failure(session, SHUTDOWN_FAILURE, within=_SHUTDOWN_FLAG_S)
            raise
        except CallerHungUp as exc:
            log.info("route %s ended: caller hung up (%s)", env.route, exc)
            return
        except (AGIError, Exception) as exc:
            log.exception("route %s failed on %s: %s", env.route, env.channel, exc)
            await _flag_failure(session, type(exc).__name__)
            return
        if session.fallback_requested:
            log.info("route %s asked for the dialplan fallback", env.route)
        elif self._done_variable is not None and not session.hung_up:
            await _best_effort(session, self._done_variable, "1")


async def _flag_failure(session: AGISession, reason: str, *, within: float = 2.0) -> None:
    if not session.hung_up:
        await _best_effort(session, FAILURE_VARIABLE, reason, within=within)


async def _best_effort(session: AGISession, name: str, value: str, *, within: float = 2.0) -> None:
    # A short limit: the call must not wait on us; a lost KCK_DONE only means the fallback queue.
    with contextlib.suppress(AGIError, TimeoutError, ValueError):
        async with asyncio.timeout(within):
            await session.set_variable(name, value)


async def _close(socket: AGIConnection) -> None:
    socket.stop_reading()
    socket.close()
    try:
        async with asyncio.timeout(2.0):
            await socket.closed.wait()
    except TimeoutError:
        socket.abort()
