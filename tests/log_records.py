"""The call ids `kck.logs.CallIdsFilter` puts on log records, read by tests."""

from __future__ import annotations

import logging


def call_ids(record: logging.LogRecord) -> tuple[str | None, str | None]:
    """(call_id, uniqueid) of a record the filter has seen; KeyError for one it has not."""
    fields = vars(record)
    return fields["call_id"], fields["uniqueid"]
