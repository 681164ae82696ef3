"""Runs the web application as a runtime component (an aiohttp site on the configured bind)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from agentdesk.app import create_app
from kck.services import Services

if TYPE_CHECKING:
    from kck.runtime import Runtime


class WebComponent:
    name = "web"

    def __init__(self, services: Services) -> None:
        self.services = services
        self._runner: web.AppRunner | None = None
        self._runtime: Runtime | None = None
        self.port: int | None = None

    def bind_runtime(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def _health(self) -> dict[str, Any]:
        if self._runtime is None:
            return {"mode": "?", "parts": {"web": self.health()}}
        return self._runtime.health()

    async def start(self) -> None:
        app = create_app(self.services, self._health)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        http = self.services.settings.http
        site = web.TCPSite(self._runner, http.host, http.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else http.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def health(self) -> dict[str, Any]:
        return {"up": self._runner is not None, "url": self.url}

    @property
    def url(self) -> str:
        return f"http://{self.services.settings.http.host}:{self.port}/"


async def create_web_component(services: Services) -> WebComponent:
    return WebComponent(services)
