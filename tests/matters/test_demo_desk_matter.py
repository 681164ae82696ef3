"""In `kck demo`, a ticket an agent forwards at the desk reaches its unit (an .eml file in the
demo's mailbox folder with the link to the unit page), the unit answers on that page, the
resident's e-mail lands beside it as sent, and the desk, the supervisors' matters page and the
IVR's status path all read the new state (issue 15, "Done when")."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
from sqlalchemy.ext.asyncio import create_async_engine

from agentdesk.tickets.matters import MatterStatusByKeys
from kck.clock import SystemClock
from kck.db import session_factory
from tests.agentdesk.conftest import csrf_of
from tests.core.demo_process import Account, running_demo
from tests.ivr.support import run_call, shipped_menu
from tests.matters.test_ivr_status import TO_STATUS
from tests.matters.world import WARSAW, ticket_form
from tests.open311.conftest import form_token_of
from tests.open311.test_demo_portal import body_of, mails


async def signed_in(http: aiohttp.ClientSession, url: str, account: Account) -> str:
    """Sign in through the login form; the session's CSRF token."""
    async with http.get(f"{url}/login") as page:
        token = csrf_of(await page.text())
    form = {
        "username": account.username,
        "password": account.password,
        "extension": account.extension or "",
        "csrf_token": token,
    }
    async with http.post(f"{url}/login", data=form) as signed:
        assert signed.status == 200, await signed.text()
        return csrf_of(await signed.text())


async def test_a_desk_ticket_in_the_demo_is_answered_by_its_unit_and_every_view_says_so(
    tmp_path: Path,
) -> None:
    async with (
        running_demo(tmp_path) as demo,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as agent,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as supervisor,
        aiohttp.ClientSession() as unit,
    ):
        token = await signed_in(agent, demo.url, demo.people[0])
        async with agent.post(
            f"{demo.url}/api/tickets",
            json=ticket_form(units=["ZZM"]),
            headers={"X-CSRF-Token": token},
        ) as saved:
            assert saved.status == 201, await saved.text()
            ticket = await saved.json()
        number = ticket["number"]
        assert ticket["status"] == "forwarded"

        mailbox = tmp_path / "var" / "demo" / "mail"
        [notice] = await mails(mailbox, f"unit_{number}", 1)
        assert notice["To"] == "kck-zzm@krakow.example"
        # the demo on port 0 writes its links with port 0 (mail.public_url): the path counts
        found = re.search(r"http://127\.0\.0\.1:\d+(/unit/matter/\S+)", body_of(notice))
        assert found, body_of(notice)
        link = demo.url + found.group(1)
        async with unit.get(link) as page:
            assert number in await page.text()
            form_token = form_token_of(await page.text())
        answer = {"form_token": form_token, "action": "answer", "text": "Gałąź usunięta."}
        async with unit.post(link, data=answer) as answered:
            assert answered.status == 200, await answered.text()

        [resident] = await mails(mailbox, f"resident_{number}", 1)
        assert resident["To"] == "anna@example.org" and "Gałąź usunięta." in body_of(resident)

        async with agent.get(f"{demo.url}/api/tickets/{number}") as desk:
            assert (await desk.json())["status"] == "resident_informed"
        await signed_in(supervisor, demo.url, demo.accounts["supervisor"])
        async with supervisor.get(f"{demo.url}/matters") as matters:
            html = await matters.text()
        assert re.search(r"<td>mieszkaniec otrzymał odpowiedź</td><td>1</td>", html), html

        # the IVR's status path, by the number's six digits, on the demo's own database
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'var/demo/kck.db'}")
        try:
            reader = MatterStatusByKeys(session_factory(engine), WARSAW, SystemClock())
            keys = f"{number[-6:]}#"
            result, _, _ = await run_call(shipped_menu(), [*TO_STATUS, keys], matters=reader)
        finally:
            await engine.dispose()
        assert result.variables["matter_status"] == "resident_informed"
