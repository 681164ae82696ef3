"""/openapi.json describes every API route of the running web application: the routes are
walked in the application `kck serve` builds (the desk, board, reports, recordings, matters,
Open311), and a JSON route that the description lacks — or a described one the application does
not have — fails the test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest
from pydantic import SecretStr

from agentdesk.component import MatterWiring, WebComponent
from agentdesk.openapi import OPENAPI_PATH, OPERATIONS, is_api_route
from kck.health import fixed_health
from kck.services import Services
from tests.board.conftest import make_router
from tests.matters.world import SIGNER


@pytest.fixture
async def web_component(configured_services: Services) -> AsyncIterator[WebComponent]:
    http = configured_services.settings.http.model_copy(
        update={"port": 0, "monitoring_token": SecretStr("t")}
    )
    services = replace(
        configured_services,
        settings=configured_services.settings.model_copy(update={"http": http}),
    )
    component = WebComponent(
        services,
        make_router(services),
        fixed_health({"mode": "test", "parts": {}}),
        matters=MatterWiring(SIGNER, lambda: None),
    )
    await component.start()
    try:
        yield component
    finally:
        await component.stop()


def api_routes(component: WebComponent) -> set[tuple[str, str]]:
    assert component.app is not None
    found = set()
    for route in component.app.router.routes():
        resource = route.resource
        if resource is None or route.method == "HEAD":
            continue
        if is_api_route(resource.canonical):
            found.add((route.method, resource.canonical))
    return found


async def test_every_api_route_of_the_application_is_described_and_nothing_else(
    web_component: WebComponent,
) -> None:
    routes = api_routes(web_component)
    assert ("POST", "/open311/v2/requests.{format}") in routes  # Open311 is mounted
    assert ("GET", "/api/board") in routes  # and the board, as `kck serve` does
    assert sorted(routes - set(OPERATIONS)) == [], "routes /openapi.json does not describe"
    assert sorted(set(OPERATIONS) - routes) == [], "described routes the application lacks"


async def test_the_description_is_served_as_openapi_3_1(web_component: WebComponent) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{web_component.url.rstrip('/')}{OPENAPI_PATH}") as response,
    ):
        assert response.status == 200
        document = await response.json()
    assert document["openapi"] == "3.1.0"
    post = document["paths"]["/open311/v2/requests.{format}"]["post"]
    form = post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"api_key", "service_code", "lat", "long", "attribute[kind]"} <= set(form["properties"])
    assert post["security"] == [{"api_key": []}]
    ticket = document["paths"]["/api/tickets/{number}"]["get"]
    assert ticket["parameters"][0] == {
        "name": "number",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    schemes = document["components"]["securitySchemes"]
    for path in document["paths"].values():
        for operation in path.values():
            for requirement in operation["security"]:
                assert set(requirement) <= set(schemes)
