"""The report page in people's words, Polish or English: headers, unit, category and IVR step
names from the configuration, the codes only as tooltips; the CSV keeps the machine names."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient

from agentdesk.i18n import CATALOGUE
from agentdesk.reports.charts import render_chart
from agentdesk.reports.metrics import CountingRules
from agentdesk.reports.report import build_report
from agentdesk.tickets.models import Ticket, TicketUnit
from kck.clock import ManualClock
from kck.db.models import Call
from kck.services import Services
from tests.board.conftest import SignIn

DAY = "from=2026-11-24&to=2026-11-24"
WARSAW = ZoneInfo("Europe/Warsaw")


async def a_morning(services: Services, clock: ManualClock) -> None:
    now = clock.now()
    async with services.sessions.begin() as session:
        session.add(
            Call(
                uniqueid="n.1",
                arrived_at=now - timedelta(minutes=5),
                queued_at=now - timedelta(minutes=4),
                answered_at=now - timedelta(minutes=4) + timedelta(seconds=9),
                ended_at=now - timedelta(minutes=1),
                queue="city_issues",
                outcome="answered",
                ivr_path=[
                    {"step_id": "choose_language", "label": "Język"},
                    {"step_id": "main_menu", "label": "Menu główne"},
                ],
            )
        )
        session.add(
            Ticket(
                number="KCK/2026/1",
                category="greenery",
                description="złamane drzewo",
                created_at=now - timedelta(minutes=2),
                units=[TicketUnit(unit_code="ZZM")],
            )
        )


def cells(html: str, table: str) -> list[str]:
    section = html.split(f'id="table-{table}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", section)


async def test_report_page_speaks_polish_and_english_with_codes_as_tooltips(
    board_client: TestClient, board_services: Services, sign_in: SignIn, clock: ManualClock
) -> None:
    await a_morning(board_services, clock)
    await sign_in(board_client, "sylwia", "supervisor")
    html = await (await board_client.get(f"/reports?{DAY}")).text()

    assert "service_level_pct" not in cells(html, "daily")  # no snake_case header shown
    assert (
        '<th title="service_level_pct" data-column="service_level_pct">Poziom obsługi %</th>'
        in html
    )
    assert '<td title="ZZM">Zarząd Zieleni Miejskiej</td>' in html
    assert '<td title="greenery">zieleń</td>' in html
    assert '<td title="choose_language → main_menu">Język → Menu główne</td>' in html
    assert '<td title="total">Razem</td>' in html
    assert "<h2>Zgłoszenia wg jednostki" in html

    board_client.session.cookie_jar.update_cookies({"kck_lang": "en"})
    english = await (await board_client.get(f"/reports?{DAY}")).text()
    assert ">Service level %</th>" in english
    assert '<td title="ZZM">Municipal Greenery Authority</td>' in english
    assert '<td title="greenery">greenery</td>' not in english  # same word: no tooltip needed
    assert '<td title="choose_language → main_menu">Language → Main menu</td>' in english
    assert '<td title="total">Total</td>' in english


async def test_csv_keeps_machine_columns_and_codes_with_names_beside_them(
    board_client: TestClient, board_services: Services, sign_in: SignIn, clock: ManualClock
) -> None:
    await a_morning(board_services, clock)
    await sign_in(board_client, "sylwia", "supervisor")

    async def table(name: str) -> list[dict[str, str]]:
        text = await (await board_client.get(f"/reports/{name}.csv?{DAY}")).text()
        return list(csv.DictReader(io.StringIO(text)))

    assert await table("ticket_units") == [
        {"unit": "ZZM", "unit_name": "Zarząd Zieleni Miejskiej", "tickets": "1"}
    ]
    assert await table("ticket_categories") == [
        {"category": "greenery", "category_name": "zieleń", "tickets": "1"}
    ]
    daily = await table("daily")
    assert list(daily[0])[:2] == ["day", "offered"]
    assert not [column for column in daily[0] if column.endswith("_name")]
    assert daily[-1]["day"] == "total"
    board_client.session.cookie_jar.update_cookies({"kck_lang": "en"})
    assert (await table("ticket_units"))[0]["unit_name"] == "Municipal Greenery Authority"


def test_every_table_column_and_chart_has_words_in_both_languages() -> None:
    report = build_report([], date(2026, 11, 24), date(2026, 11, 24), WARSAW, CountingRules())
    keys = [f"report.table.{t.name}" for t in report.tables()]
    keys += [f"report.column.{h}" for t in report.tables() for h in t.headers]
    keys += ["report.total", "report.no_ivr"]
    assert [key for key in keys if key not in CATALOGUE] == []
    polish = render_chart(report, "calls_per_hour", "pl") or ""
    english = render_chart(report, "calls_per_hour", "en") or ""
    assert "Połączenia na godzinę" in polish and "Calls per hour" not in polish
    assert "Calls per hour" in english and "Połączenia" not in english
