"""`kck privacy …`: one person's export and erasure, and the identity purge now."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import TypeVar

from kck.command_redis import command_redis
from kck.db import create_engine, require_current_schema, session_factory
from kck.errors import UserError
from kck.phone import to_e164
from kck.services import Services
from kck.settings import settings_from
from privacy.component import identity_retention
from privacy.erasure import ErasureRefused, erase
from privacy.export import Where, collect, write_export
from privacy.live_state import StillBeingWritten
from privacy.person import NoOneNamed, Person
from recordings.retention import Retention

T = TypeVar("T")


class PrivacyCommandError(UserError):
    """A privacy command cannot do what was asked (no one named, a hold, a call in progress…)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    privacy = sub.add_parser(
        "privacy", help="callers' personal data: one person's export and erasure, retention"
    )
    actions = privacy.add_subparsers(dest="privacy_command", metavar="ACTION", required=True)

    export = actions.add_parser("export", help="everything kck keeps about one person, as JSON")
    _person_arguments(export)
    export.add_argument(
        "-o", "--output", required=True, help="file to write: .json, or .zip (JSON and audio)"
    )
    export.add_argument(
        "--audio", action="store_true", help="with .zip: put the recordings' audio in too"
    )
    export.add_argument("--by", help="recorded in the audit log (default: cli:<your user>)")
    export.set_defaults(func=cmd_export)

    erase_ = actions.add_parser(
        "erase", help="erase one person from calls, tickets, recordings, audit log and Redis"
    )
    _person_arguments(erase_)
    erase_.add_argument("--reason", required=True, help="e.g. the request's case number")
    erase_.add_argument(
        "--force", metavar="REASON", help="erase even recordings under legal hold, for REASON"
    )
    erase_.add_argument("--by", help="recorded in the audit log (default: cli:<your user>)")
    erase_.set_defaults(func=cmd_erase)

    purge = actions.add_parser(
        "purge", help="clear callers' identity past privacy.calls_days / tickets_days now"
    )
    purge.set_defaults(func=cmd_purge)


def _person_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("number", nargs="?", help="the person's phone number, e.g. +48600100200")
    parser.add_argument("--email", help="the e-mail written on their tickets")
    parser.add_argument("--name", help="the name written on their tickets (or sent by their phone)")


def _person(args: argparse.Namespace) -> Person:
    number = None
    if args.number:
        number = to_e164(args.number)
        if number is None:
            raise PrivacyCommandError(f"{args.number!r} is not a phone number")
    try:
        return Person(number, args.email or None, args.name or None)
    except NoOneNamed as exc:
        raise PrivacyCommandError(str(exc)) from None


def _who(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _run(args: argparse.Namespace, work: Callable[[Services], Awaitable[T]]) -> T:
    from kck.bus import EventBus

    settings = settings_from(args)

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            await require_current_schema(engine)
            async with command_redis(settings) as redis:
                services = Services(
                    settings,
                    engine,
                    session_factory(engine),
                    redis,
                    EventBus(redis, settings.redis.key_prefix),
                )
                return await work(services)
        except (ErasureRefused, StillBeingWritten) as exc:
            raise PrivacyCommandError(str(exc)) from None
        finally:
            await engine.dispose()

    return asyncio.run(run())


def cmd_export(args: argparse.Namespace) -> int:
    person = _person(args)
    out = Path(args.output)
    if args.audio and out.suffix.lower() != ".zip":
        raise PrivacyCommandError("--audio needs an output file ending in .zip")

    async def work(services: Services) -> tuple[dict[str, object], list[Path]]:
        place = Where.of(services)
        now = services.clock.now()
        document = await collect(services.sessions, place, person, now, by=_who(args))
        audio = await asyncio.to_thread(write_export, document, out, place, with_audio=args.audio)
        return document, audio

    document, audio = _run(args, work)
    counts = {k: len(v) for k, v in document.items() if isinstance(v, list)}
    print(f"written {out}: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    if audio:
        print(f"{len(audio)} audio file(s) in the archive")
    if args.name and not (args.number or args.email):
        print("found by name only: check that every call and ticket is this person's")
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    person = _person(args)

    async def work(services: Services) -> dict[str, int]:
        settings = services.settings
        retention = Retention(
            services.sessions, settings.recordings_dir, settings.recordings, services.clock
        )
        counts = await erase(
            services.sessions,
            Where.of(services),
            retention,
            services.clock,
            person,
            by=_who(args),
            reason=args.reason,
            force=args.force,
        )
        return asdict(counts)

    counts = _run(args, work)
    print("erased: " + ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in counts.items()))
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    async def work(services: Services) -> dict[str, int]:
        return asdict(await identity_retention(services).purge())

    print(json.dumps(_run(args, work)))
    return 0
