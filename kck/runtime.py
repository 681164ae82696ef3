"""Runs kck: starts the database, Redis and the controller's parts (wired in `kck.controller`)
in order, then any extra part (the demo), and stops them in reverse.

Stopping (SIGTERM, Ctrl-C) hands the live callers back to the dialplan before anything else stops
(`CallHolder`), then stops each component within a bound, so neither a caller nor the exit waits
on a part that hangs (docs/deployment.md, "Stopping").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from kck.bus import EventBus
from kck.clock import Clock, SystemClock
from kck.config_check import ConfigurationRefused, check_configuration
from kck.controller import Component, Controller, build_controller
from kck.db import create_engine, require_current_schema, session_factory, upgrade
from kck.health import Probed, probe, select_one
from kck.heap import freeze_start_up
from kck.redis_server import PrivateRedis, connect
from kck.services import Services
from kck.settings import Settings
from kck.stopping import stop_task

log = logging.getLogger(__name__)


@runtime_checkable
class CallHolder(Protocol):
    """A component that holds live callers (the IVR's FastAGI server). On stop, their calls go
    back to the dialplan first, before any other component stops; the component documents how
    long that takes at most (FastAGI: STOP_HANDBACK_S)."""

    async def hand_back_calls(self) -> None: ...


# A part beside the controller, built once the controller's parts have started (the demo).
ExtraPart = Callable[[Services, Controller], Awaitable[Component]]

# Stopping: each step (a CallHolder's hand-back, then each component's stop) gets this long; a
# step still running is cancelled, and left behind if it has not ended COMPONENT_CANCEL_S later.
# The worst case of Runtime.stop is (1 + number of components) x (both), plus closing Redis and
# the database; docs/deployment.md sets systemd's TimeoutStopSec from it.
COMPONENT_STOP_S = 5.0
COMPONENT_CANCEL_S = 1.0


@dataclass
class Runtime:
    """The composition root of `kck serve` and `kck demo` (mode "demo", the demo an extra)."""

    settings: Settings
    mode: str = "serve"
    migrate: bool = False
    clock: Clock | None = None  # the demo's business-day clock, tests' manual clocks
    extras: tuple[ExtraPart, ...] = ()
    components: list[Component] = field(default_factory=list)
    component_stop_s: float = COMPONENT_STOP_S

    def __post_init__(self) -> None:
        self._private_redis: PrivateRedis | None = None
        self.services: Services | None = None
        self.controller: Controller | None = None
        self._stopped = asyncio.Event()
        self._signalled = False

    async def health(self) -> dict[str, Any]:
        """Each part's state as probed now (`kck.health`): the database and Redis answer, and
        each component's own report, merged with its probe when it has one. `down` names the
        parts that are not up."""
        services = self.services
        not_started: dict[str, Any] = {"up": False, "error": "not started"}

        async def probe_database() -> dict[str, Any]:
            return await probe(lambda: select_one(services.engine)) if services else not_started

        async def probe_redis() -> dict[str, Any]:
            return await probe(services.redis.ping) if services else not_started

        # all at once: a paused Redis costs one probe's timeout, not one per part that needs it
        database, redis, *reports = await asyncio.gather(
            probe_database(), probe_redis(), *(_report(c) for c in self.components)
        )
        private = self._private_redis.status() if self._private_redis else {"private": False}
        parts: dict[str, Any] = {
            "database": {**database, "url": _db_kind(self.settings.database_url)},
            "redis": {**redis, **private},
        }
        for component, report in zip(self.components, reports, strict=True):
            parts[component.name] = report
        down = [name for name, part in parts.items() if not part.get("up", False)]
        return {"mode": self.mode, "down": down, "parts": parts}

    async def start(self) -> Services:
        settings = self.settings
        # First: with a configuration `kck check-config` refuses, nothing should start at all.
        report = await asyncio.to_thread(check_configuration, settings)
        if not report.ok:
            raise ConfigurationRefused(report.errors)
        for warning in report.warnings:
            log.warning("configuration: %s", warning)
        engine = create_engine(
            settings.database_url,
            echo=settings.database.echo,
            pool_size=settings.database.pool_size,
        )
        try:
            if self.migrate:
                await upgrade(engine)
            await require_current_schema(engine)
            url = settings.redis.url
            if url is None:
                # The demo's Redis holds nothing worth keeping: it goes when the demo goes,
                # even on kill -9. `kck serve` leaves its own to be adopted by the next start.
                self._private_redis = PrivateRedis(
                    settings.var_dir / "redis", dies_with_owner=self.mode == "demo"
                )
                url = await self._private_redis.start()
            redis = await connect(
                url,
                socket_timeout_s=settings.redis.socket_timeout_s,
                connect_timeout_s=settings.redis.connect_timeout_s,
            )
        except BaseException:
            await engine.dispose()
            if self._private_redis:
                await self._private_redis.stop()
            raise
        self.services = Services(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            redis=redis,
            bus=EventBus(redis, settings.redis.key_prefix),
            clock=self.clock or SystemClock(),
        )
        try:
            self.controller = await build_controller(self.services, self.health)
            for component in self.controller.parts:
                await self._start(component)
            for extra in self.extras:
                await self._start(await extra(self.services, self.controller))
        except BaseException:
            await self.stop()
            raise
        freeze_start_up()
        return self.services

    async def _start(self, component: Component) -> None:
        await component.start()
        self.components.append(component)
        log.info("started %s", component.name)

    async def stop(self) -> None:
        """Callers back to the dialplan first, then every component in reverse order."""
        for component in self.components:
            if isinstance(component, CallHolder):
                await self._bounded(component.hand_back_calls(), f"handing back {component.name}")
        for component in reversed(self.components):
            await self._bounded(component.stop(), f"stopping {component.name}")
        self.components.clear()
        if self.services is not None:
            await self.services.redis.aclose()
            await self.services.engine.dispose()
            self.services = None
        if self._private_redis is not None:
            await self._private_redis.stop()
            self._private_redis = None

    async def _bounded(self, step: Awaitable[None], what: str) -> None:
        """Run one stop step for at most `component_stop_s` (then cancel it): a part that hangs
        must keep neither the callers nor the exit waiting."""
        task = asyncio.ensure_future(step)
        await asyncio.wait({task}, timeout=self.component_stop_s)
        if not task.done():
            log.error("%s takes longer than %s s; cancelling it", what, self.component_stop_s)
            await stop_task(task, within=COMPONENT_CANCEL_S, what=what)
        elif not task.cancelled() and (error := task.exception()) is not None:
            log.error("%s failed", what, exc_info=error)

    def stop_on_signals(self) -> None:
        """Ctrl-C or SIGTERM ends `wait_stopped` (and so a clean shutdown), not a traceback; a
        second one ends the process at once (`_stop_at_once`)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, self._on_first_signal, sig)

    def _on_first_signal(self, sig: signal.Signals) -> None:
        if self._signalled:  # a second one the loop read together with the first
            self._stop_at_once(sig, None)
        self._signalled = True
        log.info("%s: stopping (press Ctrl-C again to stop at once)", sig.name)
        self._stopped.set()
        # The next one is handled by Python between two bytecodes of the main thread, not by
        # the event loop: it works even while a stop step keeps the loop busy.
        for each in (signal.SIGINT, signal.SIGTERM):
            signal.signal(each, self._stop_at_once)

    def _stop_at_once(self, signum: int, frame: object) -> None:
        """The second Ctrl-C or SIGTERM: exit now, without waiting for the clean stop. Callers
        still connected fall back to the dialplan's queue (the FastAGI socket closes); a
        demo's private Redis follows kck (its parent-death signal), the one of `kck serve` is
        adopted by the next start."""
        name = signal.Signals(signum).name
        os.write(2, f"kck: {name} again: stopping at once, without a clean stop\n".encode())
        os._exit(128 + signum)

    async def wait_stopped(self, timeout: float | None = None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), timeout)

    async def run_until_signalled(self) -> None:
        self.stop_on_signals()
        await self.start()
        try:
            await self.wait_stopped()
        finally:
            log.info("shutting down")
            await self.stop()

    def request_stop(self) -> None:
        self._stopped.set()


async def _report(component: Component) -> dict[str, Any]:
    try:
        report = component.health()
        if isinstance(component, Probed):
            probed = await component.probe()
            report = {**report, **probed, "up": bool(report.get("up")) and probed["up"]}
    except Exception as exc:  # health must never take the page down
        return {"up": False, "error": str(exc)}
    return report


def _db_kind(url: str) -> str:
    return url.split(":", 1)[0]
