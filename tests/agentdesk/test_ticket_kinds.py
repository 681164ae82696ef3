"""Each kind of matter its own form rules: a report needs its place, a question or a complaint
none; a complaint may name what it is about; a matter outside the city's competence needs where
to go instead and takes no units."""

from __future__ import annotations

from typing import Any

import pytest

from agentdesk.tickets.form import TicketFormInvalid, parse_ticket_form
from agentdesk.tickets.kinds import TicketKind
from tests.agentdesk.test_tickets import UNITS, good_form

VOIVODESHIP = "Małopolski Urząd Wojewódzki, ul. Basztowa 22, Kraków"


def errors_of(data: dict[str, Any], language: str = "pl") -> dict[str, str]:
    with pytest.raises(TicketFormInvalid) as caught:
        parse_ticket_form(data, UNITS)
    return caught.value.messages(language)


def test_a_report_of_a_place_category_still_needs_its_place() -> None:
    assert set(errors_of(good_form(kind="report", location_text=""))) == {"location_text"}


@pytest.mark.parametrize("kind", ["question", "complaint"])
def test_a_question_or_a_complaint_needs_no_place_but_goes_to_a_unit(kind: str) -> None:
    form = parse_ticket_form(good_form(kind=kind, location_text=""), UNITS)
    assert form.kind is TicketKind(kind) and form.location_text is None
    assert form.units == ("ZZM",)
    assert set(errors_of(good_form(kind=kind, location_text="", units=[]))) == {"units"}


def test_a_complaint_keeps_what_it_is_about_and_other_kinds_do_not() -> None:
    form = parse_ticket_form(good_form(kind="complaint", complaint_about="  Straż Miejska "), UNITS)
    assert form.complaint_about == "Straż Miejska"
    assert parse_ticket_form(good_form(kind="complaint"), UNITS).complaint_about is None
    report = parse_ticket_form(good_form(complaint_about="Straż Miejska"), UNITS)
    assert report.complaint_about is None
    assert errors_of(good_form(kind="complaint", complaint_about="x" * 201), "en") == {
        "complaint_about": "At most 200 characters."
    }


def test_an_outside_matter_needs_where_to_go_and_takes_no_place_nor_unit() -> None:
    form = parse_ticket_form(
        good_form(kind="outside", location_text="", units=[], refer_to=f" {VOIVODESHIP} "), UNITS
    )
    assert form.kind is TicketKind.OUTSIDE
    assert form.refer_to == VOIVODESHIP and form.units == ()
    assert errors_of(good_form(kind="outside", units=[])) == {
        "refer_to": "Podaj, gdzie mieszkaniec ma się zwrócić, np. Urząd Wojewódzki, ul. Basztowa 22."
    }
    assert errors_of(good_form(kind="outside", refer_to=VOIVODESHIP), "en") == {
        "units": "A matter outside the city's competence is not forwarded to units — untick them."
    }
    assert errors_of(good_form(kind="outside", units=[], refer_to="x" * 301)) == {
        "refer_to": "Najwyżej 300 znaków."
    }


def test_where_to_go_is_kept_only_for_an_outside_matter() -> None:
    assert parse_ticket_form(good_form(refer_to=VOIVODESHIP), UNITS).refer_to is None


def test_an_unknown_kind_is_named() -> None:
    assert errors_of(good_form(kind="petition"), "en") == {
        "kind": "Pick a kind of matter from the list."
    }
