"""Every screen of a supervisor speaks the language of the switch's cookie, or without one the
browser's Accept-Language, else Polish; each offers the switch to the other language."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from aiohttp.test_utils import TestClient

from tests.board.conftest import SignIn

PAGES = ("/login", "/supervisor", "/status", "/board", "/reports")
TITLES = {"pl": "Raporty", "en": "Reports"}  # the top bar's link to /reports


def page_language(html: str) -> str:
    found = re.search(r'<html lang="(\w+)"', html)
    assert found, html[:200]
    return found.group(1)


def switch_of(html: str) -> tuple[str, str]:
    found = re.search(r'id="lang-switch" data-lang="(\w+)" lang="\w+">([^<]+)</a>', html)
    assert found, "no language switch on the page"
    return found.group(1), found.group(2)


@pytest.mark.parametrize(
    ("cookie", "accept", "language"),
    [
        (None, None, "pl"),
        (None, "en-GB,en;q=0.9", "en"),
        (None, "de-DE, en;q=0.5, pl;q=0.8", "pl"),  # the browser's order of wishes
        ("pl", "en-GB,en;q=0.9", "pl"),  # the switch wins over the browser
        ("en", None, "en"),
        ("uk", None, "uk"),
        ("xx", "uk-UA,uk;q=0.9", "uk"),  # a cookie that names no language is ignored
    ],
)
async def test_every_supervisor_screen_follows_the_cookie_then_the_browser(
    board_client: TestClient, sign_in: SignIn, cookie: str | None, accept: str | None, language: str
) -> None:
    await sign_in(board_client, "sylwia", "supervisor")
    if cookie:
        board_client.session.cookie_jar.update_cookies({"kck_lang": cookie})
    headers = {"Accept-Language": accept} if accept else {}
    for path in PAGES:
        html = await (await board_client.get(path, headers=headers)).text()
        assert page_language(html) == language, path
        expected = ("en", "English") if language == "pl" else ("pl", "Polski")
        assert switch_of(html) == expected, path
    wall = await (await board_client.get("/board/wall", headers=headers)).text()
    assert page_language(wall) == language and 'id="lang-switch"' not in wall  # no buttons
    home = await (await board_client.get("/supervisor", headers=headers)).text()
    # Ukrainian has the residents' texts only: a supervisor's page is English then
    assert f">{TITLES['pl' if language == 'pl' else 'en']}</a>" in home


async def test_the_board_script_gets_its_words_from_the_catalogue_in_the_page_language(
    board_client: TestClient, sign_in: SignIn
) -> None:
    await sign_in(board_client, "sylwia", "supervisor")
    board_client.session.cookie_jar.update_cookies({"kck_lang": "en"})
    html = await (await board_client.get("/board")).text()
    found = re.search(r"data-strings='([^']*)'", html)
    assert found
    strings = json.loads(unescape(found.group(1)))
    assert strings["callback.why.noanswer"] == "no answer"
    assert strings["state.paused"] == "paused" and strings["board.live"] == "live"
    assert strings["force.refused.busy"].startswith("The state of {agent} cannot change now")
