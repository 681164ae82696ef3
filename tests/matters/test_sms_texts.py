"""The resident's SMS in Polish, English and Ukrainian: Polish and English fit one GSM-7 segment
(160 characters) with the longest values; Ukrainian (UCS-2, 70 a segment) takes two at most."""

from __future__ import annotations

from typing import Any

import pytest

from matters.sms_texts import SMSKind, is_gsm7, plain_polish, resident_sms, segments

LONGEST: dict[str, Any] = {
    "number": "KCK-2026-999999",
    "centre": "Kontakt Centrum Miasta",
    "hotline": "+48126165555",
}


@pytest.mark.parametrize("kind", list(SMSKind))
@pytest.mark.parametrize("language", ["pl", "en"])
def test_polish_and_english_sms_fit_one_gsm7_segment(kind: SMSKind, language: str) -> None:
    text = resident_sms(language, kind, **LONGEST)
    assert is_gsm7(text), text
    assert len(text) <= 160 and segments(text) == 1, (len(text), text)


@pytest.mark.parametrize("kind", list(SMSKind))
def test_ukrainian_sms_take_at_most_two_segments(kind: SMSKind) -> None:
    text = resident_sms("uk", kind, **LONGEST)
    assert not is_gsm7(text)
    assert segments(text) <= 2, (len(text), text)


def test_polish_with_diacritics_is_ucs2_unless_written_plain() -> None:
    text = resident_sms("pl", SMSKind.CLOSED, plain=False, **LONGEST)
    assert "zamknięta" in text and not is_gsm7(text)
    assert segments(text) == 2
    assert "zamknieta" in resident_sms("pl", SMSKind.CLOSED, **LONGEST)


def test_segments_are_counted_as_the_networks_do() -> None:
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2 and segments("a" * 307) == 3
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2  # two characters each
    assert segments("ж" * 70) == 1 and segments("ж" * 71) == 2 and segments("ж" * 135) == 3
    assert plain_polish("Zażółć gęślą jaźń ŁÓDŹ") == "Zazolc gesla jazn LODZ"


def test_an_unknown_language_gets_polish() -> None:
    assert resident_sms("de", SMSKind.FORWARDED, **LONGEST) == resident_sms(
        "pl", SMSKind.FORWARDED, **LONGEST
    )
