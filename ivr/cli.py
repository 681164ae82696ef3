"""`kck ivr …` and `kck prompts build`: validate, graph, try, test, diff, reload, rollback, versions."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ivr.graph import dot_to_svg, menu_to_dot
from ivr.loader import MenuFiles, MenuSet, read_menu_files
from ivr.prompt_builder import build_prompts, sound_exists_in
from ivr.skills import read_skill_directory
from ivr.validation import ValidatedMenu, validate_files
from ivr.versions import MenuLibrary, MenuRejected
from kck.errors import UserError
from kck.settings import Settings, load_settings


class MenuInvalid(UserError):
    """The menu has errors (already printed)."""


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(Path(args.config) if getattr(args, "config", None) else None)


def _menus_dir(args: argparse.Namespace, settings: Settings) -> Path:
    if getattr(args, "menus", None):
        return Path(args.menus)
    return settings.path(settings.paths.menus)


def _check_folder(folder: Path, settings: Settings) -> ValidatedMenu:
    if not (folder / "main.yaml").exists():
        raise UserError(f"{folder}/main.yaml not found (use --menus FOLDER)")
    files = read_menu_files(folder)
    skills = read_skill_directory(settings.config_dir)
    return validate_files(files, skills, sound_exists_in(settings.path(settings.paths.sounds)))


def _usable(checked: ValidatedMenu) -> MenuSet:
    if checked.menu is None or not checked.ok:
        for problem in checked.problems.sorted():
            print(problem, file=sys.stderr)
        raise MenuInvalid(f"the menu has {len(checked.problems.errors)} error(s)")
    return checked.menu


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ivr = sub.add_parser(
        "ivr", help="IVR menus: validate, graph, try, test, diff, reload, versions"
    )
    ivr_sub = ivr.add_subparsers(dest="ivr_command", metavar="ACTION", required=True)

    def menus_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--menus", metavar="FOLDER", help="menus folder (default: paths.menus)")

    p = ivr_sub.add_parser("validate", help="check the menus; exit 0 when there are no errors")
    menus_option(p)
    p.add_argument("--json", action="store_true", help="problems as JSON for tools")
    p.set_defaults(func=cmd_validate)

    p = ivr_sub.add_parser("graph", help="the menu as Graphviz DOT or SVG")
    menus_option(p)
    p.add_argument("--format", choices=("dot", "svg"), default="dot")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output)")
    p.add_argument(
        "--version", metavar="N", help="a stored version (number or 'live') instead of the folder"
    )
    p.set_defaults(func=cmd_graph)

    p = ivr_sub.add_parser("try", help="run a call in the terminal with the real interpreter")
    menus_option(p)
    p.add_argument("--at", help='local time, e.g. "2026-12-24 18:00" (default: now)')
    p.add_argument("--digits", help="keys for each question, e.g. 1,5,2 (empty = no key)")
    p.add_argument("--lang", choices=("pl", "en", "uk"), help="the channel's language at start")
    p.add_argument(
        "--caller", default="+48600100200", help="caller number (E.164; 'none' = withheld)"
    )
    p.set_defaults(func=cmd_try)

    p = ivr_sub.add_parser("test", help="run the scripted tests in <menus>/tests/*.yaml")
    menus_option(p)
    p.add_argument("files", nargs="*", help="test files (default: all in <menus>/tests)")
    p.add_argument("-v", "--verbose", action="store_true", help="show each call's events")
    p.set_defaults(func=cmd_test)

    p = ivr_sub.add_parser("diff", help="what changed between two versions (numbers or folders)")
    p.add_argument("old", help="version number (e.g. 3), 'live', or a menus folder")
    p.add_argument("new", help="version number, 'live', or a menus folder")
    p.set_defaults(func=cmd_diff)

    p = ivr_sub.add_parser("reload", help="load the menus folder as a new version and make it live")
    menus_option(p)
    p.add_argument("-m", "--message", help="what changed (kept with the version)")
    p.add_argument("--by", help="who loads it (default: cli:<user>)")
    p.set_defaults(func=cmd_reload)

    p = ivr_sub.add_parser("rollback", help="make an earlier version live again")
    p.add_argument(
        "version", type=version_number, help="the version, as `kck ivr versions` shows it (v3) or 3"
    )
    p.add_argument("--by", help="who (default: cli:<user>)")
    p.add_argument("-m", "--reason", help="why (kept in the audit log)")
    p.set_defaults(func=cmd_rollback)

    p = ivr_sub.add_parser(
        "export", help="write a stored version's files into the menus folder (or --to FOLDER)"
    )
    menus_option(p)
    p.add_argument("version", type=version_or_live, help="the version (v3 or 3) or 'live'")
    p.add_argument("--to", metavar="FOLDER", help="write here instead of the menus folder")
    p.set_defaults(func=cmd_export)

    p = ivr_sub.add_parser("versions", help="list menu versions, newest first")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=30)
    p.set_defaults(func=cmd_versions)

    prompts = sub.add_parser("prompts", help="prompt sound files")
    prompts_sub = prompts.add_subparsers(dest="prompts_command", metavar="ACTION", required=True)
    p = prompts_sub.add_parser(
        "build", help="speak prompt texts with espeak-ng into 8 kHz WAV files (changed ones only)"
    )
    menus_option(p)
    p.add_argument("--lang", action="append", choices=("pl", "en", "uk"), help="only this language")
    p.add_argument("--force", action="store_true", help="rebuild synthetic files even if unchanged")
    p.set_defaults(func=cmd_prompts_build)


# ---- commands that need only files ------------------------------------------------------------
def cmd_validate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    checked = _check_folder(_menus_dir(args, settings), settings)
    problems = checked.problems.sorted()
    if args.json:
        json.dump(
            {
                "ok": checked.ok,
                "errors": len(checked.problems.errors),
                "warnings": len(checked.problems.warnings),
                "problems": [p.as_dict() for p in problems],
            },
            sys.stdout,
            ensure_ascii=False,
            indent=2,
        )
        print()
    else:
        for problem in problems:
            print(problem)
        steps = len(checked.menu.steps) if checked.menu else 0
        verdict = "OK" if checked.ok else "REJECTED"
        print(
            f"{verdict}: {steps} steps, {len(checked.problems.errors)} error(s), "
            f"{len(checked.problems.warnings)} warning(s)"
        )
    return 0 if checked.ok else 1


def cmd_graph(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.version:

        async def stored() -> tuple[MenuSet, str]:
            async with _library(args) as library:
                ref = args.version.lstrip("v")
                version_id = (
                    await library.live_id()
                    if ref == "live"
                    else int(ref)
                    if ref.isdigit()
                    else None
                )
                if version_id is None:
                    raise UserError(f"--version {args.version!r}: a version number or 'live'")
                loaded = await library.version(version_id)
                return loaded.menu, loaded.label

        menu, label = asyncio.run(stored())
        dot = menu_to_dot(menu, f"{menu.header.name} ({label})")
    else:
        menu = _usable(_check_folder(_menus_dir(args, settings), settings))
        dot = menu_to_dot(menu)
    data = asyncio.run(dot_to_svg(dot)) if args.format == "svg" else dot.encode()
    if args.output:
        Path(args.output).write_bytes(data)
        print(f"wrote {args.output}")
    else:
        sys.stdout.buffer.write(data)
    return 0


def _moment(text: str | None, settings: Settings) -> datetime:
    if not text:
        return datetime.now(ZoneInfo(settings.timezone))
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f'--at {text!r}: use a local time like "2026-12-24 18:00"') from None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(settings.timezone))


def cmd_try(args: argparse.Namespace) -> int:
    from ivr.terminal import try_call

    settings = _settings(args)
    menu = _usable(_check_folder(_menus_dir(args, settings), settings))
    keys = None if args.digits is None else [k.strip() for k in args.digits.split(",")]
    caller = None if args.caller.lower() in ("none", "withheld", "") else args.caller
    return asyncio.run(
        try_call(menu, at=_moment(args.at, settings), keys=keys, language=args.lang, caller=caller)
    )


def cmd_test(args: argparse.Namespace) -> int:
    from ivr.scripted_tests import ScriptFileError, load_cases, run_case, script_files

    settings = _settings(args)
    folder = _menus_dir(args, settings)
    menu = _usable(_check_folder(folder, settings))
    paths = [Path(f) for f in args.files] or script_files(folder / "tests")
    if not paths:
        raise UserError(f"no test files in {folder / 'tests'}")

    async def run() -> tuple[int, int]:
        passed = failed = 0
        for path in paths:
            try:
                cases = load_cases(path)
            except ScriptFileError as exc:
                raise UserError(str(exc)) from None
            for loaded in cases:
                outcome = await run_case(menu, loaded.case, loaded.pos, timezone=settings.timezone)
                if outcome.passed:
                    passed += 1
                    print(f"ok    {loaded.case.name}")
                else:
                    failed += 1
                    print(f"FAIL  {loaded.case.name}  ({loaded.pos})")
                    for failure in outcome.failures:
                        print(f"        {failure}")
                if args.verbose or not outcome.passed:
                    for event in outcome.events:
                        print(f"          · {event}")
        return passed, failed

    passed, failed = asyncio.run(run())
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def cmd_prompts_build(args: argparse.Namespace) -> int:
    settings = _settings(args)
    menu = _usable(_check_folder(_menus_dir(args, settings), settings))
    sounds = settings.path(settings.paths.sounds)
    languages = tuple(args.lang) if args.lang else None
    report = asyncio.run(build_prompts(menu, sounds, languages=languages, force=args.force))
    for key, error in report.failed:
        print(f"failed {key}: {error}", file=sys.stderr)
    print(
        f"{sounds}: {len(report.built)} built, {len(report.unchanged)} unchanged, "
        f"{len(report.recordings_kept)} real recordings kept, {len(report.failed)} failed"
    )
    return 0 if not report.failed else 1


# ---- commands that need the database and Redis -----------------------------------------------
@asynccontextmanager
async def _library(args: argparse.Namespace) -> AsyncIterator[MenuLibrary]:
    from kck.db import create_engine, require_current_schema, session_factory
    from kck.redis_server import PrivateRedis, _answers, connect

    settings = _settings(args)
    engine = create_engine(settings.database_url)
    private: PrivateRedis | None = None
    try:
        await require_current_schema(engine)
        url = settings.redis.url
        if url is None:
            folder = settings.var_dir / "redis"
            running = PrivateRedis(folder)
            if running.socket.exists() and await _answers(running.url):
                url = running.url  # the controller's own private Redis
            else:
                private = running
                url = await private.start()
        redis = await connect(url)
        try:
            yield MenuLibrary(
                session_factory(engine),
                redis,
                menus_dir=_menus_dir(args, settings),
                config_dir=settings.config_dir,
                sound_exists=sound_exists_in(settings.path(settings.paths.sounds)),
                key_prefix=settings.redis.key_prefix,
            )
        finally:
            await redis.aclose()
    finally:
        await engine.dispose()
        if private is not None:
            await private.stop()


def _who(args: argparse.Namespace) -> str:
    if getattr(args, "by", None):
        return str(args.by)
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def cmd_reload(args: argparse.Namespace) -> int:
    async def run() -> int:
        async with _library(args) as library:
            try:
                result = await library.reload(by=_who(args), message=args.message)
            except MenuRejected as exc:
                for problem in exc.problems:
                    print(problem, file=sys.stderr)
                print(f"version {exc.version_id} REJECTED; the live version stays", file=sys.stderr)
                return 1
            for problem in result.problems:
                print(problem)
            if result.changed:
                print(f"{result.version.label} is live")
            else:
                print(f"no change: {result.version.label} is already live")
            return 0

    return asyncio.run(run())


def version_number(text: str) -> int:
    """A stored version as people write it: `v3` (how `kck ivr versions` shows it) or `3`."""
    digits = text.strip().removeprefix("v").removeprefix("V")
    if not digits.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a version (e.g. v3 or 3)")
    return int(digits)


def version_or_live(text: str) -> int | str:
    """`live`, or a stored version as `version_number` reads it."""
    return "live" if text.strip().lower() == "live" else version_number(text)


def cmd_rollback(args: argparse.Namespace) -> int:
    async def run() -> int:
        async with _library(args) as library:
            info = await library.rollback(args.version, by=_who(args), reason=args.reason)
            print(f"{info.label} is live again")
            return 0

    return asyncio.run(run())


def cmd_export(args: argparse.Namespace) -> int:
    """A version published from the browser lives in the database: this puts it in the folder,
    so the next `kck ivr reload` or file change there does not bring the older text back."""
    from ivr.loader import UnsafeMenuFileName, write_menu_files

    async def run() -> int:
        async with _library(args) as library:
            version_id = await library.live_id() if args.version == "live" else args.version
            if version_id is None:
                raise UserError("no live version yet")
            files = await library.files_of(version_id)
        folder = Path(args.to) if args.to else _menus_dir(args, _settings(args))
        try:
            written = write_menu_files(files.files, folder)
        except UnsafeMenuFileName as exc:
            raise UserError(str(exc)) from None
        for path in written:
            print(f"wrote {path}")
        print(f"v{version_id}: {len(written)} file(s) in {folder}")
        return 0

    return asyncio.run(run())


def cmd_versions(args: argparse.Namespace) -> int:
    async def run() -> int:
        async with _library(args) as library:
            live = await library.live_id()
            versions = await library.versions(args.limit)
            if args.json:
                rows: list[dict[str, Any]] = [
                    {**v.as_dict(), "live": v.id == live} for v in versions
                ]
                json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
                print()
                return 0
            for v in versions:
                mark = "*" if v.id == live else " "
                state = "ok" if v.accepted else f"REJECTED ({v.error_count} errors)"
                when = v.created_at.astimezone(ZoneInfo("Europe/Warsaw")).strftime("%Y-%m-%d %H:%M")
                print(
                    f"{mark} {v.label:<14} {when}  {v.loaded_by:<16} {state:<22} {v.message or ''}"
                )
            return 0

    return asyncio.run(run())


def cmd_diff(args: argparse.Namespace) -> int:
    from ivr.diff import diff_menus

    async def side(library: MenuLibrary | None, ref: str) -> MenuSet:
        folder = Path(ref)
        if (folder / "main.yaml").exists():
            files = read_menu_files(folder)
        else:
            if library is None:
                raise UserError(f"{ref!r} is neither a menus folder nor a version")
            if ref == "live":
                version_id = await library.live_id()
                if version_id is None:
                    raise UserError("no live version yet")
            elif ref.lstrip("v").isdigit():
                version_id = int(ref.lstrip("v"))
            else:
                raise UserError(f"{ref!r} is neither a menus folder nor a version number")
            files = await library.files_of(version_id)
        return _parsed(files, ref)

    async def run() -> int:
        need_db = not all((Path(r) / "main.yaml").exists() for r in (args.old, args.new))
        if need_db:
            async with _library(args) as library:
                old, new = await side(library, args.old), await side(library, args.new)
        else:
            old, new = await side(None, args.old), await side(None, args.new)
        changes = diff_menus(old, new)
        for change in changes:
            print(change)
        print(f"{len(changes)} change(s) from {args.old} to {args.new}")
        return 0

    return asyncio.run(run())


def _parsed(files: MenuFiles, ref: str) -> MenuSet:
    from ivr.loader import parse_menu_files

    menu, problems = parse_menu_files(files)
    if menu is None:
        raise UserError(f"{ref}: cannot be read: {problems.errors[0] if problems.errors else '?'}")
    return menu
