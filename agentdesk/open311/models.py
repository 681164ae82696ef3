"""Open311's tables: the API clients (portal, app) with their hashed keys, and each request a
client sent, linked to the matter it became."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kck.db.models import Base, utcnow


class Open311Client(Base):
    """A portal or an app allowed to POST requests; only the SHA-256 of its key is kept."""

    __tablename__ = "open311_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Open311Request(Base):
    """One POSTed service request: who sent it, what it asked, which matter it became.

    `client_request_id` (optional, the client's own id) and `fingerprint` (service, text and
    place) let a resent POST find the matter of the first one instead of making a second."""

    __tablename__ = "open311_requests"
    __table_args__ = (UniqueConstraint("client_id", "client_request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("open311_clients.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    service_code: Mapped[str] = mapped_column(String(32))
    client_request_id: Mapped[str | None] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    media_url: Mapped[str | None] = mapped_column(String(500))
    attributes: Mapped[str | None] = mapped_column(Text)  # JSON of attribute[code] values
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
