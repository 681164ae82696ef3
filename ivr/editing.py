"""The menu editor's work on menu sets (the browser's `/editor/menus`): check a draft (validation
and the editors' scripted tests), try it with keys, publish it through the same `MenuLibrary.submit`
as `kck ivr reload`, roll back, and read the versions, their diffs, their graph and the audit.

Knows nothing of HTTP: the web talks to it through `agentdesk.menu_port.MenuEditingPort`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ivr.diff import diff_menus
from ivr.graph import GraphvizMissing, dot_to_svg, menu_to_dot
from ivr.loader import MenuFiles, MenuSet, parse_menu_files
from ivr.model import step_edges
from ivr.problems import Problem
from ivr.scripted_channel import ScriptedChannel
from ivr.scripted_tests import LoadedCase, ScriptFileError, load_cases, run_case, script_files
from ivr.terminal import describe, run_try_call
from ivr.versions import MenuLibrary, NoMenuVersion, VersionInfo
from kck.db.models import AuditEntry
from kck.errors import UserError
from kck.yamlsource import SourcePos, YAMLSourceError

EXCERPT_AROUND = 2  # lines shown before and after the line a problem names
AUDIT_ACTIONS = ("ivr.reload", "ivr.reload_rejected", "ivr.rollback")


@dataclass(frozen=True)
class ProblemAt:
    """A validation problem with the YAML lines it concerns: (line number, text) around it."""

    severity: str
    file: str | None
    line: int | None
    column: int | None
    message: str
    code: str
    excerpt: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class ScriptRun:
    """One scripted test (`<menus>/tests/*.yaml`) run against a menu set."""

    name: str
    place: str
    passed: bool
    failures: tuple[str, ...]
    events: tuple[str, ...]


@dataclass(frozen=True)
class DraftCheck:
    """What validation and the scripted tests say of a menu set; publishable only when `ok`."""

    problems: tuple[ProblemAt, ...]
    tests: tuple[ScriptRun, ...]
    tests_error: str | None = None  # a test file cannot be read (file:line: why)
    tests_skipped: bool = False  # the menu has errors: its tests were not run

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def failed_tests(self) -> int:
        return sum(1 for t in self.tests if not t.passed)

    @property
    def ok(self) -> bool:
        return (
            self.errors == 0
            and not self.tests_skipped
            and self.tests_error is None
            and self.failed_tests == 0
        )


@dataclass(frozen=True)
class TriedCall:
    """A call tried with keys: what the caller heard and did, and how it ended."""

    events: tuple[str, ...]
    summary: tuple[str, ...]
    problems: tuple[ProblemAt, ...]  # the draft could not be read: nothing was tried


@dataclass(frozen=True)
class StepView:
    """A step of the graph as a list: its ways out, by key, timeout or branch."""

    id: str
    type: str
    label: str
    edges: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    actor: str
    action: str
    target: str
    reason: str


class DraftRefused(UserError):
    """A draft with errors or failing scripted tests is not published; `check` says why."""

    def __init__(self, check: DraftCheck) -> None:
        self.check = check
        super().__init__(
            f"menu not published: {check.errors} error(s), {check.failed_tests} failing test(s)"
            + (f", {check.tests_error}" if check.tests_error else "")
            + (" (the tests were not run)" if check.tests_skipped else "")
        )


class ReasonNeeded(UserError):
    """Publication and rollback say why (the audit keeps it)."""


def _excerpt(
    files: Mapping[str, str], name: str | None, line: int | None
) -> tuple[tuple[int, str], ...]:
    text = files.get(name or "")
    if text is None or not line:
        return ()
    lines = text.splitlines()
    first = max(1, line - EXCERPT_AROUND)
    last = min(len(lines), line + EXCERPT_AROUND)
    return tuple((n, lines[n - 1]) for n in range(first, last + 1))


def _problem_at(problem: Problem, files: Mapping[str, str]) -> ProblemAt:
    pos = problem.pos
    name = pos.file if pos else None
    return ProblemAt(
        problem.severity.value,
        name,
        pos.line if pos else None,
        pos.column if pos else None,
        problem.message,
        problem.code,
        _excerpt(files, name, pos.line if pos else None),
    )


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise ReasonNeeded("say why (the audit log keeps who, when and why)")
    return reason[:500]


class MenuEditing:
    """The editor's operations on the menu versions of one `MenuLibrary` (the IVR's own)."""

    def __init__(self, library: MenuLibrary, *, tests_dir: Path, timezone: str) -> None:
        self.library = library
        self.tests_dir = tests_dir
        self.tz = ZoneInfo(timezone)
        self.timezone = timezone

    # ---- reading ----------------------------------------------------------------------------
    async def live_id(self) -> int | None:
        return await self.library.live_id()

    async def versions(self, limit: int = 50) -> list[VersionInfo]:
        return await self.library.versions(limit)

    async def version(self, version_id: int) -> VersionInfo:
        for info in await self.library.versions(limit=10_000):
            if info.id == version_id:
                return info
        raise NoMenuVersion(f"menu version {version_id} does not exist")

    async def files(self, version_id: int) -> dict[str, str]:
        return dict((await self.library.files_of(version_id)).files)

    async def previous_accepted(self, version_id: int) -> int | None:
        """The accepted version stored just before `version_id` (what its diff compares with)."""
        earlier = [v.id for v in await self.library.versions(limit=10_000) if v.accepted]
        return max((v for v in earlier if v < version_id), default=None)

    async def diff(self, old_id: int, new_id: int) -> list[str]:
        """What changed from one version to another, told as menu steps."""
        old = _parsed(await self.library.files_of(old_id), old_id)
        new = _parsed(await self.library.files_of(new_id), new_id)
        return [str(change) for change in diff_menus(old, new)]

    async def steps(self, version_id: int) -> tuple[str, list[StepView]]:
        """The menu as a list of steps with their ways out (the start step first)."""
        menu = _parsed(await self.library.files_of(version_id), version_id)
        order = [menu.header.start, *(s for s in menu.steps if s != menu.header.start)]
        views = [
            StepView(
                step_id,
                menu.steps[step_id].type,
                menu.steps[step_id].label_in("pl", step_id),
                tuple(step_edges(menu.steps[step_id])),
            )
            for step_id in order
            if step_id in menu.steps
        ]
        return menu.header.start, views

    async def graph_svg(self, version_id: int) -> bytes | None:
        """The version drawn by Graphviz (None when `dot` is not installed)."""
        loaded = await self.library.version(version_id)
        try:
            return await dot_to_svg(
                menu_to_dot(loaded.menu, f"{loaded.menu.header.name} ({loaded.label})")
            )
        except GraphvizMissing:
            return None

    async def audit(self, limit: int = 50) -> list[AuditLine]:
        """Publications and rollbacks, newest first: who, when, what and why."""
        async with self.library.sessions() as session:
            rows = await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.in_(AUDIT_ACTIONS))
                .order_by(AuditEntry.id.desc())
                .limit(limit)
            )
            return [
                AuditLine(
                    r.at,
                    r.actor,
                    r.action,
                    r.target or "",
                    str(r.details.get("reason") or r.details.get("message") or ""),
                )
                for r in rows
            ]

    # ---- checking and trying ------------------------------------------------------------------
    async def check(self, files: Mapping[str, str]) -> DraftCheck:
        """Validation as a reload makes it, then the scripted tests against the draft."""
        try:
            checked = await self.library.validate(MenuFiles(dict(files)))
        except YAMLSourceError as exc:  # a file over the size limit
            problem = ProblemAt(
                "error", exc.pos.file, exc.pos.line, exc.pos.column, str(exc), "yaml", ()
            )
            return DraftCheck((problem,), (), tests_skipped=True)
        problems = tuple(_problem_at(p, files) for p in checked.problems.sorted())
        if checked.menu is None or not checked.problems.ok:
            return DraftCheck(problems, (), tests_skipped=True)
        try:
            runs = await self.run_tests(checked.menu)
        except ScriptFileError as exc:
            return DraftCheck(problems, (), str(exc))
        return DraftCheck(problems, tuple(runs))

    async def run_tests(self, menu: MenuSet) -> list[ScriptRun]:
        """Every case of `<menus>/tests/*.yaml` (as `kck ivr test`) against `menu`."""
        cases = await asyncio.get_running_loop().run_in_executor(None, self._load_cases)
        runs = []
        for loaded in cases:
            outcome = await run_case(menu, loaded.case, loaded.pos, timezone=self.timezone)
            runs.append(
                ScriptRun(
                    loaded.case.name,
                    self._test_place(loaded.pos),
                    outcome.passed,
                    tuple(outcome.failures),
                    tuple(outcome.events),
                )
            )
        return runs

    def _test_place(self, pos: SourcePos) -> str:
        """`tests/city_hall.yaml:6:5`: where a case is, as the editors know the menus folder."""
        path = Path(pos.file)
        if path.is_relative_to(self.tests_dir):
            path = Path(self.tests_dir.name) / path.relative_to(self.tests_dir)
        return f"{path.as_posix()}:{pos.line}:{pos.column}"

    def _load_cases(self) -> list[LoadedCase]:
        return [case for path in script_files(self.tests_dir) for case in load_cases(path)]

    async def try_keys(
        self,
        files: Mapping[str, str],
        keys: Sequence[str],
        *,
        at: datetime | None = None,
        language: str | None = None,
        caller: str | None = "+48600100200",
    ) -> TriedCall:
        """One call through the draft with these keys at each question (`kck ivr try --digits`)."""
        checked = await self.library.validate(MenuFiles(dict(files)), with_sounds=False)
        if checked.menu is None or not checked.problems.ok:
            problems = tuple(_problem_at(p, files) for p in checked.problems.errors)
            return TriedCall((), (), problems)
        moment = at or self.library.clock.now()
        moment = moment.astimezone(self.tz) if moment.tzinfo else moment.replace(tzinfo=self.tz)
        channel = ScriptedChannel(keys=list(keys))
        result = await run_try_call(
            checked.menu, channel, at=moment, language=language, caller=caller, version="draft"
        )
        return TriedCall(tuple(channel.events), tuple(describe(result)), ())

    # ---- changing ---------------------------------------------------------------------------
    async def publish(self, files: Mapping[str, str], *, by: str, reason: str) -> VersionInfo:
        """Make the draft live if it passes validation and the scripted tests (DraftRefused
        otherwise); the publication itself is `kck ivr reload`'s: stored, audited, broadcast."""
        why = _reason(reason)
        check = await self.check(files)
        if not check.ok:
            raise DraftRefused(check)
        result = await self.library.submit(MenuFiles(dict(files)), by=by, message=why)
        return result.version

    async def rollback(self, version_id: int, *, by: str, reason: str) -> VersionInfo:
        """`kck ivr rollback`, with the reason in the audit."""
        return await self.library.rollback(version_id, by=by, reason=_reason(reason))


def _parsed(files: MenuFiles, version_id: int) -> MenuSet:
    menu, problems = parse_menu_files(files)
    if menu is None:
        first = problems.errors[0] if problems.errors else "?"
        raise NoMenuVersion(f"menu version {version_id} cannot be read: {first}")
    return menu
