"""Estimated wait for a caller, from the queue's recently answered calls (not Asterisk's averages)."""

from __future__ import annotations

from collections.abc import Sequence


def estimated_wait_s(position: int, recent: Sequence[tuple[float, int]]) -> float | None:
    """`position` × the mean seconds per place of recent answered calls.

    Each recent call contributes its wait divided by the position it had when it joined
    (a caller who joined 4th and waited 120 s took 30 s per place). None without history.
    """
    if position < 1 or not recent:
        return None
    per_place = sum(wait / max(1, pos) for wait, pos in recent) / len(recent)
    return position * per_place
