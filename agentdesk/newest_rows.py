"""The newest rows of each of many callers, in one query (screen-pops built at once)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Subquery, func, select
from sqlalchemy.orm import QueryableAttribute


def newest_per_caller(
    columns: Collection[QueryableAttribute[Any]],
    caller: QueryableAttribute[Any],
    newest_first: tuple[ColumnElement[Any], ...],
    callers: Collection[str],
    at: QueryableAttribute[Any],
    since: datetime,
) -> Subquery:
    """`columns` of the rows of `callers` at `since` or later, with `newest`: 1 for each
    caller's newest row by `newest_first`, 2 for the next…; keep `newest <= n` for n per caller."""
    newest = func.row_number().over(partition_by=caller, order_by=newest_first).label("newest")
    return select(*columns, newest).where(caller.in_(callers), at >= since).subquery()
