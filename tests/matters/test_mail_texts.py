"""The e-mails' words come from the catalogue (kck/locale): the unit's notice in Polish then
English, the resident's answer in the resident's language, Polish for a language kck lacks."""

from __future__ import annotations

from matters.mail_texts import (
    UnitAnswer,
    UnitLink,
    resident_answer,
    resident_outside,
    resident_question,
    unit_info_answer,
    unit_notice,
)


def test_unit_notice_has_polish_then_english_with_the_category_in_words() -> None:
    subject, body = unit_notice(
        number="KCK-2026-000007",
        unit_name="ZZM",
        category="greenery",
        link="https://kck.test/unit/matter/t0k3n",
        expires="2026-12-09 10:00 UTC",
        centre="KCK",
    )
    assert subject == "[KCK-2026-000007] Nowa sprawa od KCK / New matter from KCK"
    polish, english = body.split("\n---\n")
    assert "KCK przekazuje sprawę KCK-2026-000007 (zieleń) do: ZZM." in polish
    assert "KCK forwards matter KCK-2026-000007 (greenery) to: ZZM." in english
    for part in (polish, english):
        assert "https://kck.test/unit/matter/t0k3n" in part and "2026-12-09 10:00 UTC" in part


def test_a_unit_working_by_account_is_sent_to_its_inbox_without_a_link_key() -> None:
    _, body = unit_notice(
        number="KCK-2026-000007",
        unit_name="ZZM",
        category="greenery",
        link="https://kck.test/unit/inbox",
        expires="",
        centre="KCK",
    )
    polish, english = body.split("\n---\n")
    assert "Sprawa czeka w skrzynce jednostki" in polish and "unit's inbox" in english
    assert "https://kck.test/unit/inbox" in polish and "ważny do" not in polish


def test_the_residents_answer_goes_to_the_unit_and_the_question_to_the_resident() -> None:
    link = UnitLink("https://kck.test/unit/matter/t0k3n", "2026-12-09 10:00 UTC")
    subject, body = unit_info_answer(number="KCK-1", answer="Przy bramie nr 3.", link=link)
    assert subject == "[KCK-1] Odpowiedź mieszkańca w sprawie KCK-1 / Resident's answer on KCK-1"
    assert body.count("Przy bramie nr 3.") == 2 and body.count(link.url) == 2
    reply = UnitLink("https://kck.test/reply/r3ply", "2026-12-09 10:00 UTC")
    subject, body = resident_question(
        "uk", number="KCK-1", unit_name="ZZM", question="Który numer bramy?", link=reply,
        hotline="+48126165555",
    )  # fmt: skip
    assert subject == "Запитання щодо звернення KCK-1"
    assert "Który numer bramy?" in body and reply.url in body and "2026-12-09 10:00 UTC" in body


def test_resident_answer_in_english_and_polish_for_an_unknown_language() -> None:
    answers = [UnitAnswer("ZZM", "Done."), UnitAnswer("ZDMK", "Checked.")]
    subject, body = resident_answer(
        "en", number="KCK-1", answers=answers, centre="KCK", hotline="+48126165555"
    )
    assert subject == "Answer on your matter KCK-1"
    assert "ZZM:\nDone.\n\nZDMK:\nChecked." in body and "call +48126165555" in body
    subject, body = resident_answer(
        "de", number="KCK-1", answers=answers, centre="KCK", hotline="+48126165555"
    )
    assert subject == "Odpowiedź w sprawie KCK-1" and body.startswith("Dzień dobry,")


def test_the_unit_notice_names_the_kind_and_what_a_complaint_is_about() -> None:
    _, body = unit_notice(
        number="KCK-1", unit_name="SM", category="other", link="https://kck.test/unit/inbox",
        expires="", centre="KCK", kind="complaint", about="patrol na Kazimierzu",
    )  # fmt: skip
    polish, english = body.split("\n---\n")
    assert "Rodzaj sprawy: skarga." in polish and "Kind of matter: complaint." in english
    assert "Skarga dotyczy: patrol na Kazimierzu." in polish
    assert "The complaint is about: patrol na Kazimierzu." in english
    _, body = unit_notice(
        number="KCK-1", unit_name="SM", category="other", link="https://kck.test/unit/inbox",
        expires="", centre="KCK", kind="question",
    )  # fmt: skip
    assert "Rodzaj sprawy: pytanie." in body and "dotyczy" not in body


def test_the_answer_to_a_matter_outside_the_city_says_where_to_go_in_the_residents_language() -> (
    None
):
    go = "Małopolski Urząd Wojewódzki, ul. Basztowa 22"
    subject, body = resident_outside(
        "uk", number="KCK-1", refer_to=go, centre="KCK", hotline="+48126165555"
    )
    assert subject == "Звернення KCK-1: поза компетенцією міста"
    assert "Будь ласка, зверніться до:\n\n" + go in body and "+48126165555" in body
    subject, body = resident_outside(
        "en", number="KCK-1", refer_to=go, centre="KCK", hotline="+48126165555"
    )
    assert subject == "Your matter KCK-1: outside the city's competence"
    assert "Kind of matter: a matter outside the city's competence." in body and go in body
