"""Who an export or an erasure is about, and where kck keeps them: their calls (by number, by the
name their phone sent, or the calls their tickets came from) and their tickets (by number, e-mail
or name written on the ticket, or made from one of their calls)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from agentdesk.tickets.models import Ticket
from kck.db.models import Call

# IVR path entries with this many digits or more are what the caller typed (a number, an id),
# not a menu choice (1–2 keys): identity, cleared with it
TYPED_DIGITS_MIN = 3


class NoOneNamed(ValueError):
    """An export or erasure needs a number, an e-mail or a name."""


@dataclass(frozen=True)
class Person:
    """The identifiers a resident gave: their number in E.164, and/or the e-mail or the name
    recorded on their tickets."""

    number: str | None = None
    email: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if not (self.number or self.email or self.name):
            raise NoOneNamed("name the person: a phone number, --email or --name")

    def labels(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


def written_forms(numbers: Iterable[str | None], texts: Iterable[str | None]) -> list[str]:
    """The forms in which numbers (E.164) and names or e-mails may be written down: searched for
    in Redis and the audit log (and by the tests in everything)."""
    out: set[str] = set()
    for number in filter(None, numbers):
        out |= {number, number.lstrip("+")}
        if number.startswith("+48"):
            out.add(number[3:])  # the national form Asterisk may send
    out |= {t.strip() for t in texts if t and len(t.strip()) >= 3}
    return sorted(out, key=len, reverse=True)


@dataclass(frozen=True)
class Footprint:
    """The rows of kck's history about one person, and every number, name and e-mail written on
    them (what else names them: a ticket found by e-mail gives the number too)."""

    call_ids: list[str]
    ticket_ids: list[int]
    identities: list[str]
    # the numbers' forms, the e-mails and the call ids: what Redis is searched for. Not names:
    # kck's Redis holds a name only beside its call's id or number, and a name a phone sends (a
    # company's switchboard) may be other callers' too
    live_needles: list[str]


def _lowered(values: set[str]) -> list[str]:
    return sorted({v.strip().lower() for v in values})


async def footprint(db: AsyncSession, person: Person) -> Footprint:
    """The person's calls and tickets. A number or e-mail on what was found leads to the rest of
    theirs (a ticket found by e-mail gives the number their calls came from). Names are shared:
    what a search by name alone finds must be checked by a person before it is erased."""
    numbers = {person.number} if person.number else set()
    emails = {person.email} if person.email else set()
    names = {person.name} if person.name else set()
    for _ in range(3):  # found numbers and e-mails lead further; three rounds reach the end
        by_identity = or_(
            Ticket.caller_number.in_(sorted(numbers)),
            func.lower(Ticket.caller_email).in_(_lowered(emails)),
            func.lower(Ticket.caller_name).in_(_lowered(names)),
        )
        ticket_calls = set(
            await db.scalars(select(Ticket.call_id).where(by_identity, Ticket.call_id.is_not(None)))
        )
        calls = set(
            await db.scalars(
                select(Call.id).where(
                    or_(
                        Call.caller_number.in_(sorted(numbers)),
                        func.lower(Call.caller_name).in_(_lowered(names)),
                        Call.id.in_(sorted(ticket_calls)),
                    )
                )
            )
        )
        tickets = (
            await db.execute(
                select(
                    Ticket.id, Ticket.caller_number, Ticket.caller_name, Ticket.caller_email
                ).where(or_(by_identity, Ticket.call_id.in_(sorted(calls))))
            )
        ).all()
        callers = (
            await db.execute(
                select(Call.caller_number, Call.caller_name).where(Call.id.in_(sorted(calls)))
            )
        ).all()
        found_numbers = {t[1] for t in tickets if t[1]} | {c[0] for c in callers if c[0]}
        found_emails = {t[3] for t in tickets if t[3]}
        if found_numbers <= numbers and found_emails <= emails:
            break
        numbers |= found_numbers
        emails |= found_emails
    texts = [*emails, *names, *(t[2] for t in tickets), *(c[1] for c in callers)]
    return Footprint(
        sorted(calls),
        sorted(t[0] for t in tickets),
        written_forms(sorted(numbers), texts),
        [*written_forms(sorted(numbers), emails), *sorted(calls)],
    )


def without_typed_digits(path: list[dict[str, object]]) -> list[dict[str, object]]:
    """An IVR path as statistics need it: steps and menu choices kept, typed digits cleared."""
    return [
        {**step, "digits": None}
        if isinstance(step.get("digits"), str) and len(str(step["digits"])) >= TYPED_DIGITS_MIN
        else step
        for step in path
    ]
