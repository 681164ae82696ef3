"""The board and report routes through a real aiohttp server: roles, CSRF, CSV, SVG, the socket."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from agentdesk.board.force import AUDIT_ACTION
from agentdesk.keys import principal_resolver_key
from agentdesk.reports import register_report_routes
from agentdesk.reports.rules import CountingRulesError
from agentdesk.security import Principal
from kck.clock import ManualClock
from kck.db.models import AgentStateLog, AuditEntry, Call
from kck.services import Services
from tests.board.conftest import SignIn, add_users


async def test_board_without_sign_in_sends_the_browser_to_login(board_client: TestClient) -> None:
    response = await board_client.get("/board", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith("/login?next=/board")
    api = await board_client.get("/api/board")
    assert api.status == 401


async def test_agent_role_may_not_open_board_or_reports(
    board_client: TestClient, sign_in: SignIn
) -> None:
    await sign_in(board_client, "ala", "agent")  # an agent of the router's agents.yaml
    for path in ("/board", "/board/wall", "/api/board", "/reports", "/reports/daily.csv"):
        response = await board_client.get(path, allow_redirects=False)
        assert response.status == 403, path


async def test_supervisor_opens_board_and_wall_mode_without_controls(
    board_client: TestClient, sign_in: SignIn
) -> None:
    await sign_in(board_client, "sylwia", "supervisor")
    board = await (await board_client.get("/board")).text()
    wall = await (await board_client.get("/board/wall")).text()
    assert 'id="force-template"' in board and "/board/wall" in board
    assert 'class="board wall"' in wall
    assert "force-template" not in wall and "<form" not in wall


async def test_csv_export_of_every_report_table(
    board_client: TestClient, board_services: Services, sign_in: SignIn, clock: ManualClock
) -> None:
    await sign_in(board_client, "sylwia", "supervisor")
    now = clock.now()
    async with board_services.sessions.begin() as session:
        session.add_all(
            [
                Call(
                    uniqueid="1.1",
                    arrived_at=now - timedelta(minutes=5),
                    queued_at=now - timedelta(minutes=4),
                    answered_at=now - timedelta(minutes=4) + timedelta(seconds=12),
                    ended_at=now - timedelta(minutes=1),
                    queue="vehicles",
                    outcome="answered",
                    wrapup_outcome="resolved_first_line",
                    ivr_path=[
                        {"step_id": "choose_language", "label": "Język"},
                        {"step_id": "vehicles_menu", "label": "Pojazdy i prawa jazdy"},
                    ],
                ),
                Call(
                    uniqueid="1.2",
                    arrived_at=now - timedelta(minutes=3),
                    queued_at=now - timedelta(minutes=3),
                    ended_at=now - timedelta(minutes=2),
                    queue="vehicles",
                    outcome="abandoned",
                ),
            ]
        )
    page = await board_client.get("/reports?from=2026-11-24&to=2026-11-24")
    assert page.status == 200
    html = await page.text()
    names = ["daily", "hourly", "ivr", "waits", "ticket_categories", "ticket_units"]
    for name in names:
        assert f"/reports/{name}.csv?from=2026-11-24" in html
        response = await board_client.get(f"/reports/{name}.csv?from=2026-11-24&to=2026-11-24")
        assert response.status == 200, name
        assert response.content_type == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(await response.text())))
        assert rows[0], name
    daily = list(
        csv.DictReader(
            io.StringIO(
                await (
                    await board_client.get("/reports/daily.csv?from=2026-11-24&to=2026-11-24")
                ).text()
            )
        )
    )
    assert daily[0]["day"] == "2026-11-24"
    assert (daily[0]["offered"], daily[0]["answered"], daily[0]["abandoned"]) == ("2", "1", "1")
    assert daily[0]["fcr_pct"] == "100.0"
    ivr = await (await board_client.get("/reports/ivr.csv?from=2026-11-24&to=2026-11-24")).text()
    # machine columns and step ids for programs, the steps' names beside them
    assert ivr.splitlines()[0] == "ivr_branch,ivr_branch_name,calls"
    assert "choose_language → vehicles_menu,Język → Pojazdy i prawa jazdy,1" in ivr


async def test_excel_csv_has_a_bom_semicolons_and_decimal_commas_and_the_plain_one_is_unchanged(
    board_client: TestClient, board_services: Services, sign_in: SignIn, clock: ManualClock
) -> None:
    await sign_in(board_client, "sylwia", "supervisor")
    now = clock.now()
    path = [
        {"step_id": "l", "label": "Polski"},
        {"step_id": "p", "label": "Zgłoszenie problemu; zieleń"},
    ]
    async with board_services.sessions.begin() as session:
        session.add_all(
            [
                Call(
                    uniqueid=f"2.{n}",
                    arrived_at=now - timedelta(minutes=9 - n),
                    queued_at=now - timedelta(minutes=8 - n),
                    answered_at=now - timedelta(minutes=8 - n) + timedelta(seconds=wait),
                    ended_at=now - timedelta(minutes=6 - n),
                    queue="city_issues",
                    outcome="answered",
                    ivr_path=path if n else [{"step_id": "=SUMA(A1)", "label": "x"}],
                )
                for n, wait in enumerate((10, 15, 40))
            ]
        )
    page = await (await board_client.get("/reports?from=2026-11-24&to=2026-11-24")).text()
    assert "/reports/daily.csv?from=2026-11-24&amp;to=2026-11-24&amp;dialect=excel-pl" in page
    tables = {}
    for name in ("daily", "ivr"):
        url = f"/reports/{name}.csv?from=2026-11-24&to=2026-11-24"
        plain = await board_client.get(url)
        excel = await board_client.get(url + "&dialect=excel-pl")
        assert plain.status == excel.status == 200
        assert excel.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert excel.headers["Content-Disposition"].endswith('_2026-11-24_excel-pl.csv"')
        plain_bytes, excel_bytes = await plain.read(), await excel.read()
        assert not plain_bytes.startswith(b"\xef\xbb\xbf")
        assert excel_bytes.startswith(b"\xef\xbb\xbf")
        tables[name] = (
            list(csv.reader(io.StringIO(plain_bytes.decode("utf-8")))),
            list(csv.reader(io.StringIO(excel_bytes.decode("utf-8-sig")), delimiter=";")),
        )
    plain_daily, excel_daily = tables["daily"]
    assert plain_daily[0] == excel_daily[0] and plain_daily[0][0] == "day"
    day = dict(zip(plain_daily[0], plain_daily[1], strict=True))
    excel_day = dict(zip(excel_daily[0], excel_daily[1], strict=True))
    assert (day["answered"], excel_day["answered"]) == ("3", "3")
    # ASA = (10 + 15 + 40) / 3 = 21.666… → 21.7
    assert (day["asa_s"], excel_day["asa_s"]) == ("21.7", "21,7")
    assert (day["service_level_pct"], excel_day["service_level_pct"]) == ("66.7", "66,7")
    assert [len(row) for row in excel_daily] == [len(row) for row in plain_daily]
    plain_ivr, excel_ivr = tables["ivr"]
    # steps the menu does not know are named by their ids
    assert plain_ivr[1:] == [["l → p", "l → p", "2"], ["=SUMA(A1)", "=SUMA(A1)", "1"]]
    # the same text for a spreadsheet, where a cell must not run as a formula
    assert excel_ivr[1:] == [["l → p", "l → p", "2"], ["'=SUMA(A1)", "'=SUMA(A1)", "1"]]
    wrong = await board_client.get("/reports/daily.csv?dialect=excel")
    assert wrong.status == 400
    assert "field 'dialect'" in await wrong.text() and "excel-pl" in await wrong.text()


async def test_report_charts_are_svg_documents(board_client: TestClient, sign_in: SignIn) -> None:
    await sign_in(board_client, "sylwia", "supervisor")
    for name in ("calls_per_hour", "service_level_per_hour", "waits"):
        response = await board_client.get(f"/reports/charts/{name}.svg?from=2026-11-24")
        assert response.status == 200
        assert response.content_type == "image/svg+xml"
        assert (await response.text()).startswith("<svg")
    missing = await board_client.get("/reports/charts/pie.svg")
    assert missing.status == 404


async def test_bad_report_range_is_refused_naming_the_field(
    board_client: TestClient, sign_in: SignIn
) -> None:
    await sign_in(board_client, "sylwia", "supervisor")
    response = await board_client.get("/reports?from=2026-13-01")
    assert response.status == 400
    assert "'from'" in await response.text()
    backwards = await board_client.get("/reports?from=2026-11-24&to=2026-11-01")
    assert backwards.status == 400 and "'to'" in await backwards.text()
    unknown_table = await board_client.get("/reports/nothing.csv")
    assert unknown_table.status == 404


async def test_supervisor_logs_out_an_agent_and_the_audit_log_says_who(
    board_client: TestClient, board_services: Services, sign_in: SignIn
) -> None:
    ids = await add_users(board_services, "anna")
    csrf = await sign_in(board_client, "sylwia", "supervisor")
    async with board_services.bus.subscription("agents") as listener:
        response = await board_client.post(
            "/api/board/agents/anna/state",
            json={"state": "logged_out"},
            headers={"X-CSRF-Token": csrf},
        )

        assert response.status == 200, await response.text()
        event_type, data = await asyncio.wait_for(anext(listener), 5)
    assert (event_type, data["agent"], data["state"]) == ("agent_state", "anna", "logged_out")
    async with board_services.sessions() as session:
        log = (await session.scalars(select(AgentStateLog))).all()
        audit = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == AUDIT_ACTION))
        ).all()
    assert [(r.agent_id, r.state) for r in log] == [(ids["anna"], "logged_out")]
    assert len(audit) == 1
    assert (audit[0].actor, audit[0].action, audit[0].target) == ("sylwia", AUDIT_ACTION, "anna")
    assert audit[0].details["to"] == "logged_out"


async def test_forcing_state_without_csrf_token_changes_nothing(
    board_client: TestClient, board_services: Services, sign_in: SignIn
) -> None:
    await add_users(board_services, "anna")
    await sign_in(board_client, "sylwia", "supervisor")
    response = await board_client.post("/api/board/agents/anna/state", json={"state": "logged_out"})
    assert response.status == 403
    async with board_services.sessions() as session:
        assert (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == AUDIT_ACTION))
        ).all() == []
        assert (await session.scalars(select(AgentStateLog))).all() == []


async def test_forcing_an_unknown_agent_or_state_is_refused_clearly(
    board_client: TestClient, board_services: Services, sign_in: SignIn
) -> None:
    await add_users(board_services, "anna")
    csrf = await sign_in(board_client, "sylwia", "supervisor")
    headers = {"X-CSRF-Token": csrf}
    nobody = await board_client.post(
        "/api/board/agents/ghost/state", json={"state": "logged_out"}, headers=headers
    )
    assert nobody.status == 404
    assert await nobody.json() == {  # the supervisor's words; the English detail is for the log
        "error": "force.refused.no_agent",
        "message": "Nie ma konsultanta ghost.",
        "detail": "no agent 'ghost'",
    }
    bad = await board_client.post(
        "/api/board/agents/anna/state", json={"state": "on_call"}, headers=headers
    )
    refused = await bad.json()
    assert bad.status == 400 and refused["message"] == "Wybierz stan z listy."
    assert "'state'" in refused["detail"]
    for reason in (None, "", "coffee"):  # a pause names one of the reasons the desk knows
        no_reason = await board_client.post(
            "/api/board/agents/anna/state",
            json={"state": "paused", "reason": reason},
            headers=headers,
        )
        refused = await no_reason.json()
        assert no_reason.status == 400 and refused["error"] == "force.reason_needed"
        assert refused["message"] == "Wybierz powód przerwy." and "'reason'" in refused["detail"]
    async with board_services.sessions() as session:
        assert (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == AUDIT_ACTION))
        ).all() == []


async def _next(
    ws: Any, kind: str, until: Callable[[dict[str, Any]], bool] = lambda _: True
) -> dict[str, Any]:
    """The next frame of `kind` that satisfies `until` (recounts are coalesced, so an event may
    be reflected by the second snapshot rather than the first)."""
    while True:
        message = await asyncio.wait_for(ws.receive(), 10)
        assert message.type == WSMsgType.TEXT, message
        body = message.json()
        if body["type"] == kind and until(body["data"]):
            return dict(body["data"])


async def test_board_socket_pushes_agent_changes_and_recounts_on_stats_events(
    board_client: TestClient, board_services: Services, sign_in: SignIn, clock: ManualClock
) -> None:
    await add_users(board_services, "anna", "bartek")
    await sign_in(board_client, "sylwia", "supervisor")
    ws = await board_client.ws_connect("/board/ws")
    await ws.send_json({"type": "ready"})
    first = await _next(ws, "snapshot")
    assert first["total"]["offered"] == 0
    assert {a["agent"]: a["state"] for a in first["agents"]} == {
        "anna": "logged_out",
        "bartek": "logged_out",
    }

    since = clock.now().isoformat()
    await board_services.bus.broadcast(
        "agents",
        "agent_state",
        {"agent": "anna", "state": "available", "reason": None, "since": since},
    )
    change = await _next(ws, "agent")
    assert (change["agent"], change["state"], change["since"]) == ("anna", "available", since)

    async with board_services.sessions.begin() as session:
        session.add(
            Call(
                uniqueid="2.1",
                arrived_at=clock.now() - timedelta(seconds=40),
                queued_at=clock.now() - timedelta(seconds=30),
                queue="city_issues",
            )
        )
    await board_services.bus.broadcast(
        "stats", "stats", {"queues": {"city_issues": {"waiting": 1, "longest_wait_s": 30}}}
    )
    board = await _next(ws, "snapshot", lambda b: b["total"]["offered"] == 1)
    assert board["total"]["waiting"] == 1
    # The recount from the table (where the state row is not written yet) keeps the live state.
    assert {a["agent"]: a["state"] for a in board["agents"]}["anna"] == "available"
    city = next(q for q in board["queues"] if q["id"] == "city_issues")
    assert (city["waiting"], city["longest_wait_s"]) == (1, 30)
    await ws.close()


async def test_without_the_desk_the_role_seam_asks_the_configured_resolver(
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient]], board_services: Services
) -> None:
    app = web.Application()
    people = {
        "t-boss": Principal("sylwia", "supervisor", "c1"),
        "t-agent": Principal("anna", "agent", "c2"),
    }

    async def resolve(request: web.Request) -> Principal | None:
        return people.get(request.headers.get("X-Test-Person", ""))

    app[principal_resolver_key] = resolve
    register_report_routes(app, services=board_services)
    client = await aiohttp_client(app)
    assert (await client.get("/reports/daily.csv", allow_redirects=False)).status == 302
    assert (
        await client.get("/reports/daily.csv", headers={"X-Test-Person": "t-agent"})
    ).status == 403
    ok = await client.get("/reports/daily.csv", headers={"X-Test-Person": "t-boss"})
    assert ok.status == 200 and (await ok.text()).startswith("day,offered")
    await client.close()


def test_reports_read_only_the_configured_queues_file_and_name_it_when_missing(
    services: Services,
) -> None:
    missing = services.settings.config_dir / "queues.yaml"
    with pytest.raises(CountingRulesError, match="file not found") as raised:
        register_report_routes(web.Application(), services=services)
    assert str(raised.value).startswith(f"{missing}:")
