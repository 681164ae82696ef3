"""Long-lived objects out of the garbage collector's way, so a full collection never stalls calls.

What start-up and warm-ups load (modules, settings, menus, compiled SQL, the Polish stemmer's
≈1.2 million-object table) lives as long as the process. Left in the collector's generations,
every full collection walks all of it: measured in `bench/day.py` at 1,250x, 14 full
collections in 30 s of 95–530 ms each, on the event loop that serves the calls. Frozen, a
collection costs what the calls allocated since.
"""

from __future__ import annotations

import gc


def freeze_start_up() -> None:
    """After start-up: collect what start-up left behind, then freeze what is alive."""
    gc.collect()
    gc.freeze()


def freeze_warmed_up() -> None:
    """After a background warm-up (e.g. the stemmer): freeze without a collection first, which
    would itself walk everything on the loop (the little garbage frozen with it is never freed)."""
    gc.freeze()
