"""Each role lands on its home after signing in; `/` leads there; the top bar offers only what the
role may open in this application."""

from __future__ import annotations

import re

import pytest
from aiohttp import ClientResponse

from agentdesk.i18n import CATALOGUE
from agentdesk.navigation import LINKS
from kck.db.models import Role
from tests.agentdesk.conftest import PASSWORD, Client, DeskWorld, csrf_of, sign_in


def nav_links(html: str) -> list[str]:
    found = re.search(r'<nav class="topnav"[^>]*>(.*?)</nav>', html, re.S)
    return re.findall(r'data-nav="([^"]+)"', found.group(1)) if found else []


async def post_login(
    client: Client, username: str, extension: str, next_page: str = ""
) -> ClientResponse:
    """The sign-in form sent as a browser sends it; the answer itself, not where it leads."""
    page = await client.get("/login")
    form = {"username": username, "password": PASSWORD, "extension": extension}
    form |= {"next": next_page, "csrf_token": csrf_of(await page.text())}
    return await client.post("/login", data=form, allow_redirects=False)


@pytest.mark.parametrize(
    ("username", "role", "extension", "home"),
    [
        ("anowak", Role.AGENT, "101", "/desk"),
        ("someone", Role.SUPERVISOR, "", "/supervisor"),
        ("pkowal", Role.SUPERVISOR, "102", "/supervisor"),
        ("someone", Role.ADMIN, "", "/supervisor"),
        ("someone", Role.EDITOR, "", "/editor"),
    ],
)
async def test_each_role_lands_on_its_home_and_slash_leads_there(
    world: DeskWorld, client: Client, username: str, role: Role, extension: str, home: str
) -> None:
    # (a supervisor takes calls under a name the router knows, as in agents.yaml)
    await world.add_user(username, role, extension=extension or None)
    response = await post_login(client, username, extension)
    assert response.status == 302 and response.headers["Location"] == home
    again = await client.get("/", allow_redirects=False)
    assert again.status == 302 and again.headers["Location"] == home
    assert (await client.get(home)).status == 200


async def test_sign_in_still_follows_next_to_a_page_of_this_site(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("kierownik", Role.SUPERVISOR, extension=None)
    response = await post_login(client, "kierownik", "", next_page="/status")
    assert response.headers["Location"] == "/status"


async def test_slash_without_a_session_asks_to_sign_in(client: Client) -> None:
    response = await client.get("/", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/login?next=/"


async def test_agent_top_bar_offers_only_the_desk(world: DeskWorld, client: Client) -> None:
    await world.add_user("anowak")
    await sign_in(client, "anowak")
    assert nav_links(await (await client.get("/desk")).text()) == ["/desk"]
    for page in ("/supervisor", "/editor", "/status"):
        assert (await client.get(page, allow_redirects=False)).status == 403


async def test_supervisor_sees_the_desk_only_when_signed_in_with_an_extension(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("pkowal", Role.SUPERVISOR, extension=None)
    await sign_in(client, "pkowal", extension="")
    html = await (await client.get("/supervisor")).text()
    # the board and the reports are not mounted in this application: no link to them
    assert nav_links(html) == ["/supervisor", "/editor", "/status"]  # the editor: to read cards
    await client.post("/logout", data={"csrf_token": csrf_of(html)})
    await sign_in(client, "pkowal", extension="102")
    html = await (await client.get("/supervisor")).text()
    assert nav_links(html) == ["/supervisor", "/desk", "/editor", "/status"]
    assert "Odbieranie połączeń na numerze wewnętrznym 102." in html


async def test_editor_home_leads_to_the_cards_and_the_menus(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("redaktor", Role.EDITOR, extension=None)
    await sign_in(client, "redaktor", extension="")
    html = await (await client.get("/editor")).text()
    assert nav_links(html) == ["/editor", "/status"]
    assert 'href="/editor/cards"' in html and 'href="/editor/menus"' in html
    assert ">Karty usług</a>" in html and ">Menu IVR</a>" in html
    assert "Stan IVR nieznany w tym procesie." in html  # this application runs no IVR
    client.session.cookie_jar.update_cookies({"kck_lang": "en"})
    english = await (await client.get("/editor")).text()
    assert ">Service cards</a>" in english and ">IVR menus</a>" in english


def test_every_link_of_the_top_bar_has_words_in_the_catalogue() -> None:
    keys = [link.label for link in LINKS] + [link.about for link in LINKS]
    keys += [f"role.{role.value}" for role in Role]
    assert [key for key in keys if key not in CATALOGUE] == []
