"""One person's erasure (art. 17 GDPR) across kck: their recordings (through the recordings'
own erasure: file, row, transcript, audited), the kept IVR answers, their identity on calls
(number, name, speech transcript, typed digits: the rows stay for the statistics), their tickets'
identity and content (category, units, dates stay) with their matters' texts and the e-mails to
them in the outbox (steps, states and messages stay), their Open311 requests' photo and
attributes, their desk tasks' number and note and their voicemail files, mentions of them in the
audit log, and what Redis holds about them. Refused while a recording of theirs is under legal
hold (unless forced with a reason), one of their calls is still in progress or a task of theirs
is still open at the desk. Audited with counts, never the data."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentdesk.tickets.models import Ticket
from kck.clock import Clock
from kck.db.models import AuditEntry, Call, CallOutcome
from privacy.export import Where, audit_about, speech_answers
from privacy.live_state import (
    check_all_read,
    find_mentions,
    remove_mentions,
    rewrite_redis_files,
)
from privacy.matters import erase_matters, unsent_to_resident
from privacy.open311 import erase_requests
from privacy.person import Person, footprint, without_typed_digits
from privacy.residents import erase_residents
from privacy.tasks import erase_tasks, still_open, tasks_of, voicemail_files
from recordings.retention import Retention

log = logging.getLogger(__name__)

ERASED = "[usunięto na żądanie / erased on request]"
CALL_IDENTITY = {"caller_number": None, "caller_name": None, "transcript": None}
# a ticket keeps its number, category, units, status and dates (the matter's statistics)
TICKET_ERASED = {
    "caller_number": None,
    "caller_name": None,
    "caller_email": None,
    "contact_consent": False,
    "sms_consent": False,
    "description": ERASED,
    "location_text": None,
    "latitude": None,
    "longitude": None,
    "complaint_about": None,  # the resident's words on whom they complain about
}


class ErasureRefused(Exception):
    """The erasure cannot go ahead now; the message says why and what to do."""


@dataclass(frozen=True)
class ErasureCounts:
    """What an erasure changed: counts only (they go to the audit log and the report)."""

    calls: int
    tickets: int
    recordings: int
    speech_answers: int
    audit_entries: int
    redis_entries: int
    holds_overridden: int
    matter_events: int
    outbox_messages: int
    matter_residents: int = 0  # attached to another's matter (privacy/residents.py)
    agent_tasks: int = 0  # callback and voicemail tasks: number and note (privacy/tasks.py)
    voicemail_files: int = 0
    open311_requests: int = 0  # photo address and attributes (privacy/open311.py)


def _scrub(value: Any, needles: list[str]) -> Any:
    text = json.dumps(value, ensure_ascii=False)
    for needle in sorted(needles, key=len, reverse=True):
        text = text.replace(json.dumps(needle, ensure_ascii=False)[1:-1], "[erased]")
    return json.loads(text)


async def erase(
    sessions: async_sessionmaker[AsyncSession],
    where: Where,
    retention: Retention,
    clock: Clock,
    person: Person,
    *,
    by: str,
    reason: str,
    force: str | None = None,
) -> ErasureCounts:
    """Erase `person` everywhere kck keeps them; `force` (a reason) overrides legal holds."""
    if not reason.strip():
        raise ErasureRefused("an erasure needs a reason (e.g. the request's case number)")
    async with sessions() as db:
        fp = await footprint(db, person)
        live = list(
            await db.scalars(
                select(Call.id).where(
                    Call.id.in_(fp.call_ids), Call.outcome == CallOutcome.IN_PROGRESS.value
                )
            )
        )
        unsent = await unsent_to_resident(db, fp.ticket_ids, fp.identities)
        tasks = await tasks_of(db, fp.call_ids, fp.identities)
    if unsent:
        raise ErasureRefused(
            f"an e-mail to this person ({unsent[0]}) is still in the outbox, not yet sent; try "
            "again after it leaves (kck's outbox worker retries it)"
        )
    for call_id in fp.call_ids:  # the router's state of a call (queues/store.py: prefix:q:call:id)
        if await where.redis.exists(f"{where.prefix}:q:call:{call_id}"):
            live.append(call_id)  # e.g. a callback request not yet made (its row says callback)
    if live:
        raise ErasureRefused(
            f"call {live[0]} of this person is still in progress (in the IVR, a queue, with an "
            "agent, or a callback not yet made); try again after it"
        )
    if busy := still_open(tasks):
        raise ErasureRefused(
            f"task {busy[0].id} ({busy[0].kind}, {busy[0].state}) of this person is still open "
            "at the desk; try again after an agent has closed it"
        )
    held = await retention.held(fp.call_ids)
    if held and not (force or "").strip():
        listed = ", ".join(f"call {c} ({why})" for c, why in sorted(held.items()))
        raise ErasureRefused(
            f"a legal hold keeps recordings of this person: {listed}; release it "
            "(kck recordings release CALL_ID) or force the erasure with --force REASON"
        )
    mentions = await find_mentions(where.redis, where.prefix, fp.live_needles)
    await check_all_read(where.redis, mentions)

    for call_id in held:  # forced: audited as a release by `by`, the reason below
        await retention.release(call_id, by=by)
    erased_recordings = await retention.erase_calls(fp.call_ids, by=by)
    answers = speech_answers(where.speech, fp.call_ids)
    voicemail = await asyncio.to_thread(voicemail_files, where.voicemail, fp.call_ids)
    for path in [*answers, *voicemail]:
        await asyncio.to_thread(path.unlink, True)

    redis_entries = await remove_mentions(where.redis, mentions)
    if redis_entries:
        await rewrite_redis_files(where.redis)

    async with sessions() as db, db.begin():
        for call in await db.scalars(select(Call).where(Call.id.in_(fp.call_ids))):
            await db.execute(
                update(Call)
                .where(Call.id == call.id)
                .values(**CALL_IDENTITY, ivr_path=without_typed_digits(call.ivr_path or []))
            )
        await db.execute(update(Ticket).where(Ticket.id.in_(fp.ticket_ids)).values(**TICKET_ERASED))
        steps, messages = await erase_matters(db, fp.ticket_ids, fp.identities, ERASED)
        residents = await erase_residents(db, fp.identities, ERASED)
        cleared_tasks = await erase_tasks(db, tasks)
        requests = await erase_requests(db, fp.ticket_ids)
        scrubbed = 0
        for entry in await audit_about(db, fp):
            target = _scrub(entry.target, fp.identities)
            scrubbed_details = _scrub(entry.details, fp.identities)
            if (target, scrubbed_details) != (entry.target, entry.details):
                entry.target, entry.details = target, scrubbed_details
                scrubbed += 1
        counts = ErasureCounts(
            calls=len(fp.call_ids),
            tickets=len(fp.ticket_ids),
            matter_events=steps,
            outbox_messages=messages,
            recordings=len(erased_recordings.removed),
            speech_answers=len(answers),
            audit_entries=scrubbed,
            redis_entries=redis_entries,
            holds_overridden=len(held),
            matter_residents=residents,
            agent_tasks=cleared_tasks,
            voicemail_files=len(voicemail),
            open311_requests=requests,
        )
        details: dict[str, Any] = {"reason": reason, **asdict(counts)}
        if held:
            details["forced"] = force
        db.add(AuditEntry(at=clock.now(), actor=by, action="privacy.erase", details=details))
    log.info("erasure by %s (%s): %s", by, reason, asdict(counts))
    return counts
