"""The IVR's "status of my report": the caller keys the number's last six digits and hears the
matter's real state, read from the database, in Polish."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.tickets.matters import MatterStatusByKeys, UnitAction
from kck.clock import ManualClock
from kck.db import session_factory
from matters.links import UnitGrant
from tests.ivr.support import run_call, shipped_menu
from tests.matters.world import START, WARSAW, matter_service, new_matter

TO_STATUS = ["1", "5", "6"]  # Polish, main menu: problems, status of a report


async def test_the_caller_hears_the_real_state_of_the_matter_as_it_moves(
    engine: AsyncEngine,
) -> None:
    clock = ManualClock(START)
    service = matter_service(engine, clock)
    number = await new_matter(engine, clock, units=["ZZM"])
    assert number.endswith("-000001")
    reader = MatterStatusByKeys(session_factory(engine), WARSAW, clock)
    menu = shipped_menu()

    async def heard_after(keys: str) -> tuple[str, str]:
        result, channel, _ = await run_call(menu, [*TO_STATUS, keys], matters=reader)
        said = next(p for p in channel.heard if p.prompt_id.startswith("matter_"))
        return result.variables["matter_status"], said.text

    assert await heard_after("000001#") == (
        "new",
        "Twoje zgłoszenie zostało zapisane i czeka na przekazanie do jednostki miejskiej.",
    )
    await service.forward(number, "agent:anowak")
    assert (await heard_after("000001#"))[0] == "forwarded"
    grant = UnitGrant(number, "ZZM", START + timedelta(days=30))
    await service.unit_act(grant, UnitAction.ANSWER, "Zrobione.")
    assert await heard_after(f"{START.year}000001#") == (
        "resident_informed",
        "Na Twoje zgłoszenie udzielono odpowiedzi i wysłaliśmy ją na Twój adres e-mail.",
    )
    assert await heard_after("000002#") == ("unknown", "Nie znaleźliśmy zgłoszenia o tym numerze.")


def test_six_digits_are_this_years_number_then_last_years_ten_digits_name_the_year() -> None:
    reader = MatterStatusByKeys(None, WARSAW, ManualClock(START))  # type: ignore[arg-type]
    assert reader.numbers("000123#") == ["KCK-2026-000123", "KCK-2025-000123"]
    assert reader.numbers("2024000123") == ["KCK-2024-000123"]
    assert reader.numbers("12345678") == []
    assert reader.numbers("12a456") == []
