"""The router as a runtime component: timers, waiters, SQL recorder, callbacks, AMI, statistics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from asterisk.ami import Originate
from kck.bus import GroupBacklog
from kck.call_events import CALLS_STREAM
from kck.health import probe
from kck.lease import RedisLease, holder_name, run_as_leaseholder
from kck.metrics import collector_text
from kck.phone import TrunkDial
from kck.services import Services
from kck.stopping import TASK_STOP_S, stop_task
from kck.writer_state import WriterState
from queues.ami_events import EventSource, RouterAMIAdapter
from queues.call_resync import CallRowResync
from queues.callbacks import CallbackDialer
from queues.config import RoutingConfig, load_routing_config
from queues.consult import ConsultAMI, ConsultCalls
from queues.presence import NodePresence
from queues.recorder import QueueRecorder, is_poison
from queues.router import Router
from queues.stats import QueueMetrics, QueueStatistics, StatsBroadcaster
from queues.timer import RouterTimer
from queues.waiting import PlaybackStop, TransferLegs

log = logging.getLogger(__name__)

OTHER_NODE = "another_node"  # /health's writer state on a node with database.write_history false


class RouterAMI(EventSource, Protocol):
    """What the router needs of the AMI client (`asterisk.ami.AMIClient`): its events and
    resyncs, Originate for callbacks, and cutting a waiting caller's music short."""

    async def originate(self, originate: Originate) -> Any: ...
    async def stop_playback(self, channel: str) -> None: ...


@runtime_checkable
class TransferAMI(ConsultAMI, Protocol):
    """What the desk's transfers and consults need besides (`asterisk.ami.AMIClient` has it)."""

    async def hangup_bridge_peer(self, channel: str) -> str: ...


class RouterComponent:
    """The router with its timer, heartbeat, statistics, call-history writer, callbacks and AMI
    adapter. The composition root (`kck.controller`) gives it the AMI client and hands its
    `.router` and `stop_playback` to the IVR and the desk."""

    name = "router"

    def __init__(
        self, services: Services, config: RoutingConfig, ami: RouterAMI | None = None
    ) -> None:
        self.services = services
        self.config = config
        self.ami = ami
        settings = services.settings
        self.router = Router(
            services.redis,
            config,
            prefix=services.bus.prefix,  # Lua writes to the bus streams and channels
            clock=services.clock,
            tz=settings.tz,
            live=services.bus.live,  # one pub/sub connection for the whole process
        )
        self.timer = RouterTimer(self.router)
        self.presence = NodePresence(self.router)
        self.stats = QueueStatistics(self.router.store, config)
        self.broadcaster = StatsBroadcaster(self.stats, services.bus)
        self.recorder = QueueRecorder(services.sessions, config)
        tz = settings.tz
        self.writer = WriterState(
            "call-history writer",
            lambda: datetime.now(tz),
            timeout_s=settings.database.write_timeout_s,
        )
        self.ami_adapter = RouterAMIAdapter(self.router)
        self.row_resync = CallRowResync(services.sessions, self.router, services.bus)
        self.callbacks: CallbackDialer | None = None
        self._consults: ConsultCalls | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._consumer = holder_name()
        # False: never takes the writer's lease; another node writes this node's calls' history
        self.writes_history = settings.database.write_history
        self.started = False

    async def metrics_text(self) -> str:
        """Prometheus text of the queue statistics and of the call-history writer's backlog
        (the web app's `/metrics` collects it)."""
        queues = QueueMetrics(await self.stats.snapshot())
        bus = self.services.bus
        backlog = await bus.backlog(CALLS_STREAM, QueueRecorder.GROUP)
        if backlog is None:
            return collector_text(queues)
        set_aside = await bus.set_aside_count(CALLS_STREAM)
        return collector_text(queues, CallHistoryMetrics(backlog, set_aside, self.writer.waiting))

    @property
    def stop_playback(self) -> PlaybackStop | None:
        """How a waiting caller's music or announcement is cut short when an offer comes
        (AMI ControlPlayback); None without AMI (offers then wait for the music slice's end)."""
        return None if self.ami is None else self.ami.stop_playback

    @property
    def transfer_legs(self) -> TransferLegs | None:
        """How a waiting loop carries out an agent's transfer of its caller (AMI: end the
        agent's leg; the trunk: dial a second-line number); None without an AMI client that can."""
        ami = self.ami
        if not isinstance(ami, TransferAMI):
            return None

        async def drop_agent_leg(channel: str) -> None:
            await ami.hangup_bridge_peer(channel)

        return TransferLegs(drop_agent_leg, TrunkDial.from_settings(self.services.settings))

    @property
    def consults(self) -> ConsultCalls | None:
        """The desk's consult over AMI (attended transfer); None without an AMI client that can.
        One for the component: it listens to the client's events."""
        if self._consults is None and isinstance(self.ami, TransferAMI):
            self._consults = ConsultCalls(self.router, self.ami)
        return self._consults

    async def start(self) -> None:
        bus = self.services.bus
        await self.router.waiters.start()
        await self.presence.start()
        self.timer.start()
        await self.broadcaster.start()
        # the one writer of call rows and agent states: one process of the installation at a
        # time, among the nodes that may write (`database.write_history`)
        if self.writes_history:
            lease = RedisLease(self.services.redis, bus.prefix, QueueRecorder.LEASE, self._consumer)
            self._tasks.append(
                asyncio.create_task(
                    run_as_leaseholder(
                        lease,
                        lambda: bus.consume_batches(
                            CALLS_STREAM,
                            QueueRecorder.GROUP,
                            self._consumer,
                            self.recorder.handle_batch,
                            start="0",
                            linger_ms=QueueRecorder.LINGER_MS,
                            poison=is_poison,
                            state=self.writer,
                        ),
                    ),
                    name="queue-recorder",
                )
            )
        else:
            log.info("call history: written by another node (database.write_history is false)")
        client = self.ami
        if client is not None:
            self.ami_adapter.attach(client)
            # after the router's own resync (reconcilers run in the order they were added)
            client.add_reconciler(self.row_resync.reconcile)
            settings = self.services.settings
            self.callbacks = CallbackDialer(
                self.router,
                client.originate,
                dial=TrunkDial.from_settings(settings),
                caller_id=settings.trunk.caller_id or settings.centre.hotline,
            )
            self._tasks.append(
                asyncio.create_task(
                    bus.consume(
                        "offers", CallbackDialer.GROUP, self._consumer, self.callbacks.handle
                    ),
                    name="queue-callbacks",
                )
            )
        else:
            log.warning("no AMI client: device states, resync and callbacks are off")
        self.started = True

    async def stop(self) -> None:
        await asyncio.gather(
            *(stop_task(task, within=TASK_STOP_S, what=task.get_name()) for task in self._tasks)
        )
        self._tasks.clear()
        await self.broadcaster.stop()
        await self.presence.stop()
        await self.timer.stop()
        await self.router.waiters.stop()
        self.started = False

    async def probe(self) -> dict[str, Any]:
        """Redis answers and holds the router's script (loaded again if it was lost)."""
        result = await probe(self.router.store.load_script)
        result["up"] = result["up"] and self.started and self.timer.running
        return result

    def health(self) -> dict[str, Any]:
        return {
            "up": self.started and self.timer.running,
            "queues": len(self.config.queues),
            "agents": len(self.config.agents),
            "ami": self.ami is not None,
            "timer_ticks": self.timer.ticks,
            "presence": self.presence.health(),
            "call_history_writer": (
                self.writer.health() if self.writes_history else {"state": OTHER_NODE}
            ),
        }


class CallHistoryMetrics(Collector):
    """The call-history writer's backlog as gauges: alert when it grows (database down, no
    leaseholder); the stream keeps ~100,000 events, minutes of a national peak."""

    def __init__(self, backlog: GroupBacklog, set_aside: int = 0, waiting: bool = False) -> None:
        self._backlog = backlog
        self._set_aside = set_aside
        self._waiting = waiting

    def collect(self) -> Iterator[GaugeMetricFamily]:
        backlog = self._backlog
        gauges: list[tuple[str, str, float]] = [
            ("behind_seconds", "Stream time the call-history writer is behind.", backlog.behind_s),
            ("pending_events", "Events read by the writer, not yet in SQL.", backlog.pending),
            (
                "unread_events",
                "Events waiting in the stream, not yet read by the writer (database away: "
                "these grow).",
                backlog.unread_events,
            ),
            (
                "oldest_age_seconds",
                "How long ago the oldest event not yet in SQL was published; 0 when none waits.",
                backlog.oldest_age_s,
            ),
            (
                "set_aside_events",
                "Events the writer could never write (bad data), kept on the stream "
                "<prefix>:stream:queues:set-aside; any at all deserves a look.",
                self._set_aside,
            ),
            (
                "writer_waiting",
                "1 while the writer waits for its database (refused, or no answer within "
                "database.write_timeout_s: an outage); 0 while it writes.",
                1.0 if self._waiting else 0.0,
            ),
        ]
        for name, help_text, value in gauges:
            yield GaugeMetricFamily(f"kck_call_history_{name}", help_text, value=value)


async def create_router_component(
    services: Services, ami: RouterAMI | None = None
) -> RouterComponent:
    """The router component on the routing configuration of `paths.config` (read off the loop)."""
    loop = asyncio.get_running_loop()
    config = await loop.run_in_executor(None, load_routing_config, services.settings.config_dir)
    return RouterComponent(services, config, ami)
