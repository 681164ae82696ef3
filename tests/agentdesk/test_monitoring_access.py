"""/health's status code stays open for load balancers with a minimal body; its parts' detail and
/metrics are for a supervisor's session or a scraper with `http.monitoring_token`. Through the
real web component (the one `kck serve` runs) on a real port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from agentdesk.accounts import Accounts
from agentdesk.component import WebComponent
from kck.db.models import Role
from kck.health import fixed_health
from kck.services import Services
from tests.agentdesk.conftest import PASSWORD, csrf_of
from tests.board.conftest import make_router

TOKEN = "scrape-me-7f3a9c"
SECRET_HOST = "pbx1.internal"  # what the parts' detail names and strangers must not see


@pytest.fixture
def parts() -> dict[str, Any]:
    return {"web": {"up": True}, "ami": {"up": True, "host": SECRET_HOST}}


@pytest.fixture
async def url(configured_services: Services, parts: dict[str, Any]) -> AsyncIterator[str]:
    http = configured_services.settings.http.model_copy(
        update={"port": 0, "monitoring_token": SecretStr(TOKEN)}
    )
    services = replace(
        configured_services, settings=configured_services.settings.model_copy(update={"http": http})
    )
    accounts = Accounts(services.sessions)
    await accounts.add("sylwia", PASSWORD, Role.SUPERVISOR)
    await accounts.add("edek", PASSWORD, Role.EDITOR)

    async def metrics() -> str:
        return "kck_test_calls_total 7.0\n"

    component = WebComponent(
        services, make_router(services), fixed_health({"mode": "test", "parts": parts}), [metrics]
    )
    await component.start()
    try:
        yield f"http://127.0.0.1:{component.port}"
    finally:
        await component.stop()


async def _get(
    url: str, headers: dict[str, str] | None = None, *, user: str = ""
) -> tuple[int, str]:
    """GET `url`, signed in as `user` first if given: status and body."""
    site = url.rsplit("/", 1)[0]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        if user:
            async with http.get(f"{site}/login") as page:
                token = csrf_of(await page.text())
            form = {"username": user, "password": PASSWORD, "csrf_token": token}
            async with http.post(f"{site}/login", data=form) as signed_in:
                assert signed_in.status == 200, await signed_in.text()
        async with http.get(url, headers=headers or {}) as response:
            return response.status, await response.text()


async def test_a_stranger_gets_health_yes_or_no_and_no_metrics(
    url: str, parts: dict[str, Any]
) -> None:
    assert await _get(f"{url}/health") == (200, '{"status": "up"}')
    parts["ami"]["up"] = False
    assert await _get(f"{url}/health") == (503, '{"status": "down"}')
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        status, text = await _get(f"{url}/metrics", headers)
        assert status == 401, headers
        assert "kck_test" not in text and "monitoring_token" in text, text


async def test_a_scraper_with_the_token_reads_metrics_and_health_detail(url: str) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    status, text = await _get(f"{url}/metrics", bearer)
    assert (status, text) == (200, "kck_test_calls_total 7.0\n")
    status, text = await _get(f"{url}/health", bearer)
    assert status == 200 and SECRET_HOST in text


async def test_a_supervisor_reads_them_signed_in_and_an_editor_does_not(url: str) -> None:
    assert (await _get(f"{url}/metrics", user="sylwia"))[0] == 200
    assert SECRET_HOST in (await _get(f"{url}/health", user="sylwia"))[1]
    assert (await _get(f"{url}/metrics", user="edek"))[0] == 401
    assert (await _get(f"{url}/health", user="edek"))[1] == '{"status": "up"}'
