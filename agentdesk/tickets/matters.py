"""A ticket's life as a matter, in SQL: forwarding to its units, their steps on the unit page,
the resident's combined answer, the answer at once to a matter outside the city's competence,
closing and reopening — each move checked by `matters.lifecycle`, audited in `matter_events`,
and its e-mail put in the outbox in the same transaction (the step and its message commit
together)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from agentdesk.tickets.kinds import TicketKind
from agentdesk.tickets.models import Ticket, TicketUnit
from agentdesk.tickets.store import format_number
from agentdesk.tickets.units import CityUnit, CityUnits
from kck.clock import Clock
from kck.settings import Settings
from matters.lifecycle import (
    MatterStatus,
    MoveRefused,
    UnitStatus,
    all_answered,
    check_matter_move,
    check_unit_move,
)
from matters.links import LinkSigner, UnitGrant
from matters.mail_texts import (
    UnitAnswer,
    UnitLink,
    resident_answer,
    resident_outside,
    resident_question,
    unit_info_answer,
    unit_notice,
)
from matters.models import MatterEvent, MatterResident
from matters.outbox import RESIDENT_KEY, SMS, OutgoingMail, enqueue
from matters.sms_texts import SMSKind, resident_sms

UNIT_INBOX = "/unit/inbox"  # a unit working by account reads its matters there
REPLY_PAGE_PREFIX = "/reply/"  # the resident's page answering a unit's question
REPLY_PURPOSE = "reply"  # the signer's purpose of a resident's reply link
# matter_events actions of the question loop (besides the unit's own `info_requested`)
RESIDENT_ASKED = "resident_asked"  # the question e-mailed to the resident
INFO_ANSWERED = "info_answered"  # the resident's answer (typed by them, or by an agent)


class UnitAction(enum.StrEnum):
    RECEIVED = "received"
    ANSWER = "answer"
    MORE_INFO = "more_info"
    PASS_ON = "pass_on"


_ACTION_STATUS = {
    UnitAction.RECEIVED: UnitStatus.RECEIVED,
    UnitAction.ANSWER: UnitStatus.ANSWERED,
    UnitAction.MORE_INFO: UnitStatus.INFO_REQUESTED,
    UnitAction.PASS_ON: UnitStatus.PASSED_ON,
}


# the matter's step each SMS follows (its round numbers the SMS's key)
_SMS_STEP = {
    SMSKind.FORWARDED: MatterStatus.FORWARDED,
    SMSKind.ANSWERED_BY_MAIL: MatterStatus.ANSWERED,
    SMSKind.ANSWERED_BY_PHONE: MatterStatus.ANSWERED,
    SMSKind.REOPENED: MatterStatus.REOPENED,
    SMSKind.CLOSED: MatterStatus.CLOSED,
}


class MatterNotFound(LookupError):
    def __init__(self, number: str) -> None:
        super().__init__(f"no matter {number!r}")
        self.number = number


class NotOutside(ValueError):
    """Only a matter outside the city's competence, with where to go, is answered at once."""

    def __init__(self, number: str) -> None:
        super().__init__(f"matter {number}: not outside the city's competence (or no refer_to)")
        self.number = number


class UnitActionRefused(ValueError):
    """The unit's step cannot be taken as asked (no answer text, unknown unit to pass on to…)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class MatterMail:
    """What the e-mails need from the settings: the public address, the centre's name."""

    public_url: str
    centre: str
    hotline: str
    plain_polish_sms: bool = True  # sms.plain_polish: Polish SMS without diacritics (GSM-7)

    @classmethod
    def from_settings(cls, settings: Settings) -> MatterMail:
        return cls(
            settings.mail.public_url,
            settings.centre.name,
            settings.centre.hotline,
            settings.sms.plain_polish,
        )


@dataclass(frozen=True)
class UnitPart:
    code: str
    status: str
    answer: str | None


@dataclass(frozen=True)
class MatterState:
    number: str
    status: str
    units: tuple[UnitPart, ...]
    category: str
    description: str
    location_text: str | None
    latitude: float | None
    longitude: float | None
    resident_name: str | None  # only with the resident's consent
    language: str
    created_at: datetime
    kind: str = "report"  # agentdesk.tickets.kinds.TicketKind
    complaint_about: str | None = None
    refer_to: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    unit: str | None
    from_status: str | None
    to_status: str | None
    detail: str | None


def _state(ticket: Ticket) -> MatterState:
    return MatterState(
        number=ticket.number,
        status=ticket.status,
        units=tuple(UnitPart(u.unit_code, u.status, u.answer) for u in ticket.units),
        category=ticket.category,
        description=ticket.description,
        location_text=ticket.location_text,
        latitude=ticket.latitude,
        longitude=ticket.longitude,
        resident_name=ticket.caller_name if ticket.contact_consent else None,
        language=ticket.language,
        created_at=ticket.created_at,
        kind=ticket.kind,
        complaint_about=ticket.complaint_about,
        refer_to=ticket.refer_to,
    )


def link_expiry(signer: LinkSigner, now: datetime) -> str:
    return (now + signer.lifetime).strftime("%Y-%m-%d %H:%M UTC")


def signed_unit_link(
    mail: MatterMail, signer: LinkSigner, number: str, code: str, now: datetime
) -> UnitLink:
    """The unit's signed, expiring link to the page of one matter."""
    token = signer.issue(number, code, now)
    return UnitLink(f"{mail.public_url}/unit/matter/{token}", link_expiry(signer, now))


def unit_link(
    mail: MatterMail, signer: LinkSigner, number: str, unit: CityUnit, now: datetime
) -> UnitLink:
    """Where a unit reads a matter: its inbox when it works by account (no key in the e-mail),
    else its signed link."""
    if unit.by_account:
        return UnitLink(f"{mail.public_url}{UNIT_INBOX}")
    return signed_unit_link(mail, signer, number, unit.code, now)


class MatterService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        units: CityUnits,
        signer: LinkSigner,
        mail: MatterMail,
        clock: Clock,
        on_enqueued: Callable[[], None] = lambda: None,
    ) -> None:
        self.sessions = sessions
        self.units = units
        self.signer = signer
        self.mail = mail
        self.clock = clock
        self.on_enqueued = on_enqueued

    # -- reading -------------------------------------------------------------------------------

    async def state(self, number: str) -> MatterState | None:
        async with self.sessions() as session:
            ticket = await self._ticket(session, number, lock=False)
            return _state(ticket) if ticket else None

    async def audit(self, number: str) -> list[AuditEntry]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(MatterEvent)
                .join(Ticket, Ticket.id == MatterEvent.ticket_id)
                .where(Ticket.number == number.strip().upper())
                .order_by(MatterEvent.id)
            )
            return [
                AuditEntry(
                    r.at, r.actor, r.action, r.unit_code, r.from_status, r.to_status, r.detail
                )
                for r in rows
            ]

    async def counts(self) -> dict[str, int]:
        """How many matters are in each state."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(Ticket.status, func.count()).group_by(Ticket.status)
            )
            return {status: int(n) for status, n in rows}

    # -- the agent's and the supervisor's steps ---------------------------------------------

    async def forward(self, number: str, actor: str) -> MatterState:
        """Send the matter to each of its units not yet forwarded: status, audit, e-mail."""
        async with self.sessions.begin() as session:
            ticket = await self._required(session, number)
            now = self.clock.now()
            self._move_matter(session, ticket, MatterStatus.FORWARDED, actor, now)
            for part in ticket.units:
                if part.status == UnitStatus.PENDING:
                    await self._forward_unit(session, ticket, part, actor, now)
            await self._sms_resident(session, ticket, SMSKind.FORWARDED, now)
            state = _state(ticket)
        self.on_enqueued()
        return state

    async def close(self, number: str, actor: str) -> MatterState:
        async with self.sessions.begin() as session:
            ticket = await self._required(session, number)
            now = self.clock.now()
            self._move_matter(session, ticket, MatterStatus.CLOSED, actor, now)
            await self._sms_resident(session, ticket, SMSKind.CLOSED, now)
            state = _state(ticket)
        self.on_enqueued()
        return state

    async def reopen(self, number: str, reason: str, actor: str) -> MatterState:
        """Reopen with a reason: every unit that answered gets the matter again."""
        if not reason.strip():
            raise UnitActionRefused("reason_missing", f"matter {number}: reopening needs a reason")
        async with self.sessions.begin() as session:
            ticket = await self._required(session, number)
            now = self.clock.now()
            self._move_matter(session, ticket, MatterStatus.REOPENED, actor, now, reason.strip())
            self._move_matter(session, ticket, MatterStatus.FORWARDED, "system", now)
            for part in ticket.units:
                if part.status == UnitStatus.ANSWERED:
                    # the one way back of a unit, only with the matter's audited reopening
                    move = (part.unit_code, part.status, UnitStatus.PENDING.value)
                    self._audit(session, ticket, "unit_reopened", actor, now, move, reason.strip())
                    part.status = UnitStatus.PENDING
                    await self._forward_unit(session, ticket, part, actor, now)
            await self._sms_resident(session, ticket, SMSKind.REOPENED, now)
            state = _state(ticket)
        self.on_enqueued()
        return state

    async def answer_outside(self, number: str, actor: str) -> MatterState:
        """A matter outside the city's competence is not forwarded: answered at once (audited,
        with where the resident is sent), the answer e-mailed in their language to each resident
        who consented and gave an address (resident informed); without one the agent has told
        them on the call and the matter is closed."""
        async with self.sessions.begin() as session:
            ticket = await self._required(session, number)
            if ticket.kind != TicketKind.OUTSIDE or not ticket.refer_to:
                raise NotOutside(ticket.number)
            now = self.clock.now()
            self._move_matter(session, ticket, MatterStatus.ANSWERED, actor, now, ticket.refer_to)
            recipients = await _resident_addresses(session, ticket)
            for suffix, address, language in recipients:
                subject, body = resident_outside(
                    language,
                    number=ticket.number,
                    refer_to=ticket.refer_to,
                    centre=self.mail.centre,
                    hotline=self.mail.hotline,
                )
                key = f"{RESIDENT_KEY}{ticket.number}:outside{suffix}"
                mail = OutgoingMail(key, address, subject, body)
                await enqueue(session, mail, now=now, ticket_id=ticket.id)
            told = MatterStatus.RESIDENT_INFORMED if recipients else MatterStatus.CLOSED
            self._move_matter(session, ticket, told, "system", now)
            state = _state(ticket)
        self.on_enqueued()
        return state

    # -- the unit's steps -------------------------------------------------------------------

    async def for_unit(self, grant: UnitGrant) -> MatterState:
        state = await self.state(grant.matter)
        if state is None or grant.unit not in {u.code for u in state.units}:
            raise MatterNotFound(grant.matter)
        return state

    async def unit_act(
        self, grant: UnitGrant, action: UnitAction, text: str = "", target: str = ""
    ) -> MatterState:
        text = text.strip()
        if action in (UnitAction.ANSWER, UnitAction.MORE_INFO) and not text:
            raise UnitActionRefused("text_missing", f"matter {grant.matter}: {action} needs text")
        async with self.sessions.begin() as session:
            ticket = await self._required(session, grant.matter)
            part = next((u for u in ticket.units if u.unit_code == grant.unit), None)
            if part is None:
                raise MatterNotFound(grant.matter)
            now = self.clock.now()
            actor = f"unit:{grant.unit}"
            new_unit = None
            if action is UnitAction.PASS_ON:
                new_unit = self._pass_on_target(ticket, grant.unit, target)
            self._move_unit(session, ticket, part, _ACTION_STATUS[action], actor, now, text)
            if action is UnitAction.ANSWER:
                part.answer = text
            if action is UnitAction.MORE_INFO:
                await self._ask_resident(session, ticket, grant.unit, text, now)
            if new_unit is not None:
                added = TicketUnit(unit_code=new_unit, status=UnitStatus.PENDING)
                ticket.units.append(added)
                await self._forward_unit(session, ticket, added, actor, now)
            if ticket.status == MatterStatus.FORWARDED and all_answered(
                UnitStatus(u.status) for u in ticket.units
            ):
                self._move_matter(session, ticket, MatterStatus.ANSWERED, "system", now)
                await self._tell_resident(session, ticket, now)
            state = _state(ticket)
        self.on_enqueued()
        return state

    async def answer_question(
        self, number: str, text: str, actor: str, unit: str | None = None
    ) -> MatterState:
        """The resident's answer to the units' open questions (`unit`: only that unit's), typed
        on the reply page (`actor` "resident") or by an agent after a call: audited, sent to
        each unit (its link, or its inbox), and the unit's part is back to received."""
        text = text.strip()
        if not text:
            raise UnitActionRefused("text_missing", f"matter {number}: the answer needs text")
        async with self.sessions.begin() as session:
            ticket = await self._required(session, number)
            asked = [
                u
                for u in ticket.units
                if u.status == UnitStatus.INFO_REQUESTED and unit in (None, u.unit_code)
            ]
            if not asked:
                raise UnitActionRefused("no_question", f"matter {ticket.number}: no open question")
            now = self.clock.now()
            for part in asked:
                current, target = UnitStatus(part.status), UnitStatus.RECEIVED
                check_unit_move(ticket.number, part.unit_code, current, target)
                part.status = target
                part.updated_at = now
                move = (part.unit_code, current.value, target.value)
                self._audit(session, ticket, INFO_ANSWERED, actor, now, move, text)
                await self._tell_unit_answer(session, ticket, part, text, now)
            state = _state(ticket)
        self.on_enqueued()
        return state

    # -- inside a transaction ---------------------------------------------------------------

    async def _ticket(self, session: AsyncSession, number: str, *, lock: bool) -> Ticket | None:
        query = (
            select(Ticket)
            .where(Ticket.number == number.strip().upper())
            .options(selectinload(Ticket.units))
        )
        if lock:
            # one step of a matter at a time: two units answering at once both see the other
            query = query.with_for_update(of=Ticket)
        return await session.scalar(query)

    async def _required(self, session: AsyncSession, number: str) -> Ticket:
        ticket = await self._ticket(session, number, lock=True)
        if ticket is None:
            raise MatterNotFound(number)
        return ticket

    def _pass_on_target(self, ticket: Ticket, unit: str, target: str) -> str:
        target = target.strip().upper()
        if self.units.get(target) is None:
            raise UnitActionRefused("unknown_unit", f"matter {ticket.number}: no unit {target!r}")
        if target == unit or any(u.unit_code == target for u in ticket.units):
            raise UnitActionRefused(
                "unit_already_on", f"matter {ticket.number}: unit {target} already has it"
            )
        return target

    def _audit(
        self,
        session: AsyncSession,
        ticket: Ticket,
        action: str,
        actor: str,
        now: datetime,
        move: tuple[str | None, str | None, str | None],
        detail: str | None = None,
    ) -> None:
        unit, before, after = move
        session.add(
            MatterEvent(
                ticket_id=ticket.id,
                unit_code=unit,
                action=action,
                from_status=before,
                to_status=after,
                actor=actor,
                detail=detail,
                at=now,
            )
        )

    def _move_matter(
        self,
        session: AsyncSession,
        ticket: Ticket,
        target: MatterStatus,
        actor: str,
        now: datetime,
        detail: str | None = None,
    ) -> None:
        current = MatterStatus(ticket.status)
        check_matter_move(ticket.number, current, target)
        ticket.status = target
        self._audit(session, ticket, target.value, actor, now, (None, current, target), detail)

    def _move_unit(
        self,
        session: AsyncSession,
        ticket: Ticket,
        part: TicketUnit,
        target: UnitStatus,
        actor: str,
        now: datetime,
        detail: str | None = None,
    ) -> None:
        current = UnitStatus(part.status)
        check_unit_move(ticket.number, part.unit_code, current, target)
        part.status = target
        part.updated_at = now
        self._audit(
            session, ticket, target.value, actor, now, (part.unit_code, current, target), detail
        )

    async def _forward_unit(
        self, session: AsyncSession, ticket: Ticket, part: TicketUnit, actor: str, now: datetime
    ) -> None:
        self._move_unit(session, ticket, part, UnitStatus.FORWARDED, actor, now)
        part.forwarded_at = now
        unit = self.units.get(part.unit_code)
        if unit is None:
            return  # a unit removed from units.yaml since: audited, nobody to write to
        link = self._unit_link(ticket.number, unit, now)
        subject, body = unit_notice(
            number=ticket.number,
            unit_name=unit.name_pl,
            category=ticket.category,
            link=link.url,
            expires=link.expires,
            centre=self.mail.centre,
            kind=ticket.kind,
            about=ticket.complaint_about,
        )
        await self._mail_unit(session, ticket, unit, "unit", subject, body, now)

    def _expiry(self, now: datetime) -> str:
        return link_expiry(self.signer, now)

    def _unit_link(self, number: str, unit: CityUnit, now: datetime) -> UnitLink:
        return unit_link(self.mail, self.signer, number, unit, now)

    async def _mail_unit(
        self,
        session: AsyncSession,
        ticket: Ticket,
        unit: CityUnit,
        kind: str,
        subject: str,
        body: str,
        now: datetime,
    ) -> None:
        for address in unit.emails:
            key = f"{kind}:{ticket.number}:{unit.code}:{address}:{int(now.timestamp())}"
            mail = OutgoingMail(key, address, subject, body)
            await enqueue(session, mail, now=now, ticket_id=ticket.id)

    async def _ask_resident(
        self, session: AsyncSession, ticket: Ticket, unit_code: str, question: str, now: datetime
    ) -> None:
        """A unit's question: to the resident by e-mail with a reply link when they consented
        and gave an address (audited); otherwise it waits for the centre on /matters and the
        desk (the agent records the answer after a call)."""
        if not (ticket.contact_consent and ticket.caller_email):
            return
        token = self.signer.issue(ticket.number, unit_code, now, purpose=REPLY_PURPOSE)
        link = UnitLink(f"{self.mail.public_url}{REPLY_PAGE_PREFIX}{token}", self._expiry(now))
        subject, body = resident_question(
            ticket.language,
            number=ticket.number,
            unit_name=self._unit_name(unit_code, ticket.language),
            question=question,
            link=link,
            hotline=self.mail.hotline,
        )
        key = f"{RESIDENT_KEY}{ticket.number}:question:{unit_code}:{int(now.timestamp())}"
        mail = OutgoingMail(key, ticket.caller_email, subject, body)
        await enqueue(session, mail, now=now, ticket_id=ticket.id)
        move = (unit_code, None, None)
        self._audit(session, ticket, RESIDENT_ASKED, "system", now, move, "e-mail")

    async def _tell_unit_answer(
        self, session: AsyncSession, ticket: Ticket, part: TicketUnit, text: str, now: datetime
    ) -> None:
        unit = self.units.get(part.unit_code)
        if unit is None:
            return
        link = self._unit_link(ticket.number, unit, now)
        subject, body = unit_info_answer(number=ticket.number, answer=text, link=link)
        await self._mail_unit(session, ticket, unit, "unit-info", subject, body, now)

    async def _tell_resident(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        """One e-mail with every unit's answer to each resident who consented and gave an
        address — the first caller and those attached since — once per address, each in their
        language; without any the matter stays answered (the agent calls back). With SMS consent
        the first caller also gets an SMS saying where the answer is (e-mail or phone)."""
        recipients = await _resident_addresses(session, ticket)
        # the first caller's SMS (with their consent) says where the answer is
        by_mail = bool(ticket.contact_consent and ticket.caller_email)
        sms = SMSKind.ANSWERED_BY_MAIL if by_mail else SMSKind.ANSWERED_BY_PHONE
        await self._sms_resident(session, ticket, sms, now)
        if not recipients:
            return
        rounds = await self._rounds(session, ticket, MatterStatus.ANSWERED)
        for suffix, address, language in recipients:
            answers = [
                UnitAnswer(self._unit_name(u.unit_code, language), u.answer or "")
                for u in ticket.units
                if u.status == UnitStatus.ANSWERED
            ]
            subject, body = resident_answer(
                language,
                number=ticket.number,
                answers=answers,
                centre=self.mail.centre,
                hotline=self.mail.hotline,
                kind=ticket.kind,
            )
            # the first caller's key as before; an attached resident's carries their row
            key = f"{RESIDENT_KEY}{ticket.number}:{rounds}{suffix}"
            await enqueue(
                session, OutgoingMail(key, address, subject, body), now=now, ticket_id=ticket.id
            )
        self._move_matter(session, ticket, MatterStatus.RESIDENT_INFORMED, "system", now)

    async def _rounds(self, session: AsyncSession, ticket: Ticket, status: MatterStatus) -> int:
        """How many times the matter has come to `status` (this time included)."""
        count = await session.scalar(
            select(func.count())
            .select_from(MatterEvent)
            .where(
                MatterEvent.ticket_id == ticket.id,
                MatterEvent.unit_code.is_(None),
                MatterEvent.action == status.value,
            )
        )
        return int(count or 0)

    async def _sms_resident(
        self, session: AsyncSession, ticket: Ticket, kind: SMSKind, now: datetime
    ) -> None:
        """The resident's SMS of this step, when they agreed to SMS and a number is known; one
        per step and round (its key), in their language."""
        if not (ticket.sms_consent and ticket.caller_number):
            return
        text = resident_sms(
            ticket.language,
            kind,
            number=ticket.number,
            centre=self.mail.centre,
            hotline=self.mail.hotline,
            plain=self.mail.plain_polish_sms,
        )
        rounds = await self._rounds(session, ticket, _SMS_STEP[kind])
        key = f"{RESIDENT_KEY}sms:{ticket.number}:{kind.value}:{rounds}"
        sms = OutgoingMail(key, ticket.caller_number, "", text, SMS)
        await enqueue(session, sms, now=now, ticket_id=ticket.id)

    def _unit_name(self, code: str, language: str) -> str:
        unit = self.units.get(code)
        return unit.name(language) if unit else code


async def _resident_addresses(session: AsyncSession, ticket: Ticket) -> list[tuple[str, str, str]]:
    """(key suffix, e-mail, language) of each resident to write to, each address once."""
    found: list[tuple[str, str, str]] = []
    if ticket.contact_consent and ticket.caller_email:
        found.append(("", ticket.caller_email, ticket.language))
    attached = await session.scalars(
        select(MatterResident)
        .where(
            MatterResident.ticket_id == ticket.id,
            MatterResident.contact_consent.is_(True),
            MatterResident.email.is_not(None),
        )
        .order_by(MatterResident.id)
    )
    for resident in attached:
        if resident.email and resident.email.lower() not in {a.lower() for _, a, _ in found}:
            found.append((f":r{resident.id}", resident.email, resident.language))
    return found


class MatterStatusByKeys:
    """A matter's state from the digits a caller keys in: six digits are this year's number
    (KCK-<year>-NNNNNN), else last year's; ten are the year and the number."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], tz: ZoneInfo, clock: Clock
    ) -> None:
        self.sessions = sessions
        self.tz = tz
        self.clock = clock

    def numbers(self, keys: str) -> list[str]:
        digits = keys.strip().rstrip("#")
        if not digits.isdigit():
            return []
        if len(digits) == 10:
            return [format_number(int(digits[:4]), int(digits[4:]))]
        if len(digits) > 6:
            return []
        year = self.clock.now().astimezone(self.tz).year
        return [format_number(year, int(digits)), format_number(year - 1, int(digits))]

    async def status_of(self, keys: str) -> str | None:
        candidates = self.numbers(keys)
        if not candidates:
            return None
        async with self.sessions() as session:
            found = dict(
                (number, status)
                for number, status in await session.execute(
                    select(Ticket.number, Ticket.status).where(Ticket.number.in_(candidates))
                )
            )
        return next((found[n] for n in candidates if n in found), None)


__all__ = ["MatterService", "MatterState", "MoveRefused", "UnitAction"]
