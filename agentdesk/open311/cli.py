"""`kck open311 keys add/list/revoke`: the API keys of the portal and the app."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar
from zoneinfo import ZoneInfo

from agentdesk.open311.clients import ApiClient, ApiClients
from kck.clock import SystemClock
from kck.db import create_engine, require_current_schema, session_factory
from kck.settings import settings_from

T = TypeVar("T")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    open311 = sub.add_parser("open311", help="the Open311 API for the portal and the app")
    what = open311.add_subparsers(dest="open311_command", metavar="WHAT", required=True)
    keys = what.add_parser("keys", help="API keys of the Open311 clients: add, list, revoke")
    actions = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add",
        help="add a client and print its key (shown this once)",
        description="Example: kck open311 keys add portal",
    )
    add.add_argument("name", help="the client's name, e.g. portal or app (its matters' source)")
    add.set_defaults(func=cmd_add)

    actions.add_parser("list", help="list the clients").set_defaults(func=cmd_list)

    revoke = actions.add_parser("revoke", help="refuse a client's key from now on")
    revoke.add_argument("name")
    revoke.set_defaults(func=cmd_revoke)


def _run(args: argparse.Namespace, work: Callable[[ApiClients], Awaitable[T]]) -> T:
    settings = settings_from(args)

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            await require_current_schema(engine)
            return await work(ApiClients(session_factory(engine)))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def cmd_add(args: argparse.Namespace) -> int:
    client, key = _run(args, lambda c: c.add(args.name, SystemClock().now()))
    print(f"Open311 client {client.name} added; its key (shown this once, keep it safe):")
    print(key)
    return 0


def _when(client: ApiClient, tz: ZoneInfo) -> tuple[str, str]:
    made = client.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    revoked = (
        client.revoked_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if client.revoked_at else "-"
    )
    return made, revoked


def cmd_list(args: argparse.Namespace) -> int:
    tz = settings_from(args).tz
    clients = _run(args, lambda c: c.list())
    print(f"{'name':<20} {'source':<28} {'added':<17} revoked")
    for client in clients:
        made, revoked = _when(client, tz)
        print(f"{client.name:<20} {client.source:<28} {made:<17} {revoked}")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    client = _run(args, lambda c: c.revoke(args.name, SystemClock().now()))
    print(f"Open311 client {client.name}: key revoked")
    return 0
