"""The core commands: serve, db, check-config."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import Any

from kck.config_check import check_configuration
from kck.config_files import REQUIRED_FILES
from kck.db import create_engine, safe_url, status, upgrade
from kck.logs import configure_logging
from kck.runtime import Runtime
from kck.settings import settings_from

log = logging.getLogger("kck")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser(
        "serve",
        help="run the controller: FastAGI server, AMI client, router and web application",
        description="Run kck for a real Asterisk. Reads config/settings.yaml and KCK_* variables.",
    )
    serve.add_argument("--http-port", type=int, help="web application port (overrides http.port)")
    serve.add_argument("--agi-port", type=int, help="FastAGI port (overrides agi.port)")
    serve.add_argument("--json-logs", action="store_true", help="log JSON lines")
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema: upgrade, status, revision")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations up to the newest (idempotent)")
    up.add_argument("--to", default="head", help="target revision (default: head)")
    up.set_defaults(func=cmd_db_upgrade)
    st = db_sub.add_parser("status", help="show the schema revision of the database")
    st.set_defaults(func=cmd_db_status)

    rev = db_sub.add_parser(
        "revision", help="(developers) write a new migration from the models' changes"
    )
    rev.add_argument("-m", "--message", required=True, help="what the migration does")
    rev.add_argument("--id", required=True, help="revision id, e.g. 0004 (keep the history linear)")
    rev.set_defaults(func=cmd_db_revision)

    check = sub.add_parser(
        "check-config",
        help="run every check of the configuration that `kck serve` runs at start",
    )
    check.add_argument(
        "--json", action="store_true", help="print the effective settings as JSON (secrets hidden)"
    )
    check.add_argument(
        "--strict",
        action="store_true",
        help="fail on warnings too (a menu that would be rejected, unreadable speech intents)",
    )
    check.set_defaults(func=cmd_check_config)


def cmd_serve(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.http_port is not None:
        overrides.setdefault("http", {})["port"] = args.http_port
    if args.agi_port is not None:
        overrides.setdefault("agi", {})["port"] = args.agi_port
    settings = settings_from(args, overrides)
    configure_logging(
        settings.log.level,
        args.json_logs or settings.log.json_lines,
        settings.log.repeat_interval_s,
    )
    runtime = Runtime(settings)
    asyncio.run(runtime.run_until_signalled())
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = settings_from(args)

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            state = await upgrade(engine, args.to)
        finally:
            await engine.dispose()
        print(
            f"{safe_url(settings.database_url)}: schema at {', '.join(state.current)} (head {state.head})"
        )

    asyncio.run(run())
    return 0


def cmd_db_status(args: argparse.Namespace) -> int:
    settings = settings_from(args)

    async def run() -> bool:
        engine = create_engine(settings.database_url)
        try:
            state = await status(engine)
        finally:
            await engine.dispose()
        have = ", ".join(state.current) or "empty"
        verdict = "up to date" if state.up_to_date else "needs `kck db upgrade`"
        print(f"{safe_url(settings.database_url)}: {have}; head {state.head}: {verdict}")
        return state.up_to_date

    return 0 if asyncio.run(run()) else 1


def cmd_db_revision(args: argparse.Namespace) -> int:
    """Autogenerate against a scratch SQLite database brought to head first."""
    import tempfile

    from alembic import command
    from sqlalchemy import Connection

    from kck.db.migrate import alembic_config

    async def run(folder: str) -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{folder}/scratch.db")

        def write(conn: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.revision(config, message=args.message, autogenerate=True, rev_id=args.id)

        try:
            await upgrade(engine)
            async with engine.begin() as conn:
                await conn.run_sync(write)
        finally:
            await engine.dispose()

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(folder))
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    """Every check `kck serve` makes of the configuration (kck.config_check), and its verdict."""
    settings = settings_from(args)
    report = check_configuration(settings)
    if args.json:
        json.dump(
            settings.model_dump(mode="json", by_alias=True),
            sys.stdout,
            indent=2,
            ensure_ascii=False,
        )
        print()
    else:
        print(f"{settings.source}: settings OK")
        for required in REQUIRED_FILES:
            print(f"{required.path(settings)}: found ({required.holds}, {required.setting})")
        for line in report.checked:
            print(line)
        if settings.asterisk_sounds_dir != settings.sounds_dir:
            print(
                f"sounds: built and checked in {settings.sounds_dir} (paths.sounds), played by "
                f"Asterisk from {settings.asterisk_sounds_dir} (asterisk.sounds): copy them there "
                "after every kck prompts build"
            )
    for warning in [*settings.trunk.warnings(), *report.warnings]:
        print(f"kck: warning: {warning}", file=sys.stderr)
    for error in report.errors:
        print(f"kck: error: {error}", file=sys.stderr)
    if not report.ok:
        print(
            f"kck: {len(report.errors)} error(s): `kck serve` would refuse this configuration",
            file=sys.stderr,
        )
        return 1
    if args.strict and report.warnings:
        return 1
    return 0
