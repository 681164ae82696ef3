"""One announcement to a waiting caller: kck's own prompts and number words, in the caller's language."""

from __future__ import annotations

import pytest

from queues.announcement import announced_minutes, announcement
from queues.waiting import WaitingPrompts

PROMPTS = WaitingPrompts()


def test_the_caller_next_in_line_hears_so_and_the_callback_offer() -> None:
    assert announcement(PROMPTS, "pl", 1, None, offer_callback=True) == (
        "queue_you_are_next",
        "queue_press_1_callback",
    )


def test_third_in_line_hears_two_ahead_and_five_minutes_in_polish() -> None:
    # "Liczba osób przed Tobą w kolejce: dwa. Przewidywany czas oczekiwania to pięć minut."
    assert announcement(PROMPTS, "pl", 3, 290.0, offer_callback=True) == (
        "queue_people_ahead",
        "num/2",
        "queue_estimated_wait",
        "num/5",
        "num/minute_many",
        "queue_press_1_callback",
    )


@pytest.mark.parametrize(
    ("language", "position", "minutes", "ahead", "wait"),
    [
        # the count of callers is bare (masculine); minutes are feminine in pl and uk
        ("pl", 23, 22, ("num/20", "num/2"), ("num/20", "num/2_f", "num/minute_few")),
        ("pl", 2, 1, ("num/1",), ("num/1_f", "num/minute_one")),
        ("pl", 22, 21, ("num/20", "num/1"), ("num/20", "num/1", "num/minute_many")),
        ("uk", 22, 21, ("num/20", "num/1"), ("num/20", "num/1_f", "num/minute_one")),
        ("uk", 13, 12, ("num/12",), ("num/12", "num/minute_many")),
        ("en", 2, 1, ("num/1",), ("num/1", "num/minute_one")),
        ("en", 102, 2, ("num/100", "num/and", "num/1"), ("num/2", "num/minute_other")),
    ],
)
def test_numbers_take_the_gender_and_noun_form_of_the_language(
    language: str,
    position: int,
    minutes: int,
    ahead: tuple[str, ...],
    wait: tuple[str, ...],
) -> None:
    said = announcement(PROMPTS, language, position, minutes * 60.0, offer_callback=False)
    assert said == ("queue_people_ahead", *ahead, "queue_estimated_wait", *wait)


@pytest.mark.parametrize("estimate_s", [None, 0.0, 59.9])
def test_no_estimate_under_a_minute_is_announced(estimate_s: float | None) -> None:
    assert announcement(PROMPTS, "pl", 1, estimate_s, offer_callback=False) == (
        "queue_you_are_next",
    )


@pytest.mark.parametrize(("seconds", "minutes"), [(60, 1), (89, 1), (90, 2), (150, 3), (151, 3)])
def test_the_estimate_is_rounded_to_whole_minutes_half_up(seconds: float, minutes: int) -> None:
    assert announced_minutes(seconds) == minutes


def test_announcement_is_streamed_from_the_callers_language_folder() -> None:
    prompts = WaitingPrompts(sounds_dir="/var/lib/kck/sounds/")
    played = prompts.announcement("uk", 4, 600.0, offer_callback=True)
    assert played[0] == "/var/lib/kck/sounds/uk/queue_people_ahead"
    assert "/var/lib/kck/sounds/uk/num/minute_many" in played
    assert all(path.startswith("/var/lib/kck/sounds/uk/") for path in played)
    assert set(played) <= set(prompts.own_sounds("uk"))
