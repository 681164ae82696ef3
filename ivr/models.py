"""The IVR's table: every menu set ever loaded (accepted or rejected), with its files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kck.db.models import Base, utcnow


class MenuVersionRow(Base):
    """One loaded menu set: content hash, when, who/what loaded it, its files and its problems."""

    __tablename__ = "ivr_menu_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    loaded_by: Mapped[str] = mapped_column(String(100))
    message: Mapped[str | None] = mapped_column(Text)
    accepted: Mapped[bool] = mapped_column(Boolean)
    activated_at: Mapped[datetime | None]
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)
    problems: Mapped[list[Any]] = mapped_column(default=list)
