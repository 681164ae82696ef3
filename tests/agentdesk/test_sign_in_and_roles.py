"""Sign-in, sessions, roles on every route and CSRF, through the real app and a real Redis."""

from __future__ import annotations

import html as html_module
import re
from urllib.parse import quote, unquote

import pytest

from agentdesk.keys import access_key, extensions_key
from kck.db.models import Role
from tests.agentdesk.conftest import PASSWORD, Client, DeskWorld, csrf_of, sign_in


async def test_agent_with_the_right_password_lands_on_the_desk(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "username": "anowak",
            "password": PASSWORD,
            "extension": "101",
            "csrf_token": csrf_of(await page.text()),
        },
    )
    assert response.status == 200
    assert str(response.url).endswith("/desk")
    html = await response.text()
    assert 'id="agent-extension">101<' in html
    assert (await world.backend.status("anowak")).state.value == "paused"


async def test_wrong_password_is_refused_without_a_session(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "username": "anowak",
            "password": "wrong password",
            "extension": "101",
            "csrf_token": csrf_of(await page.text()),
        },
    )
    assert response.status == 401
    assert "Nieprawidłowy użytkownik lub hasło" in await response.text()
    assert "kck_session" not in {c.key for c in client.session.cookie_jar}
    assert (await client.get("/api/desk/state")).status == 401


async def test_unknown_user_gets_the_same_answer_as_a_wrong_password(
    world: DeskWorld, client: Client
) -> None:
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={"username": "nobody", "password": PASSWORD, "csrf_token": csrf_of(await page.text())},
    )
    assert response.status == 401
    assert "Nieprawidłowy użytkownik lub hasło" in await response.text()


async def test_disabled_account_cannot_sign_in_and_loses_its_open_session(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    await sign_in(client, "anowak")
    assert (await client.get("/api/desk/state")).status == 200
    await world.accounts.set_active("anowak", False)
    assert (await client.get("/api/desk/state")).status == 401
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={"username": "anowak", "password": PASSWORD, "csrf_token": csrf_of(await page.text())},
    )
    assert response.status == 401


async def test_agent_sees_only_the_desk(world: DeskWorld, client: Client) -> None:
    await world.add_user("anowak")
    await sign_in(client, "anowak")
    status_page = await client.get("/status", allow_redirects=False)
    assert status_page.status == 403
    assert "Brak uprawnień" in await status_page.text()
    assert (await client.get("/desk")).status == 200


@pytest.mark.parametrize(
    ("role", "path", "expected"),
    [
        (Role.EDITOR, "/desk", 403),
        (Role.EDITOR, "/api/desk/state", 403),
        (Role.EDITOR, "/api/tickets/KCK-2026-000001", 403),
        (Role.EDITOR, "/status", 200),
        (Role.EDITOR, "/editor", 200),
        (Role.EDITOR, "/supervisor", 403),
        (Role.SUPERVISOR, "/status", 200),
        (Role.SUPERVISOR, "/supervisor", 200),
        (Role.SUPERVISOR, "/editor", 200),  # to read the cards
        (Role.ADMIN, "/supervisor", 200),
        (Role.ADMIN, "/editor", 200),
        (Role.SUPERVISOR, "/desk", 200),
        (Role.ADMIN, "/desk", 403),
        (Role.ADMIN, "/api/tickets/KCK-2026-000001", 404),
    ],
)
async def test_each_role_opens_only_its_pages(
    world: DeskWorld, client: Client, role: Role, path: str, expected: int
) -> None:
    await world.add_user("someone", role, extension=None)
    await sign_in(client, "someone", extension="")
    response = await client.get(path, allow_redirects=False)
    assert response.status == expected


async def test_editor_cannot_save_a_ticket_even_with_a_valid_token(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("editor", Role.EDITOR, extension=None)
    token = await sign_in(client, "editor", extension="")
    response = await client.post(
        "/api/tickets", json={"category": "other"}, headers={"X-CSRF-Token": token}
    )
    assert response.status == 403


async def test_every_route_declares_who_may_use_it(world: DeskWorld) -> None:
    access = world.app[access_key]
    for route in world.app.router.routes():
        canonical = route.resource.canonical if route.resource else ""
        if canonical.startswith("/static"):
            continue
        assert (route.method, canonical) in access, f"{route.method} {canonical} has no access rule"


async def test_anonymous_page_request_goes_to_login_and_api_gets_401(
    world: DeskWorld, client: Client
) -> None:
    page = await client.get("/desk", allow_redirects=False)
    assert page.status == 302
    assert page.headers["Location"] == "/login?next=/desk"
    assert (await client.get("/api/desk/state")).status == 401
    assert (await client.get("/health")).status == 200


async def test_state_change_without_csrf_token_is_refused(world: DeskWorld, client: Client) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    missing = await client.post("/api/desk/state", json={"state": "available"})
    assert missing.status == 403
    assert (await missing.json())["error"] == "csrf"
    wrong = await client.post(
        "/api/desk/state", json={"state": "available"}, headers={"X-CSRF-Token": token[:-2] + "xx"}
    )
    assert wrong.status == 403
    assert (await world.backend.status("anowak")).state.value == "paused"
    right = await client.post(
        "/api/desk/state", json={"state": "available"}, headers={"X-CSRF-Token": token}
    )
    assert right.status == 200
    assert (await right.json())["state"] == "available"


async def test_post_from_another_site_is_refused_even_with_the_token(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    response = await client.post(
        "/api/desk/state",
        json={"state": "available"},
        headers={"X-CSRF-Token": token, "Origin": "http://evil.example"},
    )
    assert response.status == 403


async def test_login_form_without_its_csrf_cookie_is_refused(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    response = await client.post(
        "/login", data={"username": "anowak", "password": PASSWORD, "csrf_token": "made-up"}
    )
    assert response.status == 403


async def test_logout_without_csrf_is_refused_and_with_it_ends_the_session(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    assert (await client.post("/logout", data={})).status == 403
    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 302
    assert (await client.get("/api/desk/state")).status == 401
    assert (await world.backend.status("anowak")).state.value == "logged_out"


async def test_extension_is_bound_at_sign_in_and_refused_to_a_second_agent(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak", extension="101")
    await world.add_user("pkowal", extension="102")
    await sign_in(client, "anowak", extension="101")
    client.session.cookie_jar.clear()  # another browser
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "username": "pkowal",
            "password": PASSWORD,
            "extension": "101",
            "csrf_token": csrf_of(await page.text()),
        },
    )
    assert response.status == 409
    assert "Numer wewnętrzny 101 jest już zajęty przez anowak." in await response.text()


async def test_agent_at_another_extension_than_the_router_dials_is_refused(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak", extension="101")
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "username": "anowak",
            "password": PASSWORD,
            "extension": "109",
            "csrf_token": csrf_of(await page.text()),
        },
    )
    assert response.status == 409
    assert (
        "Nie można zalogować do kolejki: to konto pracuje przy telefonie 101 — podaj ten numer"
        in await response.text()
    )
    assert await world.app[extensions_key].holder("109") is None  # released again


def _next_of(html: str) -> str:
    found = re.search(r'name="next" value="([^"]*)"', html)
    assert found, "no next field in the login page"
    return html_module.unescape(found.group(1))


async def _sign_in_with_next(client: Client, query_next: str, posted_next: str | None) -> str:
    """Open /login?next=… as a link would, sign in; where the browser is sent (Location)."""
    page = await client.get(f"/login?next={query_next}")
    html = await page.text()
    response = await client.post(
        "/login",
        data={
            "username": "anowak",
            "password": PASSWORD,
            "extension": "101",
            "next": _next_of(html) if posted_next is None else posted_next,
            "csrf_token": csrf_of(html),
        },
        allow_redirects=False,
    )
    assert response.status == 302, await response.text()
    return response.headers["Location"]


FOREIGN_NEXT = {
    "tab then slash": "/%09/evil.example/",
    "line break then slash": "/%0d%0a/evil.example/",
    "NUL then slash": "/%00/evil.example/",
    "double slash": "//evil.example/",
    "slash backslash": "/%5Cevil.example/",
    "backslash inside": "/desk%5C..%5C%5Cevil.example",
    "scheme": "https://evil.example/",
    "javascript": "javascript:alert(1)",
    "space then slashes": "%20//evil.example/",
    "no-break space": "/%C2%A0/evil.example/",
    "line separator": "/%E2%80%A8/evil.example/",
    "relative": "evil.example",
}


@pytest.mark.parametrize("query_next", FOREIGN_NEXT.values(), ids=FOREIGN_NEXT.keys())
async def test_next_cannot_send_the_user_to_another_site(
    world: DeskWorld, client: Client, query_next: str
) -> None:
    await world.add_user("anowak")
    # as the page hands it on, and as posted by hand (decoded, as a form field carries it)
    assert await _sign_in_with_next(client, query_next, None) == "/desk"
    client.session.cookie_jar.clear()
    assert await _sign_in_with_next(client, query_next, unquote(query_next)) == "/desk"


async def test_next_on_this_site_is_where_the_user_lands(world: DeskWorld, client: Client) -> None:
    await world.add_user("anowak")
    wanted = "/api/desk/state?from=login"
    assert await _sign_in_with_next(client, quote(wanted, safe=""), None) == wanted


async def test_english_switch_translates_messages(world: DeskWorld, client: Client) -> None:
    client.session.cookie_jar.update_cookies({"kck_lang": "en"})
    page = await client.get("/login")
    assert "Sign in" in await page.text()
    response = await client.post(
        "/login",
        data={"username": "x", "password": "y", "csrf_token": csrf_of(await page.text())},
    )
    assert "Wrong user name or password." in await response.text()
