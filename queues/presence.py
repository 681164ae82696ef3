"""This process as a holder of callers: its heartbeat in Redis, and the router's periodic sweep.

A waiting call is offered only while the process holding its caller is alive. The heartbeat is
renewed every `beat_s` by this task, whatever the callers hear (an announcement, a ringing
phone), so a caller is never skipped for what they are listening to; when the key had lapsed
(Redis restarted, the process stalled) the router matches the process's callers again at once.

The sweep (every `sweep_s`, on every node; it is idempotent) re-checks what events should have
done: no waiting call beside a free agent who may take it, and no call held by a process that
has been gone longer than `ghost_after_s` (its callers are in the dialplan's fallback queue).
Both counts are logged and kept for /health: anything but 0 is a missed event worth a look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from kck.stopping import TASK_STOP_S, stop_task
from queues.router import NODE_TTL_S, Router

log = logging.getLogger(__name__)


class NodePresence:
    def __init__(
        self,
        router: Router,
        *,
        beat_s: float = 1.0,
        ttl_s: int = NODE_TTL_S,
        sweep_s: float = 5.0,
        ghost_after_s: int = 30,
    ) -> None:
        if ttl_s <= beat_s * 2:
            raise ValueError("the heartbeat's ttl must outlast at least two beats")
        self.router = router
        self.beat_s = beat_s
        self.ttl_s = ttl_s
        self.sweep_s = sweep_s
        self.ghost_after_s = ghost_after_s
        self.beats = 0
        self.returns = 0  # times the key had lapsed and was set again
        self.sweep_matches = 0
        self.ghosts_ended = 0
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """The first beat now (callers queued at once are offered), then every `beat_s`."""
        if self._task is None:
            with contextlib.suppress(Exception):  # Redis away: the loop keeps trying
                await self.router.node_alive(self.router.node, self.ttl_s)
                self.beats += 1
            self._task = asyncio.create_task(self._run(), name="router-node-presence")

    async def stop(self) -> None:
        """Stop beating and say so: this process's callers are not offered any more."""
        if self._task is not None:
            await stop_task(self._task, within=TASK_STOP_S, what="node presence")
            self._task = None
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await self.router.node_gone(self.router.node)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + self.sweep_s
        while True:
            try:
                if await self.router.node_alive(self.router.node, self.ttl_s) and self.beats:
                    self.returns += 1
                    log.warning(
                        "node %s: heartbeat had lapsed; callers matched again", self.router.node
                    )
                self.beats += 1
                if loop.time() >= next_sweep:
                    next_sweep = loop.time() + self.sweep_s
                    await self._sweep()
                self.last_error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.last_error is None:  # one line per outage, not one per beat
                    log.warning("node %s: heartbeat failed: %s", self.router.node, exc)
                self.last_error = str(exc)
            await asyncio.sleep(self.beat_s)

    async def _sweep(self) -> None:
        matched, ghosts = await self.router.sweep(self.ghost_after_s)
        if matched:
            self.sweep_matches += matched
            log.warning("sweep offered %d waiting calls to free agents that no event did", matched)
        if ghosts:
            self.ghosts_ended += ghosts
            log.warning("sweep ended %d calls whose controller process is gone", ghosts)

    def health(self) -> dict[str, object]:
        return {
            "node": self.router.node,
            "beating": self.running and self.last_error is None,
            "heartbeat_returns": self.returns,
            "sweep_matches": self.sweep_matches,
            "ghosts_ended": self.ghosts_ended,
            "last_error": self.last_error,
        }
