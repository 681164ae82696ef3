"""The unit page over HTTP: a unit opens its link, marks the matter received and answers; the
resident's answer goes into the outbox. Forged forms and links are refused with a clear page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.test_utils import TestClient

from agentdesk.tickets.matters import MatterService, UnitAction
from kck.clock import ManualClock
from kck.db.models import Role
from matters.links import UnitGrant
from tests.agentdesk.conftest import DeskWorld, sign_in
from tests.agentdesk.matters_app import link_path, outbox
from tests.matters.world import SIGNER, ticket_form

Client = TestClient[web.Request, web.Application]
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def form_token_of(html: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', html)
    assert found, "no form token in the unit page"
    return found.group(1)


async def agent_saves_ticket(world: DeskWorld, client: Client, **changes: object) -> str:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    response = await client.post(
        "/api/tickets", json=ticket_form(**changes), headers={"X-CSRF-Token": token}
    )
    assert response.status == 201, await response.text()
    body = await response.json()
    assert body["status"] == "forwarded"
    assert body["status_text"] == "przekazana do jednostek"
    return str(body["number"])


async def test_a_unit_opens_its_link_marks_received_and_answers_and_the_resident_is_told(
    world: DeskWorld, unit_client: Client
) -> None:
    number = await agent_saves_ticket(world, unit_client, units=["ZZM"])
    [notice] = await outbox(world)
    assert notice.recipient == "kck-zzm@krakow.example"
    path = link_path(notice.body)
    unit_client.session.cookie_jar.clear()  # the unit is nobody signed in

    page = await unit_client.get(path)
    html = await page.text()
    assert page.status == 200
    assert f"Sprawa {number}" in html and "Złamana gałąź nad chodnikiem" in html
    assert "Anna Kowalska" in html  # she agreed to share her details
    assert "600123456" not in html and "anna@example.org" not in html
    token = form_token_of(html)

    received = await unit_client.post(
        path, data={"form_token": token, "action": "received"}, allow_redirects=False
    )
    assert received.status == 303
    assert received.headers["Location"] == f"{path}?done=received"
    answered = await unit_client.post(
        path, data={"form_token": token, "action": "answer", "text": "Usuniemy do piątku."}
    )
    html = await answered.text()
    assert "Zapisano: odpowiedź udzielona." in html
    assert "mieszkaniec otrzymał odpowiedź" in html

    [_, resident] = await outbox(world)
    assert resident.recipient == "anna@example.org"
    assert "Usuniemy do piątku." in resident.body

    again = await unit_client.post(
        path, data={"form_token": token, "action": "answer", "text": "Jeszcze raz"}
    )
    assert again.status == 409
    assert "u Państwa sprawa jest w stanie „odpowiedź udzielona”" in await again.text()


async def test_a_form_without_its_token_or_from_another_link_is_refused(
    world: DeskWorld, unit_client: Client, matters: MatterService
) -> None:
    number = await agent_saves_ticket(world, unit_client, units=["ZZM", "SM"])
    paths = sorted(link_path(m.body) for m in await outbox(world))
    other_token = form_token_of(await (await unit_client.get(paths[1])).text())
    for data in ({"action": "received"}, {"action": "received", "form_token": other_token}):
        refused = await unit_client.post(paths[0], data=data)
        assert refused.status == 403
        assert "Formularz nie pochodzi z tej strony" in await refused.text()
    cross_site = await unit_client.post(
        paths[1],
        data={"action": "received", "form_token": other_token},
        headers={"Origin": "http://evil.example"},
    )
    assert cross_site.status == 403
    state = await matters.state(number)
    assert state is not None and {u.status for u in state.units} == {"forwarded"}


async def test_a_changed_or_expired_link_gets_a_page_that_says_so(
    world: DeskWorld, unit_client: Client, clock: ManualClock
) -> None:
    await agent_saves_ticket(world, unit_client, units=["ZZM"])
    [notice] = await outbox(world)
    path = link_path(notice.body)
    tampered = await unit_client.get(path.replace(".ZZM.", ".SM."))
    assert tampered.status == 403
    assert "Link został zmieniony i nie jest ważny" in await tampered.text()
    clock.advance(SIGNER.lifetime.total_seconds())
    expired = await unit_client.get(path)
    assert expired.status == 410
    assert "Link wygasł" in await expired.text()


async def test_supervisors_see_matters_by_state_and_each_message_with_its_delivery_state(
    world: DeskWorld, unit_client: Client
) -> None:
    await agent_saves_ticket(world, unit_client, units=["ZZM", "SM"])
    agent_view = await unit_client.get("/matters", headers={"Accept": "application/json"})
    assert agent_view.status == 403
    await world.add_user("kierownik", Role.SUPERVISOR, extension=None)
    unit_client.session.cookie_jar.clear()
    await sign_in(unit_client, "kierownik", extension="")
    page = await unit_client.get("/matters")
    html = await page.text()
    assert page.status == 200
    assert "<td>przekazana do jednostek</td><td>1</td>" in html
    assert "czeka na wysłanie: 2" in html
    assert html.count('<tr class="outbox-pending">') == 2
    assert "kck-sm@krakow.example" in html


async def test_the_desk_closes_and_reopens_with_a_reason_and_refused_steps_say_why(
    world: DeskWorld, unit_client: Client, matters: MatterService
) -> None:
    await world.add_user("anowak")
    token = await sign_in(unit_client, "anowak")
    saved = await unit_client.post(
        "/api/tickets",
        json=ticket_form(units=["ZZM"], contact_consent=False, caller_name="", caller_email=""),
        headers={"X-CSRF-Token": token},
    )
    number = (await saved.json())["number"]
    headers = {"X-CSRF-Token": token}
    early = await unit_client.post(f"/api/tickets/{number}/close", headers=headers)
    assert early.status == 409
    assert (await early.json())["message"] == (
        f"Sprawa {number} jest w stanie „przekazana do jednostek”: tego kroku nie można wykonać."
    )
    await matters.unit_act(UnitGrant(number, "ZZM", START), UnitAction.ANSWER, "Zrobione.")
    closed = await unit_client.post(f"/api/tickets/{number}/close", headers=headers)
    assert (await closed.json())["status_text"] == "zamknięta"
    no_reason = await unit_client.post(f"/api/tickets/{number}/reopen", headers=headers, json={})
    assert no_reason.status == 422
    reopened = await unit_client.post(
        f"/api/tickets/{number}/reopen", headers=headers, json={"reason": "Wciąż leży"}
    )
    body = await reopened.json()
    assert reopened.status == 200, body
    assert (body["status"], body["units"][0]["status"]) == ("forwarded", "forwarded")
    audit = await matters.audit(number)
    assert [(e.actor, e.action, e.detail) for e in audit if e.unit is None][-3:] == [
        ("agent:anowak", "closed", None),
        ("agent:anowak", "reopened", "Wciąż leży"),
        ("system", "forwarded", None),
    ]
    await world.add_user("pkowal", extension="102")
    unit_client.session.cookie_jar.clear()
    other = await sign_in(unit_client, "pkowal", extension="102")
    stranger = await unit_client.post(
        f"/api/tickets/{number}/close", headers={"X-CSRF-Token": other}
    )
    assert stranger.status == 404  # not pkowal's ticket: as if it did not exist


async def test_an_outside_matter_saved_at_the_desk_is_answered_at_once_and_reaches_no_unit(
    world: DeskWorld, unit_client: Client
) -> None:
    """Outside the city's competence: no unit e-mail; the resident's e-mail says where to go."""
    await world.add_user("anowak")
    token = await sign_in(unit_client, "anowak")
    form = ticket_form(kind="outside", units=[], refer_to="Urząd Wojewódzki, ul. Basztowa 22")
    saved = await unit_client.post("/api/tickets", json=form, headers={"X-CSRF-Token": token})
    assert saved.status == 201, await saved.text()
    assert (await saved.json())["status"] == "resident_informed"
    [mail] = await outbox(world)
    assert mail.recipient == "anna@example.org" and "Basztowa 22" in mail.body
    with_units = ticket_form(kind="outside", refer_to="Urząd Wojewódzki")
    refused = await unit_client.post(
        "/api/tickets", json=with_units, headers={"X-CSRF-Token": token}
    )
    assert refused.status == 422 and "units" in (await refused.json())["errors"]
