"""`kck users add/list/disable/enable`: accounts for the desk, the wall board and the editors."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from agentdesk.accounts import AccountError, Accounts
from agentdesk.tickets.units import load_units
from kck.db import create_engine, require_current_schema, session_factory
from kck.db.models import Role
from kck.settings import settings_from

T = TypeVar("T")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = sub.add_parser("users", help="user accounts: add, list, disable, enable")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    add = users_sub.add_parser(
        "add",
        help="add an account (password asked, or read from stdin when piped)",
        description="Example: kck users add anowak --role agent --extension 101; "
        "a unit officer: kck users add jzielinski --role unit --units ZZM",
    )
    add.add_argument("name", help="user name used to sign in")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--extension", help="default phone extension (agents), e.g. 101")
    add.add_argument("--display-name", help="full name shown on the desk and the wall board")
    add.add_argument("--language", choices=["pl", "en"], default="pl")
    add.add_argument(
        "--units",
        nargs="+",
        metavar="CODE",
        help="the role unit: the city units (codes of config/units.yaml) the officer works for",
    )
    add.set_defaults(func=cmd_add)

    lst = users_sub.add_parser("list", help="list accounts")
    lst.set_defaults(func=cmd_list)

    units = users_sub.add_parser(
        "kb-units",
        help="limit an editor to the service cards of some units (or --all)",
        description="Example: kck users kb-units jredaktor drogi zielen",
    )
    units.add_argument("name")
    units.add_argument("units", nargs="*", help="KB unit keys (the cards' `unit:`)")
    units.add_argument("--all", action="store_true", help="every unit (no limit)")
    units.set_defaults(func=cmd_kb_units)

    for action, active in (("disable", False), ("enable", True)):
        p = users_sub.add_parser(action, help=f"{action} an account (history is kept)")
        p.add_argument("name")
        p.set_defaults(func=cmd_set_active, active=active)


def _run(args: argparse.Namespace, work: Callable[[Accounts], Awaitable[T]]) -> T:
    settings = settings_from(args)

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            await require_current_schema(engine)
            return await work(Accounts(session_factory(engine)))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _read_password(name: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != first:
            raise AccountError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _check_units(args: argparse.Namespace) -> None:
    """Unit codes must be units of the installation's units.yaml (before a password is asked)."""
    if not args.units:
        return
    path = settings_from(args).config_dir / "units.yaml"
    if not path.is_file():
        raise AccountError(f"--units: {path} is missing (the city units the codes name)")
    known = load_units(path)
    unknown = sorted({u.upper() for u in args.units} - {u.code for u in known.units})
    if unknown:
        raise AccountError(
            f"--units: no unit {', '.join(unknown)} in config/units.yaml "
            f"(known: {', '.join(u.code for u in known.units)})"
        )


def cmd_add(args: argparse.Namespace) -> int:
    _check_units(args)
    password = _read_password(args.name)
    account = _run(
        args,
        lambda accounts: accounts.add(
            args.name,
            password,
            Role(args.role),
            extension=args.extension,
            display_name=args.display_name,
            language=args.language,
            units=args.units,
        ),
    )
    ext = f", extension {account.extension}" if account.extension else ""
    units = f", units {', '.join(account.unit_codes)}" if account.unit_codes else ""
    print(f"added {account.username} ({account.role.value}{ext}{units})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    accounts = _run(args, lambda a: a.list())
    print(f"{'name':<16} {'role':<11} {'ext':<6} {'active':<7} display name")
    for a in accounts:
        print(
            f"{a.username:<16} {a.role.value:<11} {a.extension or '-':<6} "
            f"{'yes' if a.active else 'no':<7} {a.display_name}"
            + (f"  (cards of: {', '.join(a.kb_units)})" if a.kb_units is not None else "")
            + (f"  (units: {', '.join(a.unit_codes)})" if a.unit_codes else "")
        )
    return 0


def cmd_set_active(args: argparse.Namespace) -> int:
    account = _run(args, lambda a: a.set_active(args.name, args.active))
    print(f"{account.username}: {'enabled' if account.active else 'disabled'}")
    return 0


def cmd_kb_units(args: argparse.Namespace) -> int:
    if args.all == bool(args.units):
        raise AccountError("give the units the editor may edit, or --all (not both)")
    wanted = None if args.all else args.units
    account = _run(args, lambda a: a.set_kb_units(args.name, wanted))
    print(
        f"{account.username}: edits "
        + (
            "every unit's cards"
            if wanted is None
            else "the cards of " + ", ".join(sorted(set(wanted)))
        )
    )
    return 0
