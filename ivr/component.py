"""The IVR as a runtime component: menu library, hot reload by file watch, and the FastAGI route."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ivr.agi_route import IVRRoute, create_ivr_route
from ivr.dialplan_gateway import DialplanQueueGateway
from ivr.matter_port import MatterStatusSource
from ivr.prompt_builder import sound_exists_in
from ivr.routing import QueueGateway
from ivr.speech_adapter import start_speech
from ivr.speech_port import IntentRecogniser, installed_recogniser
from ivr.versions import MenuLibrary, MenuRejected, NoMenuVersion, VersionInfo
from kck.bus import LiveSubscription
from kck.phone import TrunkDial
from kck.services import Services
from kck.stopping import TASK_STOP_S, raise_if_cancel_requested, stop_task
from kck.yamlsource import YAMLSourceError

log = logging.getLogger(__name__)

VERSION_CHANNEL = "ivr"
# A node keeps the live menu version it knows for this long without asking Redis on every call;
# a change made on any node is broadcast on VERSION_CHANNEL and taken at once by the others.
# Without the broadcast (e.g. `kck ivr reload` from a shell) every node has it within this time.
LIVE_VERSION_CACHE_S = 2.0


class IVRComponent:
    """`routes` maps FastAGI paths to handlers ({"ivr": route}); `library` reloads and rolls back."""

    name = "ivr"

    def __init__(
        self,
        services: Services,
        gateway: QueueGateway | None = None,
        *,
        watch: bool = True,
        serve_agi: bool = True,
        matters: MatterStatusSource | None = None,
    ) -> None:
        """`gateway`: how callers reach a queue — the composition root gives the router's
        (`ivr.router_gateway`); without one, the dialplan's own queue takes them."""
        settings = services.settings
        self.services = services
        self.watch = watch
        self.serve_agi = serve_agi
        self.menus_dir = settings.path(settings.paths.menus)
        # kck builds and checks prompts in its own folder; Asterisk plays them by its own path
        self.sounds_dir = settings.sounds_dir
        self.asterisk_sounds_dir = settings.asterisk_sounds_dir
        self.library = MenuLibrary(
            services.sessions,
            services.redis,
            menus_dir=self.menus_dir,
            config_dir=settings.config_dir,
            sound_exists=sound_exists_in(self.sounds_dir),
            key_prefix=settings.redis.key_prefix,
            clock=services.clock,
            on_change=self._announce,
            live_cache_s=LIVE_VERSION_CACHE_S,
        )
        self.gateway: QueueGateway = gateway or DialplanQueueGateway(services.bus)
        self.speech: IntentRecogniser | None = installed_recogniser()
        self._speech_service: Any = None
        self.route: IVRRoute = create_ivr_route(
            self.library,
            self.gateway,
            services.bus,
            clock=services.clock,
            sounds_dir=self.asterisk_sounds_dir,
            recordings_dir=settings.path(settings.paths.recordings),
            dial=TrunkDial.from_settings(settings),
            speech_provider=lambda: self.speech,
            matters=matters,
        )
        self.routes: dict[str, IVRRoute] = {"ivr": self.route}
        self.last_rejection: str | None = None
        self.live_label: str | None = None
        self.reloads = 0
        self._watcher: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._versions: LiveSubscription | None = None
        self._stop = asyncio.Event()
        self._server: Any = None

    async def _announce(self, info: VersionInfo) -> None:
        self.live_label = info.label
        await self.services.bus.broadcast(VERSION_CHANNEL, "menu_version", info.as_dict())

    async def start(self) -> None:
        if self.speech is None:
            self.speech, self._speech_service = await start_speech(
                self.services.settings, self.asterisk_sounds_dir
            )
        try:
            self.live_label = (await self.library.ensure_live(by="startup")).label
        except (MenuRejected, NoMenuVersion, YAMLSourceError) as exc:
            # Calls still reach people: without a live menu the route fails and the dialplan's
            # plain queue answers. The editors see the errors in the log and in `kck ivr versions`.
            self.last_rejection = str(exc)
            log.error("%s", exc)
        # subscribed before start returns: a version made live by another node from now on is seen
        self._versions = await self.services.bus.subscription(VERSION_CHANNEL).open()
        self._listener = asyncio.create_task(
            self._follow_versions(self._versions), name="ivr-version-follow"
        )
        if self.watch:
            self._stop.clear()
            self._watcher = asyncio.create_task(self._watch(), name="ivr-menu-watch")
        if self.serve_agi:
            from asterisk.components import fastagi_server_from_settings

            self._server = fastagi_server_from_settings(self.services.settings.agi, self.routes)
            await self._server.start()

    async def _follow_versions(self, versions: LiveSubscription) -> None:
        """Take a version another node made live at once (not after `LIVE_VERSION_CACHE_S`).

        While Redis is away the subscription subscribes again by itself; the cache still
        expires meanwhile, so calls read the live version from Redis again."""
        async for event_type, data in versions:
            if event_type == "menu_version" and isinstance(data.get("id"), int):
                self.library.live_changed(data["id"])
                self.live_label = str(data.get("label") or self.live_label)

    async def hand_back_calls(self) -> None:
        """Stop the FastAGI server: every live caller goes back to the dialplan's fallback queue
        within its hand-back bound (asterisk.agi.server.STOP_HANDBACK_S). The runtime calls
        this before it stops any other part (the waiting callers still need the router)."""
        server, self._server = self._server, None
        if server is not None:
            await server.stop()

    async def stop(self) -> None:
        await self.hand_back_calls()
        self._stop.set()
        for task, what in (
            (self._listener, "menu version listener"),
            (self._watcher, "menu watcher"),
        ):
            if task is not None:
                await stop_task(task, within=TASK_STOP_S, what=what)
        self._listener = self._watcher = None
        if self._versions is not None:
            await self._versions.close()
            self._versions = None
        if self._speech_service is not None:
            await self._speech_service.stop()
            self._speech_service = None

    async def reload(self, *, by: str, message: str | None = None) -> str:
        """Reload from the menus folder; returns a one-line verdict (used by the watcher and web)."""
        try:
            result = await self.library.reload(by=by, message=message)
        except (MenuRejected, NoMenuVersion, YAMLSourceError) as exc:
            self.last_rejection = str(exc)
            log.error("%s", exc)
            return f"rejected: {exc}"
        self.reloads += 1
        self.last_rejection = None
        return f"{result.version.label} is live" if result.changed else "no change"

    async def _watch(self) -> None:
        from watchfiles import awatch

        while not self._stop.is_set():
            raise_if_cancel_requested()  # 3.11's wait_for can turn a cancel into a timeout
            try:
                if not self.menus_dir.exists():
                    await asyncio.wait_for(self._stop.wait(), 5)
                    continue
                async for _changes in awatch(self.menus_dir, stop_event=self._stop, debounce=400):
                    verdict = await self.reload(by="watch", message="file change")
                    log.info("menus changed on disk: %s", verdict)
            except TimeoutError:
                continue
            except asyncio.CancelledError:
                raise
            except Exception:  # the watcher must outlive a bad moment on the disk
                log.exception("menu watcher failed; restarting it")
                await asyncio.sleep(1)

    @property
    def agi_port(self) -> int | None:
        """The FastAGI server's port once started (port 0 in the settings: any free one)."""
        return None if self._server is None else int(self._server.port)

    async def metrics_text(self) -> str:
        """Prometheus text of the FastAGI server (the web app's `/metrics` collects it)."""
        if self._server is None:
            return ""
        from asterisk.metrics import FastAGICollector
        from kck.metrics import collector_text

        return collector_text(FastAGICollector(self._server))

    def health(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "up": self.live_label is not None,
            "live_version": self.live_label,
            "menus": str(self.menus_dir),
            "watching": self._watcher is not None and not self._watcher.done(),
            "reloads": self.reloads,
            "speech": self.speech is not None,
            "last_rejection": self.last_rejection,
        }
        if self._server is not None:
            out["agi"] = f"{self._server.host}:{self._server.port}"
            out["active_sessions"] = self._server.active_sessions
            out["sessions_started"] = self._server.sessions_started
            out["connections_rejected"] = self._server.connections_rejected
        return out
