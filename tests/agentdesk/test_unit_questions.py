"""A unit's question over HTTP: the resident answers on the reply page of their e-mail (in their
language; a changed or unit link refused), or an agent records the answer on the matter's page;
the supervisors' /matters and the desk's history of the caller show the open question."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from aiohttp import web
from aiohttp.test_utils import TestClient

from agentdesk.keys import pops_key
from agentdesk.tickets.matters import MatterService, UnitAction
from kck.db.models import Role
from matters.links import UnitGrant
from queues.model import Offer, OfferKind
from tests.agentdesk.conftest import DeskWorld, csrf_of, sign_in
from tests.agentdesk.matters_app import (
    link_path,
    outbox,
)
from tests.agentdesk.test_unit_accounts import Agent
from tests.agentdesk.test_unit_page import form_token_of

Client = TestClient[web.Request, web.Application]
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def ask(number: str, unit: str = "ZZM") -> UnitGrant:
    return UnitGrant(number, unit, START + timedelta(days=30))


async def test_the_resident_answers_on_the_reply_page_in_their_language(
    world: DeskWorld, unit_client: Client, matters: MatterService
) -> None:
    number = await Agent(world, unit_client).saves(units=["ZZM"], language="en")
    await matters.unit_act(ask(number), UnitAction.MORE_INFO, "Which gate?")
    [mail] = [m for m in await outbox(world) if m.recipient == "anna@example.org"]
    assert mail.subject == f"A question on your matter {number}"
    reply = link_path(mail.body, "/reply/")
    unit_client.session.cookie_jar.clear()  # the resident is nobody signed in

    page = await unit_client.get(reply)
    html = await page.text()
    assert page.status == 200
    assert f"Matter {number}: a question for you" in html and "Which gate?" in html
    assert "anna@example.org" not in html
    token = form_token_of(html)
    assert (await unit_client.post(reply, data={"text": "Gate 3."})).status == 403  # no form token
    empty = await unit_client.post(reply, data={"form_token": token, "text": " "})
    assert empty.status == 422 and "Please type your answer." in await empty.text()
    sent = await unit_client.post(reply, data={"form_token": token, "text": "Gate 3."})
    assert sent.status == 200 and sent.url.query.get("sent") == "1"
    html = await sent.text()
    assert "your answer has been passed to the unit" in html and "reply-form" not in html
    state = await matters.state(number)
    assert state is not None and [u.status for u in state.units] == ["received"]

    # the unit reads the question and the answer on its page
    [unit_mail] = [m for m in await outbox(world) if m.key.startswith("unit-info:")]
    unit_page = await (await unit_client.get(link_path(unit_mail.body))).text()
    assert "Which gate?" in unit_page and "Gate 3." in unit_page
    # the reply link is not a unit link, and a changed one is refused
    assert (await unit_client.get(reply.replace("/reply/", "/unit/matter/"))).status == 403
    assert (await unit_client.get(reply[:-3] + "AAA")).status == 403
    # answered: the page says so, in the language the resident switched to
    unit_client.session.cookie_jar.update_cookies({"kck_lang": "pl"})
    assert "Na to pytanie już odpowiedziano." in await (await unit_client.get(reply)).text()
    assert (
        await unit_client.get(link_path(unit_mail.body).replace("/unit/matter/", "/reply/"))
    ).status == 403


async def test_an_agent_records_the_answer_and_the_question_shows_on_the_centres_pages(
    world: DeskWorld, unit_client: Client, matters: MatterService
) -> None:
    number = await Agent(world, unit_client).saves(
        units=["ZZM"], contact_consent=False, caller_name=None, caller_email=None
    )
    await matters.unit_act(ask(number), UnitAction.MORE_INFO, "Jak duża jest dziura?")
    assert not [m for m in await outbox(world) if m.key.startswith("resident:")]

    # the desk's history of the caller says what the unit asks
    offer = Offer(
        "o1", "c1", "anowak", "101", "", 20, START.isoformat(), OfferKind.INBOUND,
        {"caller": "+48600123456"},
    )  # fmt: skip
    pop = await world.app[pops_key].build(offer, "pl", datetime.now(UTC))
    [history] = pop["history"]["tickets"]
    assert history["number"] == number
    assert history["status_text"] == ("przekazana do jednostek · ZZM pyta: „Jak duża jest dziura?”")

    # supervisors see it on /matters
    await world.add_user("ewa", Role.SUPERVISOR, extension=None)
    unit_client.session.cookie_jar.clear()
    await sign_in(unit_client, "ewa", extension="")
    html = await (await unit_client.get("/matters")).text()
    assert "Jak duża jest dziura?" in html and f'href="/matters/{number}"' in html

    # the agent who took the ticket records what the resident said on the phone
    unit_client.session.cookie_jar.clear()
    token = await sign_in(unit_client, "anowak")
    found = await (await unit_client.get(f"/api/tickets/{number}")).json()
    assert found["page"] == f"/matters/{number}"  # the desk's lookup links the matter's page
    page = await unit_client.get(f"/matters/{number}")
    html = await page.text()
    assert page.status == 200 and "Jak duża jest dziura?" in html
    assert (await unit_client.post(f"/matters/{number}/answer", data={"text": "x"})).status == 403
    empty = await unit_client.post(
        f"/matters/{number}/answer", data={"csrf_token": token, "text": ""}
    )
    assert empty.status == 409 and "Wpisz odpowiedź mieszkańca." in await empty.text()
    done = await unit_client.post(
        f"/matters/{number}/answer", data={"csrf_token": token, "text": "Pół metra."}
    )
    html = await done.text()
    assert done.status == 200 and "Zapisano odpowiedź mieszkańca" in html
    assert re.search(r"agent:anowak · odpowiedź mieszkańca na pytanie \(.*\): Pół metra\.", html)
    state = await matters.state(number)
    assert state is not None and [u.status for u in state.units] == ["received"]
    again = await unit_client.post(
        f"/matters/{number}/answer", data={"csrf_token": token, "text": "Pół metra."}
    )
    assert again.status == 409 and "Żadna jednostka nie czeka" in await again.text()

    # an agent whose work does not touch the ticket does not see it
    await world.add_user("pkowal", extension="102")
    unit_client.session.cookie_jar.clear()
    await sign_in(unit_client, "pkowal", extension="102")
    assert (await unit_client.get(f"/matters/{number}")).status == 404
    assert csrf_of(await (await unit_client.get("/desk")).text())
