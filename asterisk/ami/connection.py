"""One AMI TCP connection: frames in, answers matched to ActionIDs, events handed on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from asterisk.ami.actions import encode_action
from asterisk.ami.errors import (
    AMIConnectionError,
    AMIConnectionLost,
    AMIFrameTooLarge,
    AMIUnreachable,
)
from asterisk.ami.framing import DEFAULT_MAX_FRAME, AMIFrameReader, Banner
from asterisk.ami.message import AMIMessage, MessageKind
from asterisk.ami.results import AMIResponse
from kck.stopping import TASK_STOP_S, stop_task

log = logging.getLogger(__name__)

_READ_SIZE = 64 * 1024
BANNER_PREFIX = "Asterisk Call Manager/"


@dataclass
class _Pending:
    action: str
    action_id: str
    future: asyncio.Future[AMIResponse]
    response: AMIMessage | None = None
    items: list[AMIMessage] = field(default_factory=list)


class AMIConnection:
    """Owns the socket and its reader task. ``on_event`` gets every event that is not an item
    of a pending event list, in arrival order, synchronously from the reader."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        on_event: Callable[[AMIMessage], None],
        on_frame_error: Callable[[AMIFrameTooLarge], None] | None = None,
        max_frame_bytes: int = DEFAULT_MAX_FRAME,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._on_event = on_event
        self._on_frame_error = on_frame_error
        self._frames = AMIFrameReader(max_frame_bytes=max_frame_bytes)
        self._pending: dict[str, _Pending] = {}
        self._closed = asyncio.Event()
        self.close_reason: str | None = None
        self.banner: Banner | None = None
        self._banner_seen = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._read_loop(), name="ami-reader")

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        connect_timeout: float,
        on_event: Callable[[AMIMessage], None],
        on_frame_error: Callable[[AMIFrameTooLarge], None] | None = None,
        max_frame_bytes: int = DEFAULT_MAX_FRAME,
    ) -> AMIConnection:
        """Connect and wait for the banner; raises AMIConnectionError naming host:port
        (AMIUnreachable when nothing accepted the TCP connection)."""
        try:
            async with asyncio.timeout(connect_timeout):
                reader, writer = await asyncio.open_connection(host, port)
        except (OSError, TimeoutError) as exc:
            raise AMIUnreachable(f"cannot connect to AMI at {host}:{port}: {exc!r}") from exc
        connection = cls(
            reader,
            writer,
            on_event=on_event,
            on_frame_error=on_frame_error,
            max_frame_bytes=max_frame_bytes,
        )
        try:
            async with asyncio.timeout(connect_timeout):
                await connection._wait_banner()
        except BaseException as exc:
            connection.abort(f"no AMI banner: {exc!r}")
            await connection.wait_closed()
            if isinstance(exc, TimeoutError):
                raise AMIConnectionError(
                    f"AMI at {host}:{port} sent no banner within {connect_timeout} s"
                ) from None
            raise
        assert connection.banner is not None
        if not connection.banner.text.startswith(BANNER_PREFIX):
            connection.abort("not an AMI banner")
            await connection.wait_closed()
            raise AMIConnectionError(
                f"{host}:{port} is not Asterisk AMI (banner {connection.banner.text[:60]!r})"
            )
        return connection

    async def _wait_banner(self) -> None:
        banner = asyncio.ensure_future(self._banner_seen.wait())
        closed = asyncio.ensure_future(self._closed.wait())
        try:
            await asyncio.wait({banner, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            banner.cancel()
            closed.cancel()
        if self.banner is None:
            raise AMIConnectionError(f"connection closed before the banner: {self.close_reason}")

    # -- reading -----------------------------------------------------------------------------
    async def _read_loop(self) -> None:
        reason = "connection closed by Asterisk"
        try:
            while True:
                data = await self._reader.read(_READ_SIZE)
                if not data:
                    break
                for frame in self._frames.feed(data):
                    self._handle(frame)
        except asyncio.CancelledError:
            reason = self.close_reason or "reader cancelled"
        except (ConnectionError, OSError) as exc:
            reason = f"connection error: {exc!r}"
        except Exception as exc:  # a bug here must not leave a zombie connection
            log.exception("AMI reader failed")
            reason = f"reader failed: {exc!r}"
        finally:
            self._finish(self.close_reason or reason)

    def _handle(self, frame: AMIMessage | Banner | AMIFrameTooLarge) -> None:
        if isinstance(frame, Banner):
            if self.banner is None:
                self.banner = frame
                self._banner_seen.set()
            return
        if isinstance(frame, AMIFrameTooLarge):
            log.warning("%s", frame)
            if self._on_frame_error is not None:
                self._on_frame_error(frame)
            return
        kind = frame.kind
        action_id = frame.action_id
        pending = self._pending.get(action_id) if action_id is not None else None
        if kind is MessageKind.RESPONSE:
            if pending is None or pending.response is not None:
                log.debug("AMI response for no pending action (%s): dropped", action_id)
                return
            if (frame.get("EventList") or "").lower() == "start":
                pending.response = frame
                return
            self._resolve(pending, AMIResponse(pending.action, pending.action_id, frame))
            return
        if kind is MessageKind.EVENT:
            if pending is not None and pending.response is not None:
                if (frame.get("EventList") or "").lower() == "complete":
                    self._resolve(
                        pending,
                        AMIResponse(
                            pending.action,
                            pending.action_id,
                            pending.response,
                            tuple(pending.items),
                            frame,
                        ),
                    )
                else:
                    pending.items.append(frame)
                return
            self._on_event(frame)
            return
        log.debug("AMI frame that is neither response nor event: %r", frame.headers[:3])

    def _resolve(self, pending: _Pending, response: AMIResponse) -> None:
        self._pending.pop(pending.action_id, None)
        if not pending.future.done():
            pending.future.set_result(response)

    def _finish(self, reason: str) -> None:
        if self._closed.is_set():
            return
        self.close_reason = reason
        self._closed.set()
        for pending in list(self._pending.values()):
            if not pending.future.done():
                pending.future.set_exception(AMIConnectionLost(reason, sent=True))
        self._pending.clear()
        self._writer.close()

    # -- writing -----------------------------------------------------------------------------
    @property
    def is_closed(self) -> bool:
        return self._closed.is_set()

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    async def request(
        self,
        action: str,
        action_id: str,
        headers: Sequence[tuple[str, str]],
        limit_s: float | None,
    ) -> AMIResponse:
        """Send and wait for the complete answer. TimeoutError when it does not come in time;
        AMIConnectionLost (``sent`` False if nothing was written) when the connection drops."""
        payload = encode_action(action, action_id, headers)
        if self.is_closed:
            raise AMIConnectionLost(self.close_reason or "closed", sent=False)
        if action_id in self._pending:
            raise ValueError(f"ActionID {action_id} is already pending")
        future: asyncio.Future[AMIResponse] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(action, action_id, future)
        try:
            self._writer.write(payload)
            async with asyncio.timeout(limit_s):
                await self._writer.drain()
                return await future
        except TimeoutError:
            raise  # TimeoutError is an OSError: keep it apart from a broken socket
        except (ConnectionError, OSError) as exc:
            self.abort(f"write failed: {exc!r}")
            raise AMIConnectionLost(f"write failed: {exc!r}", sent=True) from exc
        finally:
            self._pending.pop(action_id, None)
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # mark retrieved: the caller already has its outcome

    def abort(self, reason: str) -> None:
        """Drop the connection now (used when a Ping goes unanswered: no FIN will come)."""
        if self._closed.is_set():
            return
        self.close_reason = reason
        transport = self._writer.transport
        transport.abort()
        self._task.cancel()

    async def close(self, reason: str = "closed by us") -> None:
        if not self._closed.is_set():
            self.close_reason = reason
        # a reader that has closed has ended too: it is not cancelled again
        await stop_task(self._task, within=TASK_STOP_S, what="AMI reader")
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            async with asyncio.timeout(1.0):
                await self._writer.wait_closed()

    async def wait_closed(self) -> None:
        await self._closed.wait()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
