"""The menu editor's test world: the real IVR component (menus copied from config/menus, SQLite,
the test Redis, FastAGI on a free port) and the web application with `/editor/menus` mounted."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from agentdesk.accounts import Accounts
from agentdesk.app import create_app
from agentdesk.menu_routes import register_menu_routes
from ivr.component import IVRComponent
from ivr.editing import MenuEditing
from kck.clock import ManualClock
from kck.db.models import Role
from kck.health import fixed_health
from kck.services import Services
from tests.agentdesk.conftest import PASSWORD
from tests.ivr.support import SHIPPED, local

# the main menu's own wait for a key (main.yaml, step main_menu): what the tests change
MAIN_MENU_TIMEOUT = "    timeout: 6\n    retries: 2\n    timeout_prompt: no_choice\n"


def main_menu_timeout(main_yaml: str, seconds: int) -> str:
    assert main_yaml.count(MAIN_MENU_TIMEOUT) == 1
    return main_yaml.replace(MAIN_MENU_TIMEOUT, MAIN_MENU_TIMEOUT.replace("6", str(seconds), 1))


@dataclass
class MenuEditorWorld:
    services: Services
    ivr: IVRComponent
    editing: MenuEditing
    app: web.Application

    async def add_user(self, name: str, role: Role, extension: str | None = None) -> None:
        await Accounts(self.services.sessions).add(
            name, PASSWORD, role, extension=extension, display_name=name.title()
        )


async def menu_editor_world(
    services: Services, *, serve_agi: bool
) -> AsyncIterator[MenuEditorWorld]:
    menus = services.settings.path(services.settings.paths.menus)
    shutil.copytree(SHIPPED, menus)
    services.settings = services.settings.model_copy(
        update={"agi": services.settings.agi.model_copy(update={"port": 0})}
    )
    services.clock = ManualClock(local("2026-11-24 10:00"))  # office hours, whatever the real time
    component = IVRComponent(services, watch=False, serve_agi=serve_agi)
    await component.start()
    try:
        editing = MenuEditing(
            component.library, tests_dir=menus / "tests", timezone=services.settings.timezone
        )
        app = create_app(services, fixed_health({"mode": "test", "parts": {}}))
        register_menu_routes(app, editing)
        yield MenuEditorWorld(services, component, editing, app)
    finally:
        await component.stop()
