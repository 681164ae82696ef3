"""What a waiting caller hears at one announcement: kck's own sounds, in order, for a place in the
queue and a wait estimate, in the caller's language. Pure: the waiting loop streams the result."""

from __future__ import annotations

import math
from typing import Protocol

from kck.spoken_numbers import MINUTE, say_count, say_number

# a shorter estimate is not announced ("zero minutes" would only confuse)
MIN_ANNOUNCED_WAIT_S = 60.0


class AnnouncementPrompts(Protocol):
    """The menu prompts an announcement is made of (names under config/menus/prompts.yaml)."""

    @property
    def you_are_next(self) -> str: ...
    @property
    def people_ahead(self) -> str: ...  # followed by the number of callers ahead
    @property
    def estimated_wait(self) -> str: ...  # followed by "<n> minutes"
    @property
    def press_for_callback(self) -> str: ...


def announced_minutes(estimate_s: float) -> int:
    """The estimate in whole minutes, rounded half up (90 s → 2)."""
    return math.floor(estimate_s / 60 + 0.5)


def announcement(
    prompts: AnnouncementPrompts,
    language: str,
    position: int,
    estimate_s: float | None,
    *,
    offer_callback: bool,
) -> tuple[str, ...]:
    """Sound names, relative to the language's sounds folder, for a caller at `position` (1 = next).

    Polish, 3rd with a 5-minute estimate: "Liczba osób przed Tobą:" "dwa" "Przewidywany czas
    oczekiwania to" "pięć" "minut", then the callback offer when the caller's number is known.
    """
    sounds: list[str] = []
    if position <= 1:
        sounds.append(prompts.you_are_next)
    else:
        sounds += [prompts.people_ahead, *say_number(position - 1, language)]
    if estimate_s is not None and estimate_s >= MIN_ANNOUNCED_WAIT_S:
        minutes = announced_minutes(estimate_s)
        sounds += [prompts.estimated_wait, *say_count(minutes, MINUTE, language)]
    if offer_callback:
        sounds.append(prompts.press_for_callback)
    return tuple(sounds)
