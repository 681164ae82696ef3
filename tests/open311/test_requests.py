"""Open311 over real sockets on SQLite and PostgreSQL: a report POSTed by the portal becomes a
matter like the desk's, its units get their e-mails, answer on their pages, the resident gets the
answer e-mail, and the portal reads the request closed with the answers in its notes."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from datetime import timedelta

from sqlalchemy import func, select

from agentdesk.open311.clients import ApiClients
from agentdesk.open311.models import Open311Client, Open311Request
from agentdesk.tickets.models import Ticket
from matters.models import MatterEvent
from queues.nonvoice import NonVoiceQueue
from tests.matters.world import new_matter
from tests.open311.conftest import Open311World, form_token_of, link_path, report


async def _events(world: Open311World, number: str) -> list[MatterEvent]:
    async with world.services.sessions() as db:
        return list(
            await db.scalars(
                select(MatterEvent)
                .join(Ticket, Ticket.id == MatterEvent.ticket_id)
                .where(Ticket.number == number)
                .order_by(MatterEvent.id)
            )
        )


async def _ticket(world: Open311World, number: str) -> Ticket:
    async with world.services.sessions() as db:
        found = await db.scalar(select(Ticket).where(Ticket.number == number))
        assert found is not None
        return found


async def test_a_posted_report_is_forwarded_answered_and_reads_closed_with_the_answers(
    open311: Open311World,
) -> None:
    posted = await open311.post(**report())
    assert posted.status == 201, await posted.text()
    [accepted] = await posted.json()
    number = accepted["service_request_id"]
    assert number == "KCK-2026-000001" and accepted["account_id"] is None
    assert "Zarząd Zieleni Miejskiej" in accepted["service_notice"]

    ticket = await _ticket(open311, number)
    assert (ticket.status, ticket.category) == ("forwarded", "greenery")
    assert ticket.caller_number == "+48600123456"  # E.164
    assert (ticket.caller_email, ticket.caller_name) == ("anna@example.org", "Anna Kowalska")
    assert ticket.contact_consent and (ticket.latitude, ticket.longitude) == (50.0614, 19.9366)
    events = await _events(open311, number)
    assert [(e.action, e.actor) for e in events][:2] == [
        ("created", "open311:portal"),
        ("forwarded", "open311:portal"),
    ]

    notices = await open311.outbox()
    assert sorted(m.recipient for m in notices) == [
        "kck-wks@krakow.example",
        "kck-zck@krakow.example",
        "kck-zzm@krakow.example",
    ]
    shown = await (await open311.get(f"requests/{number}.json", api_key=open311.key)).json()
    assert shown[0]["status"] == "open"
    assert "Zarząd Zieleni Miejskiej" in shown[0]["agency_responsible"]

    for notice in notices:
        path = link_path(notice.body)
        token = form_token_of(await (await open311.client.get(path)).text())
        answered = await open311.client.post(
            path,
            data={"form_token": token, "action": "answer", "text": f"Odpowiedź {notice.id}."},
            allow_redirects=False,
        )
        assert answered.status == 303, await answered.text()

    *_, resident = await open311.outbox()
    assert resident.recipient == "anna@example.org"
    assert "Odpowiedź 1." in resident.body and "Odpowiedź 3." in resident.body
    xml = await open311.get(f"requests/{number}.xml", api_key=open311.key)
    assert xml.headers["Content-Type"] == "text/xml; charset=utf-8"
    request = ET.fromstring(await xml.read()).find("request")
    assert request is not None
    assert request.findtext("status") == "closed"
    assert "Odpowiedź 2." in (request.findtext("status_notes") or "")
    assert (request.findtext("requested_datetime") or "").endswith("+01:00")  # Warsaw, winter
    assert request.findtext("service_code") == "greenery"


async def test_a_bad_key_unknown_service_and_malformed_fields_are_refused_in_the_spec_shape(
    open311: Open311World,
) -> None:
    bad_key = await open311.client.post(
        "/open311/v2/requests.json", data={**report(), "api_key": "kck311_wrong"}
    )
    assert bad_key.status == 403
    assert await bad_key.json() == [
        {"code": 403, "description": "Nieznany lub unieważniony api_key."}
    ]
    no_key = await open311.client.post("/open311/v2/requests.xml", data=report())
    assert no_key.status == 403
    error = ET.fromstring(await no_key.read())
    assert error.tag == "errors" and error.findtext("error/code") == "403"

    unknown = await open311.post(**report(service_code="potholes"))
    assert unknown.status == 404
    assert "potholes" in (await unknown.json())[0]["description"]
    assert (await open311.get("services/potholes.json")).status == 404
    assert (await open311.post(**report(service_code=""))).status == 400

    for changes, field in (
        ({"lat": "fifty"}, "lat: "),
        ({"phone": "12"}, "phone: "),
        ({"description": ""}, "description: "),
        ({"lat": "", "long": "", "address_string": ""}, "address_string: "),
        ({"attribute[kind]": "rant"}, "attribute[kind]"),
    ):
        refused = await open311.post(locale="en", **report(**changes))
        assert refused.status == 400, changes
        [problem] = await refused.json()
        assert problem["code"] == 400 and problem["description"].startswith(field), problem

    elsewhere = await open311.get("services.json", jurisdiction_id="warszawa.pl")
    assert elsewhere.status == 404
    assert await open311.get("services.json", jurisdiction_id="krakow.pl") is not None
    async with open311.services.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Ticket)) == 0


async def test_a_revoked_client_is_refused_and_reads_need_a_key(open311: Open311World) -> None:
    await ApiClients(open311.services.sessions).revoke("portal", open311.clock.now())
    assert (await open311.post(**report())).status == 403
    assert (await open311.get("requests.json")).status == 403
    assert (await open311.get("requests.json", api_key=open311.key)).status == 403


async def test_a_resent_post_gets_the_first_matter_until_the_window_ends(
    open311: Open311World,
) -> None:
    first = await open311.post(**report())
    again = await open311.post(**report(description="  złamana gałąź wisi nad  chodnikiem "))
    assert (first.status, again.status) == (201, 200)
    number = (await first.json())[0]["service_request_id"]
    assert (await again.json())[0]["service_request_id"] == number

    open311.clock.advance(601)  # open311.resend_window_s is 600
    later = await open311.post(**report())
    assert later.status == 201
    assert (await later.json())[0]["service_request_id"] != number

    with_id = await open311.post(
        **report(description="Inny opis zdarzenia", client_request_id="p-1")
    )
    open311.clock.advance(86400)
    same_id = await open311.post(**report(description="Zmieniony opis", client_request_id="p-1"))
    assert same_id.status == 200
    assert (await same_id.json())[0]["service_request_id"] == (await with_id.json())[0][
        "service_request_id"
    ]
    async with open311.services.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Ticket)) == 3


async def test_requests_are_found_by_status_service_and_date_and_only_open311_ones(
    open311: Open311World,
) -> None:
    greenery = (await (await open311.post(**report())).json())[0]["service_request_id"]
    transport = await open311.post(
        **report(
            service_code="transport", description="Tramwaj linii 4 nie przyjechał", lat="", long=""
        )
    )
    assert transport.status == 201, await transport.text()
    waste = await open311.post(**report(service_code="waste", description="Pełne kosze na Rynku"))
    waste_id = (await waste.json())[0]["service_request_id"]
    assert (await _ticket(open311, waste_id)).status == "new"  # 4 units: an agent chooses

    def ids(found: list[dict[str, str]]) -> set[str]:
        return {r["service_request_id"] for r in found}

    async def search(**query: str) -> list[dict[str, str]]:
        response = await open311.get("requests.json", api_key=open311.key, **query)
        assert response.status == 200, await response.text()
        found: list[dict[str, str]] = await response.json()
        return found

    assert len(await search()) == 3
    assert ids(await search(service_code="greenery,waste")) == {greenery, waste_id}
    assert ids(await search(service_request_id=f"{greenery},{waste_id}")) == {greenery, waste_id}
    assert await search(status="closed") == []
    assert len(await search(status="open")) == 3
    assert await search(start_date="2026-12-08T00:00:00+01:00") == []
    assert len(await search(start_date="2026-12-07", end_date="2026-12-07T23:59:59+01:00")) == 3
    bad_date = await open311.get("requests.json", api_key=open311.key, start_date="yesterday")
    assert bad_date.status == 400
    assert (await open311.get("requests/KCK-2026-999999.json", api_key=open311.key)).status == 404
    token = await open311.get(f"tokens/{greenery}.json", api_key=open311.key)
    assert await token.json() == [{"service_request_id": greenery, "token": greenery}]


async def test_the_same_client_id_posted_twice_at_once_makes_one_matter(
    open311: Open311World,
) -> None:
    first, second = await asyncio.gather(
        open311.post(**report(client_request_id="app-7")),
        open311.post(**report(client_request_id="app-7")),
    )
    statuses = sorted([first.status, second.status])
    # the loser of the race either finds the matter made (200) or is told to send again (409)
    assert statuses in ([200, 201], [201, 409]), statuses
    async with open311.services.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Ticket)) == 1
    again = await open311.post(**report(client_request_id="app-7"))
    assert again.status == 200
    winner = first if first.status == 201 else second
    assert (await again.json())[0]["service_request_id"] == (await winner.json())[0][
        "service_request_id"
    ]


async def test_a_body_that_cannot_be_read_is_refused_before_anything_is_saved(
    open311: Open311World,
) -> None:
    unreadable = await open311.client.post(
        "/open311/v2/requests.json",
        data=b"api_key=" + open311.key.encode() + b"&description=z\xff\xfe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert unreadable.status == 400
    assert "UTF-8" in await unreadable.text()
    async with open311.services.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Ticket)) == 0


async def test_a_reservation_left_by_a_dead_post_is_taken_over_and_a_fresh_one_waits(
    open311: Open311World,
) -> None:
    async with open311.services.sessions.begin() as db:
        client = await db.scalar(select(Open311Client))
        assert client is not None
        for crid, age in (("dead", timedelta(minutes=3)), ("busy", timedelta(seconds=5))):
            db.add(
                Open311Request(
                    client_id=client.id,
                    service_code="greenery",
                    client_request_id=crid,
                    fingerprint="-",
                    received_at=open311.clock.now() - age,
                )
            )
    taken_over = await open311.post(**report(client_request_id="dead"))
    assert taken_over.status == 201, await taken_over.text()
    busy = await open311.post(**report(description="Inny opis zdarzenia", client_request_id="busy"))
    assert busy.status == 409
    assert "ponowić" in (await busy.json())[0]["description"]


async def test_notes_follow_the_latest_step_and_a_unit_that_passed_it_on_is_not_responsible(
    open311: Open311World,
) -> None:
    posted = await open311.post(
        **report(service_code="transport", description="Autobus 152 nie staje na przystanku")
    )
    number = (await posted.json())[0]["service_request_id"]
    notices = {m.recipient: m for m in await open311.outbox()}
    zt = link_path(notices["kck-ztp@krakow.example"].body)
    token = form_token_of(await (await open311.client.get(zt)).text())

    open311.clock.advance(3600)
    await open311.client.post(zt, data={"form_token": token, "action": "received"})
    [shown] = await (await open311.get(f"requests/{number}.json", api_key=open311.key)).json()
    assert shown["status"] == "open"
    assert shown["status_notes"] == (
        "przekazana do jednostek (Zarząd Transportu Publicznego: przyjęta przez jednostkę)"
    )
    assert shown["requested_datetime"] == "2026-12-07T10:00:00+01:00"
    assert shown["updated_datetime"] == "2026-12-07T11:00:00+01:00"

    await open311.client.post(zt, data={"form_token": token, "action": "pass_on", "target": "ZDMK"})
    [shown] = await (await open311.get(f"requests/{number}.json", api_key=open311.key)).json()
    responsible = shown["agency_responsible"].split("; ")
    assert "Zarząd Transportu Publicznego" not in responsible
    assert "Zarząd Dróg Miasta Krakowa" in responsible


async def test_a_matter_from_the_desk_is_not_an_open311_request(open311: Open311World) -> None:
    from_phone = await new_matter(open311.services.engine, open311.clock)
    assert (await open311.post(**report())).status == 201
    listed = await (await open311.get("requests.json", api_key=open311.key)).json()
    assert [r["service_request_id"] for r in listed] == ["KCK-2026-000002"]
    hidden = await open311.get(f"requests/{from_phone}.json", api_key=open311.key)
    assert hidden.status == 404


async def test_an_idea_posted_is_an_idea_ticket_and_a_problem_a_report(
    open311: Open311World,
) -> None:
    """The `kind` attribute reaches the ticket: an idea is grouped with the ideas like it (the
    desk's similar-ideas hint and the unit page's topic), a problem is looked at for duplicates."""
    idea = await open311.post(**report(**{"attribute[kind]": "idea"}))
    problem = await open311.post(
        **report(**{"attribute[kind]": "problem", "description": "Nieskoszona trawa na skwerze."})
    )
    assert (idea.status, problem.status) == (201, 201), await idea.text()
    [idea_number] = [r["service_request_id"] for r in await idea.json()]
    [problem_number] = [r["service_request_id"] for r in await problem.json()]
    assert (await _ticket(open311, idea_number)).kind == "idea"
    assert (await _ticket(open311, problem_number)).kind == "report"


async def test_a_question_and_a_complaint_posted_keep_their_kind_and_go_to_the_units(
    open311: Open311World,
) -> None:
    """The `kind` attribute's question and complaint are the ticket's; the unit's e-mail and
    page name the kind."""
    numbers = {}
    for kind, text in (("question", "Kiedy skoszą trawę?"), ("complaint", "Trawy nikt nie kosi.")):
        posted = await open311.post(**report(**{"attribute[kind]": kind, "description": text}))
        assert posted.status == 201, await posted.text()
        [accepted] = await posted.json()
        numbers[kind] = accepted["service_request_id"]
    question = await _ticket(open311, numbers["question"])
    complaint = await _ticket(open311, numbers["complaint"])
    assert (question.kind, question.status) == ("question", "forwarded")
    assert (complaint.kind, complaint.status) == ("complaint", "forwarded")
    bodies = {m.subject.split("]")[0][1:]: m.body for m in await open311.outbox()}
    assert "Rodzaj sprawy: pytanie." in bodies[numbers["question"]]
    assert "Kind of matter: complaint." in bodies[numbers["complaint"]]
    page = await (await open311.client.get(link_path(bodies[numbers["complaint"]]))).text()
    assert '<dd id="unit-kind">skarga</dd>' in page


async def test_a_posted_report_waits_in_the_non_voice_queue_for_an_agent_with_its_skill(
    open311: Open311World,
) -> None:
    """Non-voice work: the portal's matter is offered to agents like a call (docs/routing.md);
    a resent POST does not queue it twice."""
    posted = await open311.post(**report())
    assert posted.status == 201, await posted.text()
    [accepted] = await posted.json()
    again = await open311.post(**report())
    assert again.status == 200
    queue = NonVoiceQueue(open311.services.redis, open311.clock, prefix=open311.services.bus.prefix)
    assert await queue.waiting("greenery") == [accepted["service_request_id"]]
