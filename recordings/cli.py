"""`kck recordings …`: purge past retention now, legal hold and its release, erasure request."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from kck.clock import SystemClock
from kck.db import create_engine, require_current_schema, session_factory
from kck.errors import UserError
from kck.phone import to_e164
from kck.settings import settings_from
from recordings.lifecycle import NotRecording
from recordings.retention import Retention

T = TypeVar("T")


class RecordingCommandError(UserError):
    """A recordings command cannot do what was asked (no such recording, bad number…)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rec = sub.add_parser("recordings", help="call recordings: purge, legal hold, erasure")
    rec_sub = rec.add_subparsers(dest="recordings_command", metavar="ACTION", required=True)

    purge = rec_sub.add_parser("purge", help="delete recordings past their retention now")
    purge.set_defaults(func=cmd_purge)

    hold = rec_sub.add_parser("hold", help="keep a call's recording while its matter is disputed")
    hold.add_argument("call_id")
    hold.add_argument("--reason", required=True, help="e.g. the case number")
    hold.add_argument("--by", default="cli", help="recorded in the audit log")
    hold.set_defaults(func=cmd_hold)

    release = rec_sub.add_parser("release", help="end a legal hold (retention applies again)")
    release.add_argument("call_id")
    release.add_argument("--by", default="cli")
    release.set_defaults(func=cmd_release)

    erase = rec_sub.add_parser(
        "erase", help="a resident's erasure request: delete their recordings"
    )
    erase.add_argument("--caller", required=True, help="the resident's number, e.g. +48600100200")
    erase.add_argument("--by", default="cli")
    erase.set_defaults(func=cmd_erase)


def _run(args: argparse.Namespace, work: Callable[[Retention], Awaitable[T]]) -> T:
    settings = settings_from(args)

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            await require_current_schema(engine)
            retention = Retention(
                session_factory(engine), settings.recordings_dir, settings.recordings, SystemClock()
            )
            return await work(retention)
        except NotRecording as exc:
            raise RecordingCommandError(f"no recording of call {exc}") from None
        finally:
            await engine.dispose()

    return asyncio.run(run())


def cmd_purge(args: argparse.Namespace) -> int:
    removed = _run(args, lambda r: r.purge())
    for gone in removed:
        print(f"deleted {gone.path} (call {gone.call_id}, {gone.why})")
    print(f"{len(removed)} recording(s) deleted")
    return 0


def cmd_hold(args: argparse.Namespace) -> int:
    _run(args, lambda r: r.hold(args.call_id, args.reason, by=args.by))
    print(f"call {args.call_id}: recording held ({args.reason})")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    _run(args, lambda r: r.release(args.call_id, by=args.by))
    print(f"call {args.call_id}: legal hold released")
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    number = to_e164(args.caller)
    if number is None:
        raise RecordingCommandError(f"--caller {args.caller!r} is not a phone number")
    erasure = _run(args, lambda r: r.erase_caller(number, by=args.by))
    print(f"{len(erasure.removed)} recording(s) deleted")
    for call_id in erasure.held:
        print(f"kept under legal hold: call {call_id}")
    return 0
