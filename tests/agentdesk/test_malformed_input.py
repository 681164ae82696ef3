"""Malformed input on every POST route (and cookies on any route) is a 400 naming what was wrong,
never a 500: bodies that are not UTF-8, a lone surrogate or deep nesting in JSON, broken
multipart, cookies that cannot be read. Through the real app (desk, tickets, board, reports)
over real sockets; the odd bytes are written by hand where aiohttp's client would refuse them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from agentdesk.accounts import Accounts
from agentdesk.recording_routes import register_recording_routes
from kck.db.models import Role
from kck.services import Services
from recordings.access import RecordingAccess
from tests.agentdesk.conftest import PASSWORD, csrf_of
from tests.board.conftest import build_board_app

# Every POST route of the application, as its own screen sends it (JSON or a form).
JSON_ROUTES = (
    "/api/desk/state",
    "/api/desk/wrap-up",
    "/api/desk/transfer",
    "/api/desk/consult",
    "/api/desk/recording",
    "/api/tickets",
    "/api/tickets/KCK-2026-000001/residents",
    "/api/board/agents/anna/state",
    "/api/recordings/1/access",
)
FORM_ROUTES = (
    "/login",
    "/logout",
    "/editor/cards/nowy-dowod",
    "/editor/cards/nowy-dowod/revisions/1/restore",
    "/editor/new-card",
)


@dataclass(frozen=True)
class Body:
    """A malformed body: its bytes, its content type and a word the 400's message must hold."""

    name: str
    data: bytes
    content_type: str
    names: str


NESTED = b"[" * 100_000 + b"]" * 100_000
JSON_BODIES = (
    Body("json not UTF-8", b'{"state": "dost\xeapny"}', "application/json", "UTF-8"),
    Body("json lone surrogate", b'{"state": "\\ud800"}', "application/json", "surrogate"),
    Body("json nested 100000 deep", NESTED, "application/json", "JSON"),
    Body("json nested 100 deep", b'{"a":' * 100 + b"1" + b"}" * 100, "application/json", "JSON"),
    Body("text/plain not UTF-8", b'{"state": "\xff"}', "text/plain", "UTF-8"),
    Body("not JSON", b"state=available", "application/json", "JSON"),
)
FORM_BODIES = (
    Body(
        "multipart without its boundary",
        b"--x\r\nContent-Disposition: form-data; name=csrf_token\r\n\r\nabc",
        "multipart/form-data; boundary=x",
        "multipart",
    ),
    Body(
        "multipart garbage",
        b"this is not multipart at all",
        "multipart/form-data; boundary=zzz",
        "multipart",
    ),
    Body("multipart no boundary", b"--\r\n", "multipart/form-data", "multipart"),
    Body(
        "urlencoded not UTF-8",
        b"csrf_token=abc&username=\xff\xfe",
        "application/x-www-form-urlencoded",
        "UTF-8",
    ),
    Body(
        "urlencoded percent-escaped not UTF-8",
        b"csrf_token=abc&username=%ff%fe",
        "application/x-www-form-urlencoded",
        "UTF-8",
    ),
)


@pytest.fixture
async def supervisor(
    configured_services: Services,
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient]],
) -> AsyncIterator[tuple[TestClient, str]]:
    """A supervisor signed in on the whole application (desk, tickets, board, reports)."""
    app = build_board_app(configured_services)
    services = configured_services
    access = RecordingAccess(
        services.sessions,
        services.redis,
        services.bus.prefix,
        services.settings.recordings_dir,
        services.clock,
    )
    register_recording_routes(app, access, None)
    client = await aiohttp_client(app)
    await Accounts(configured_services.sessions).add("sylwia", PASSWORD, Role.SUPERVISOR)
    page = await client.get("/login")
    signed_in = await client.post(
        "/login",
        data={"username": "sylwia", "password": PASSWORD, "csrf_token": csrf_of(await page.text())},
    )
    assert signed_in.status == 200, await signed_in.text()
    yield client, csrf_of(await signed_in.text())
    await client.close()


async def _refused_as_malformed(response: ClientResponse, names: str) -> None:
    text = await response.text()
    assert response.status == 400, f"{response.status}: {text[:300]}"
    assert names.lower() in text.lower(), text[:300]


@pytest.mark.parametrize("body", JSON_BODIES + FORM_BODIES, ids=lambda b: b.name)
async def test_malformed_body_is_a_400_naming_what_is_wrong(
    supervisor: tuple[TestClient, str], body: Body
) -> None:
    client, token = supervisor
    response = await client.post(
        "/api/desk/state",
        data=body.data,
        headers={"Content-Type": body.content_type, "X-CSRF-Token": token},
    )
    await _refused_as_malformed(response, body.names)


async def test_every_post_route_reads_its_body_through_the_one_reader(
    supervisor: tuple[TestClient, str],
) -> None:
    client, token = supervisor
    assert client.app is not None
    posted = sorted(
        route.resource.canonical
        for route in client.app.router.routes()
        if route.method == "POST" and route.resource is not None
    )
    assert len(posted) == len(JSON_ROUTES + FORM_ROUTES), f"a POST route is not tried: {posted}"
    worst = (JSON_BODIES[0], JSON_BODIES[1], JSON_BODIES[2], FORM_BODIES[1], FORM_BODIES[4])
    for path in JSON_ROUTES + FORM_ROUTES:
        for body in worst:
            response = await client.post(
                path,
                data=body.data,
                headers={"Content-Type": body.content_type, "X-CSRF-Token": token},
                allow_redirects=False,
            )
            text = await response.text()
            assert response.status == 400, f"{path} {body.name}: {response.status} {text[:200]}"
            assert body.names.lower() in text.lower(), f"{path} {body.name}: {text[:200]}"


async def _raw_request(client: TestClient, head: bytes, body: bytes = b"") -> tuple[int, str]:
    """One HTTP/1.1 request written byte for byte (aiohttp's client would not send these)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(head + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
        writer.write(body)
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2].decode("utf-8", "replace")


UNREADABLE_COOKIES = {
    "session not UTF-8": b"kck_session=\xff\xfe",
    "language not UTF-8": b"kck_lang=\xc3\x28",
    "someone else's cookie not UTF-8": b"other=\xc3\x28; kck_lang=pl",
    "session with a control character": b"kck_session=a\x01b",
    "session with an unterminated quote": b'kck_session="unterminated',
    "session with a letter outside ASCII": "kck_session=zażółć".encode(),
}


@pytest.mark.parametrize("cookie", UNREADABLE_COOKIES.values(), ids=UNREADABLE_COOKIES.keys())
async def test_unreadable_cookie_is_a_400_naming_the_cookie(
    supervisor: tuple[TestClient, str], cookie: bytes
) -> None:
    client, token = supervisor
    for method, path in (("GET", "/desk"), ("GET", "/login"), ("POST", "/api/desk/state")):
        head = (
            (
                f"{method} {path} HTTP/1.1\r\nHost: {client.host}:{client.port}\r\n"
                f"Content-Type: application/json\r\nX-CSRF-Token: {token}\r\n"
            ).encode()
            + b"Cookie: "
            + cookie
            + b"\r\n"
        )
        status, text = await _raw_request(client, head, b"{}")
        assert status == 400, f"{method} {path}: {status} {text[:200]}"
        assert "cookie" in text.lower(), text[:200]


async def test_a_cookie_of_another_application_that_reads_well_is_left_alone(
    supervisor: tuple[TestClient, str],
) -> None:
    client, _ = supervisor
    client.session.cookie_jar.update_cookies({"_ga": "GA1.2.3-4", "theme": '"dark"'})
    response = await client.get("/desk")
    assert response.status == 200
