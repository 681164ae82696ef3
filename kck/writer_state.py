"""A stream writer's state for /health: writing, or waiting for its database (since when, why).

The writer (`EventBus.consume_batches` with a poison rule) calls `failed` when a passing fault
(the database away) stops it and `wrote` when a batch is written; this logs one warning when an
outage begins and one line when it ends, never a traceback per event, and paces the retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)

WRITING = "writing"
WAITING = "waiting_for_database"


@dataclass(frozen=True)
class Backoff:
    """Pauses between attempts: `first_s`, doubling up to `max_s`."""

    first_s: float = 0.1
    max_s: float = 5.0

    def pauses(self) -> Iterator[float]:
        pause = self.first_s
        while True:
            yield pause
            pause = min(self.max_s, pause * 2)


# A writer retries a database that is away after 0.5 s, 1 s, 2 s… at most 10 s apart: it is
# writing again at most ~10 s after the database is back.
WRITER_BACKOFF = Backoff(first_s=0.5, max_s=10.0)


class WriterState:
    """What a stream writer is doing, for /health; `now` gives the time shown (Europe/Warsaw)."""

    def __init__(
        self,
        what: str,
        now: Callable[[], datetime],
        backoff: Backoff = WRITER_BACKOFF,
        timeout_s: float | None = None,
    ) -> None:
        self.what = what
        self.backoff = backoff
        self.timeout_s = timeout_s  # one write without an answer this long: the database is away
        self._now = now
        self.state = WRITING
        self.since = now()
        self.attempts = 0  # failed attempts in the current outage
        self.error = ""
        self._pauses: Iterator[float] = backoff.pauses()

    def failed(self, error: Exception) -> float:
        """A passing fault stopped the writer: the pause before its next attempt (seconds)."""
        self.attempts += 1
        self.error = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        if self.state != WAITING:
            self.state, self.since = WAITING, self._now()
            log.warning(
                "%s: the database is unavailable (%s); events wait in the stream, "
                "retrying every %g s at most",
                self.what,
                self.error[:300],
                self.backoff.max_s,
            )
        return next(self._pauses)

    def wrote(self) -> None:
        """A batch was written: back to writing (one line if an outage ends)."""
        if self.state == WAITING:
            waited = (self._now() - self.since).total_seconds()
            log.info(
                "%s: the database is back; writing again after %.1f s and %d failed attempts",
                self.what,
                waited,
                self.attempts,
            )
            self.state, self.since = WRITING, self._now()
            self.attempts, self.error = 0, ""
            self._pauses = self.backoff.pauses()

    @property
    def waiting(self) -> bool:
        return self.state == WAITING

    def health(self) -> dict[str, Any]:
        body: dict[str, Any] = {"state": self.state, "since": self.since.isoformat()}
        if self.state == WAITING:
            body.update(attempts=self.attempts, error=self.error)
        return body
