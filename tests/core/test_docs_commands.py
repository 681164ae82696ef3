"""Every command the README and docs/ show runs as written: each line of a ```sh block (and each
`$ ` line of a ```console block), and each `kck …` or `./dev …` in inline code, is a command that
`./dev` or kck's own parser accepts (parsed, never run), an `export` of real KCK_ settings, or
sits in a block marked for the operator's machines (```sh operator: sudo, asterisk -rx, rsync; the
kck commands in it are still checked)."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import BaseModel

from ivr.cli import version_number
from kck.cli import build_parser
from kck.settings import Settings, SettingsError, load_settings

REPO = Path(__file__).parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\S*)[ \t]*([^\n]*)\n(.*?)^```", re.S | re.M)
INLINE = re.compile(r"`((?:kck|\./dev) [^`]+)`")
# The sub-commands of ./dev: the labels of its `case`.
DEV_COMMANDS = set(re.findall(r"^  (\w+)\)$", (REPO / "dev").read_text(), re.M))


@dataclass(frozen=True)
class DocCommand:
    where: str  # file:line
    line: str
    operator: bool  # in a block for the operator's machines
    inline: bool = False  # in running text: may name a command without its arguments

    def __str__(self) -> str:
        return f"{self.where}: {self.line}"


def fenced_lines(kind: str, body: str) -> Iterator[tuple[int, str]]:
    """(offset in lines, command) of a block: continuation lines joined; for a console block
    only the `$ ` lines."""
    pending, first = "", 0
    for offset, raw in enumerate(body.splitlines()):
        if kind == "console" and not pending:
            if not raw.startswith("$ "):
                continue
            raw = raw[2:]
        if not pending:
            first = offset
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line, pending = (pending + raw).strip(), ""
        if line and not line.startswith("#"):
            yield first, line


def commands_in(path: Path) -> Iterator[DocCommand]:
    text = path.read_text()
    name = path.relative_to(REPO)
    fenced = []
    for fence in FENCE.finditer(text):
        fenced.append(fence.span())
        kind, info, body = fence.groups()
        if kind not in ("sh", "console"):
            continue
        start = text.count("\n", 0, fence.start(3)) + 1
        for offset, line in fenced_lines(kind, body):
            yield DocCommand(f"{name}:{start + offset}", line, "operator" in info.split())
    for span in INLINE.finditer(text):
        if not any(a <= span.start() < b for a, b in fenced):
            line_no = text.count("\n", 0, span.start()) + 1
            yield DocCommand(f"{name}:{line_no}", span.group(1), False, inline=True)


def kck_refuses(args: list[str]) -> str | None:
    """What kck's parser says about `kck ARGS` (None if it accepts them); nothing is run."""
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(args)
    except SystemExit as exc:
        if exc.code:
            return errors.getvalue().strip().splitlines()[-1]
    return None


def refusal(command: DocCommand) -> str | None:
    """Why `command` does not run as written, or None."""
    words = shlex.split(command.line, comments=True)
    if command.inline and words[-1] == "…":
        words = words[:-1]  # running text naming a group of commands: `kck ivr …`
    program, args = words[0], words[1:]
    if program == "uv" and args[:1] == ["run"]:
        return developer_refusal(command, args[1:])
    if program == "kck":
        return mentioned_or_refused(command, kck_refuses(args))
    if program == "./dev":
        if not args or args[0] not in DEV_COMMANDS:
            return f"./dev has no command {args[:1]} (it has {sorted(DEV_COMMANDS)})"
        return mentioned_or_refused(command, kck_refuses(args)) if args[0] == "demo" else None
    if program == "export":
        variables = dict(word.split("=", 1) for word in args)
        if unknown := variables.keys() - SETTING_VARIABLES:
            return f"no such setting: {sorted(unknown)}"
        try:  # the values shown (not the placeholders "…" for secrets) are valid
            given = {k: v for k, v in variables.items() if v != "…"}
            load_settings(REPO / "config" / "settings.yaml", environ=given)
        except SettingsError as exc:
            return str(exc)
        return None
    if program in (".", "source") and args == [".venv/bin/activate"]:
        return None  # the environment ./dev makes (uv's default .venv)
    if command.operator:
        return None
    return "not a command of ./dev or kck: put it in a ```sh operator block if it is the operator's"


def developer_refusal(command: DocCommand, args: list[str]) -> str | None:
    """`uv run kck …`, `uv run python <a file of the repository>`, `uv run pytest <its tests>`."""
    program, rest = (args[0], args[1:]) if args else ("", [])
    if program == "kck":
        return mentioned_or_refused(command, kck_refuses(rest))
    if program == "python" and rest and not rest[0].startswith("-"):
        return None if (REPO / rest[0]).is_file() else f"no file {rest[0]} in the repository"
    if program == "pytest":
        paths = [word.split("::")[0] for word in rest if not word.startswith("-")]
        missing = [p for p in paths if "/" in p and not (REPO / p).exists()]
        return f"no such tests: {missing}" if missing else None
    return f"uv run {program}: not kck, a file of the repository or pytest"


def mentioned_or_refused(command: DocCommand, refused: str | None) -> str | None:
    """In running text a command may be named without the arguments it needs."""
    if refused and command.inline and "arguments are required" in refused:
        return None
    return refused


# KCK_<SECTION>_<KEY> for every setting, KCK_<KEY> for the top-level ones
SETTING_VARIABLES = {
    f"KCK_{name}_{key}".upper()
    for name, field in Settings.model_fields.items()
    if isinstance(field.default, BaseModel)
    for key in type(field.default).model_fields
} | {f"KCK_{name}".upper() for name in ("timezone",)}


COMMANDS = [command for path in DOCS for command in commands_in(path)]


def test_the_docs_show_commands_to_check() -> None:
    shown = {c.line.split()[0] for c in COMMANDS}
    assert {"kck", "./dev", "export"} <= shown
    assert any(c.line.startswith("kck ivr rollback") for c in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=str)
def test_every_command_in_the_docs_runs_as_written(command: DocCommand) -> None:
    assert refusal(command) is None, f"{command}: {refusal(command)}"


def test_a_menu_version_is_taken_as_kck_ivr_versions_shows_it_or_as_a_number() -> None:
    assert version_number("v3") == version_number("3") == 3
    assert kck_refuses(["ivr", "rollback", "v3"]) is None
    assert kck_refuses(["ivr", "rollback", "x3"]) is not None
