"""Ticket tables: tickets, the units each is forwarded to, and the per-year number counter."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kck.db.models import Base, utcnow


class Ticket(Base):
    """A citizen's report taken by an agent, linked to the call it came from."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    location_text: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text)
    caller_number: Mapped[str | None] = mapped_column(String(32), index=True)
    caller_name: Mapped[str | None] = mapped_column(String(200))
    caller_email: Mapped[str | None] = mapped_column(String(200))
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # the resident agreed to be told about the matter by SMS at `caller_number`
    sms_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    call_id: Mapped[str | None] = mapped_column(ForeignKey("calls.id"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(20), default="new")
    language: Mapped[str] = mapped_column(String(8), default="pl")
    # what kind of matter (agentdesk.tickets.kinds); the address as a key
    # (agentdesk.tickets.places.address_key): what the duplicate hint and the idea topics look up
    kind: Mapped[str] = mapped_column(String(16), default="report", server_default="report")
    address_key: Mapped[str | None] = mapped_column(String(300))
    # the kind's own fields: where to go instead (a matter outside the city's competence) and
    # the unit or service a complaint is about
    refer_to: Mapped[str | None] = mapped_column(String(300))
    complaint_about: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_tickets_kind_category_address", "kind", "category", "address_key"),
        Index("ix_tickets_kind_category_latitude", "kind", "category", "latitude"),
    )

    units: Mapped[list[TicketUnit]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketUnit.unit_code"
    )


class TicketUnit(Base):
    """One city unit a ticket goes to; its status moves forward only (`matters.lifecycle`)."""

    __tablename__ = "ticket_units"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    forwarded_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None]

    ticket: Mapped[Ticket] = relationship(back_populates="units")


class TicketCounter(Base):
    """The last ticket number given out in a year (numbers restart each January)."""

    __tablename__ = "ticket_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
