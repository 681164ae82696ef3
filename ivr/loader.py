"""Menu files → a typed MenuSet: follows includes, keeps file:line:column of every step and field."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from ivr.model import Calendar, MenuHeader, Prompt, Step, is_valid_step_id
from ivr.problems import ProblemList
from kck.yamlsource import (
    PosDict,
    PosList,
    SourcePos,
    YAMLSourceError,
    parse_yaml,
    position_of,
    read_yaml_text,
)

MAIN_FILE = "main.yaml"
_TOP_KEYS = ("menu", "include", "prompts", "calendars", "steps")
_STEP_ADAPTER: TypeAdapter[Step] = TypeAdapter(Step)


@dataclass(frozen=True)
class MenuFiles:
    """The text of every file of one menu set, by name relative to the menus folder."""

    files: Mapping[str, str]
    origin: str = ""  # shown before names in messages: "config/menus/" or "v7:"

    @property
    def content_hash(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + self.files[name].encode() + b"\0")
        return digest.hexdigest()

    def display(self, name: str) -> str:
        return f"{self.origin}{name}"


@dataclass(frozen=True)
class MenuSet:
    """A parsed menu: header, prompts, calendars and steps, with where each came from."""

    header: MenuHeader
    prompts: dict[str, Prompt]
    calendars: dict[str, Calendar]
    steps: dict[str, Step]
    files: MenuFiles
    positions: dict[str, SourcePos] = field(default_factory=dict)
    intents: dict[str, tuple[str, ...] | None] = field(
        default_factory=dict
    )  # file → names; None = missing
    intent_files: dict[str, str] = field(default_factory=dict)  # name in the menu → name in files
    broken_steps: frozenset[str] = frozenset()  # defined but unusable (already reported)

    def where(self, *keys: str) -> SourcePos | None:
        """Position of e.g. ("step", "main", "fallback") or ("prompt", "welcome")."""
        for depth in range(len(keys), 0, -1):
            pos = self.positions.get(":".join(keys[:depth]))
            if pos is not None:
                return pos
        return None

    @property
    def content_hash(self) -> str:
        return self.files.content_hash


@dataclass
class _Collected:
    header: MenuHeader | None = None
    prompts: dict[str, Prompt] = field(default_factory=dict)
    calendars: dict[str, Calendar] = field(default_factory=dict)
    steps: dict[str, Step] = field(default_factory=dict)
    positions: dict[str, SourcePos] = field(default_factory=dict)
    intents: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    intent_files: dict[str, str] = field(default_factory=dict)
    broken_steps: set[str] = field(default_factory=set)


def read_menu_files(folder: Path, main: str = MAIN_FILE) -> MenuFiles:
    """Read the main file and every file it includes, and speech intents files (blocking I/O)."""
    files: dict[str, str] = {}
    pending = [main]
    while pending:
        name = pending.pop()
        if name in files:
            continue
        path = folder / name
        try:
            text = read_yaml_text(path)  # a file over the size limit: YAMLSourceError
        except FileNotFoundError:
            continue  # reported by parse_menu_files with the place that names it
        except OSError as exc:
            text = f"# unreadable: {exc}\n"
        files[name] = text
        pending.extend(_referenced_files(text, name))
    return MenuFiles(files, origin=_origin(folder))


class UnsafeMenuFileName(ValueError):
    """A stored file name that would land outside the folder it is written to."""


def write_menu_files(files: Mapping[str, str], folder: Path) -> list[Path]:
    """Write a version's files into `folder` (blocking I/O), so the folder holds what is live;
    other files there (the scripted tests) are left alone. Refuses names leaving the folder."""
    root = folder.resolve()
    targets: dict[Path, str] = {}
    for name, text in files.items():
        target = (root / name).resolve()
        if PurePosixPath(name).is_absolute() or not target.is_relative_to(root):
            raise UnsafeMenuFileName(f"{name!r} is outside {folder}: nothing written")
        targets[target] = text
    for target, text in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return sorted(targets)


def _origin(folder: Path) -> str:
    try:
        rel = folder.resolve().relative_to(Path.cwd().resolve())
        return f"{rel.as_posix()}/" if str(rel) != "." else ""
    except ValueError:
        return f"{folder.as_posix()}/"


def _referenced_files(text: str, name: str) -> list[str]:
    try:
        doc = parse_yaml(text, name)
    except YAMLSourceError:
        return []
    if not isinstance(doc, dict):
        return []
    out: list[str] = []
    includes = doc.get("include")
    if isinstance(includes, str):
        includes = [includes]
    if isinstance(includes, list):
        out.extend(_join(name, str(i)) for i in includes)
    steps = doc.get("steps")
    if isinstance(steps, dict):
        for step in steps.values():
            if isinstance(step, dict) and step.get("type") == "speech" and step.get("intents"):
                out.append(_join(name, str(step["intents"])))
    return out


def _join(base: str, rel: str) -> str:
    parent = PurePosixPath(base).parent
    parts: list[str] = []
    for part in (parent / rel).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def parse_menu_files(files: MenuFiles, main: str = MAIN_FILE) -> tuple[MenuSet | None, ProblemList]:
    """Parse and type-check every file; returns the menu (None if unusable) and schema problems."""
    problems = ProblemList()
    got = _Collected()
    _parse_file(files, main, None, got, problems, seen=[])
    if got.header is None:
        if main in files.files and not problems.errors:
            problems.error(
                SourcePos(files.display(main), 1, 1),
                "the main menu file has no `menu:` block (name, start, languages)",
                "no-header",
            )
        return None, problems
    menu = MenuSet(
        header=got.header,
        prompts=got.prompts,
        calendars=got.calendars,
        steps=got.steps,
        files=files,
        positions=got.positions,
        intents=got.intents,
        intent_files=got.intent_files,
        broken_steps=frozenset(got.broken_steps),
    )
    return menu, problems


def _parse_file(
    files: MenuFiles,
    name: str,
    included_at: SourcePos | None,
    got: _Collected,
    problems: ProblemList,
    seen: list[str],
) -> None:
    shown = files.display(name)
    if name in seen:
        problems.error(
            included_at, f"{name} includes itself (through {' → '.join(seen)})", "include-cycle"
        )
        return
    text = files.files.get(name)
    if text is None:
        problems.error(
            included_at or SourcePos(shown, 0, 0), f"file {shown} not found", "missing-file"
        )
        return
    try:
        doc = parse_yaml(text, shown)
    except YAMLSourceError as exc:
        problems.error(exc.pos, f"not valid YAML: {exc.reason}", "yaml")
        return
    if doc is None:
        return
    if not isinstance(doc, PosDict):
        problems.error(
            SourcePos(shown, 1, 1),
            "a menu file must be a mapping (menu:, steps:, prompts:…)",
            "schema",
        )
        return
    for key in doc:
        if key not in _TOP_KEYS:
            problems.error(
                doc.where(key),
                f"unknown section {key!r}; a menu file has {', '.join(_TOP_KEYS)}",
                "schema",
            )
    if "menu" in doc:
        if included_at is not None:
            problems.error(
                doc.where("menu"), "only the main file may have a `menu:` block", "schema"
            )
        else:
            header = _typed(MenuHeader, doc["menu"], doc.where("menu"), "menu", problems)
            if isinstance(header, MenuHeader):
                got.header = header
                for key in doc["menu"]:
                    got.positions[f"menu:{key}"] = doc["menu"].where(key)
    _collect(doc, "prompts", Prompt, got.prompts, "prompt", got, problems)
    _collect(doc, "calendars", Calendar, got.calendars, "calendar", got, problems)
    _collect_steps(doc, got, problems)
    _collect_intents(files, doc, name, got, problems)
    includes = doc.get("include")
    if includes is None:
        return
    if isinstance(includes, str):
        includes_list: list[tuple[str, SourcePos]] = [(includes, doc.where("include"))]
    elif isinstance(includes, PosList):
        includes_list = [(str(item), includes.where(i)) for i, item in enumerate(includes)]
    else:
        problems.error(
            doc.where("include"), "`include:` is a file name or a list of file names", "schema"
        )
        return
    for rel, pos in includes_list:
        _parse_file(files, _join(name, rel), pos, got, problems, [*seen, name])


def _collect(
    doc: PosDict,
    section: str,
    model: type[BaseModel],
    into: dict[str, Any],
    kind: str,
    got: _Collected,
    problems: ProblemList,
) -> None:
    block = doc.get(section)
    if block is None:
        return
    if not isinstance(block, PosDict):
        problems.error(doc.where(section), f"`{section}:` must be a mapping of names", "schema")
        return
    for key, raw in block.items():
        pos = block.where(key)
        if key in into:
            first = got.positions.get(f"{kind}:{key}")
            problems.error(pos, f"{kind} {key!r} is defined twice (first at {first})", "duplicate")
            continue
        value = _typed(model, raw, pos, f"{kind} {key!r}", problems)
        if value is not None:
            into[key] = value
            got.positions[f"{kind}:{key}"] = pos
            if isinstance(raw, PosDict):
                for field_name in raw:
                    got.positions[f"{kind}:{key}:{field_name}"] = raw.where(field_name)


def _collect_steps(doc: PosDict, got: _Collected, problems: ProblemList) -> None:
    block = doc.get("steps")
    if block is None:
        return
    if not isinstance(block, PosDict):
        problems.error(doc.where("steps"), "`steps:` must be a mapping of step ids", "schema")
        return
    for step_id, raw in block.items():
        pos = block.where(step_id)
        if step_id in got.steps or f"step:{step_id}" in got.positions:
            first = got.positions.get(f"step:{step_id}")
            problems.error(
                pos, f"step {step_id!r} is defined twice (first at {first})", "duplicate"
            )
            continue
        got.positions[f"step:{step_id}"] = pos
        if not is_valid_step_id(step_id):
            problems.error(
                pos, f"step id {step_id!r}: use lower-case letters, digits, _ . -", "schema"
            )
        if not isinstance(raw, PosDict):
            problems.error(pos, f"step {step_id!r} must be a mapping with a `type:`", "schema")
            got.broken_steps.add(step_id)
            continue
        for field_name, value in raw.items():
            got.positions[f"step:{step_id}:{field_name}"] = raw.where(field_name)
            if isinstance(value, PosDict):
                for sub in value:
                    got.positions[f"step:{step_id}:{field_name}:{sub}"] = value.where(sub)
        step = _typed_step(step_id, raw, pos, problems)
        if step is not None:
            got.steps[step_id] = step
        else:
            got.broken_steps.add(step_id)


def _collect_intents(
    files: MenuFiles, doc: PosDict, name: str, got: _Collected, problems: ProblemList
) -> None:
    steps = doc.get("steps")
    if not isinstance(steps, PosDict):
        return
    for raw in steps.values():
        if not (isinstance(raw, PosDict) and raw.get("type") == "speech" and raw.get("intents")):
            continue
        rel = str(raw["intents"])
        if rel in got.intents:
            continue
        target = _join(name, rel)
        got.intent_files[rel] = target
        text = files.files.get(target)
        if text is None:
            got.intents[rel] = None
            continue
        try:
            data = parse_yaml(text, files.display(target))
        except YAMLSourceError as exc:
            problems.error(exc.pos, f"intents file is not valid YAML: {exc.reason}", "yaml")
            continue
        intents = data.get("intents") if isinstance(data, dict) else None
        if not isinstance(intents, dict):
            problems.error(
                SourcePos(files.display(target), 1, 1),
                "an intents file needs an `intents:` mapping (intent name → example phrases)",
                "schema",
            )
            continue
        got.intents[rel] = tuple(str(k) for k in intents)


_TYPE_WORDS = {
    "missing": "is missing",
    "extra_forbidden": "is not a field here",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number (seconds)",
    "bool_type": "must be true or false",
    "dict_type": "must be a mapping",
    "time_parsing": "must be a time like 08:00",
    "time_type": "must be a time like 08:00",
    "date_from_datetime_parsing": "must be a date like 2026-12-24",
    "date_parsing": "must be a date like 2026-12-24",
    "date_type": "must be a date like 2026-12-24",
}


_TYPE_TAGS = ("str", "int", "float", "bool", "list", "dict", "tuple")


def _clean_loc(loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], bool]:
    """Cut pydantic's union member names (`label.str`, `label.dict[...]`) from a location."""
    for i, part in enumerate(loc):
        if isinstance(part, str) and ("[" in part or part in _TYPE_TAGS):
            return loc[:i], True
    return loc, False


def _describe(err: Any, prefix: str) -> str:
    loc_parts, union = _clean_loc(tuple(err["loc"]))
    loc = ".".join(str(p) for p in loc_parts)
    kind = err["type"]
    if union:
        return f"{prefix}: field `{loc}` has the wrong form (text, or text per language pl/en/uk)"
    if kind in _TYPE_WORDS:
        what = _TYPE_WORDS[kind]
    elif kind == "literal_error":
        what = f"must be one of {err['ctx']['expected']}"
    else:
        what = str(err["msg"]).removeprefix("Value error, ")
    return f"{prefix}: field `{loc}` {what}" if loc else f"{prefix}: {what}"


def _typed(
    model: type[BaseModel], raw: Any, pos: SourcePos, what: str, problems: ProblemList
) -> BaseModel | None:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        seen: set[str] = set()
        for err in exc.errors():
            where = position_of(raw, _clean_loc(tuple(err["loc"]))[0]) or pos
            message = _describe(err, what)
            if message not in seen:
                seen.add(message)
                problems.error(where, message, "schema")
        return None


def _typed_step(step_id: str, raw: PosDict, pos: SourcePos, problems: ProblemList) -> Step | None:
    kind = raw.get("type")
    if kind is None:
        problems.error(pos, f"step {step_id!r} has no `type:` (say, menu, queue, …)", "schema")
        return None
    try:
        return _STEP_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        seen: set[str] = set()
        for err in exc.errors():
            loc = tuple(err["loc"])
            if err["type"] == "union_tag_invalid":
                problems.error(
                    raw.where("type"),
                    f"step {step_id!r}: unknown step type {kind!r}; use one of "
                    "say, menu, digits, hours, language, queue, info, callback, voicemail, "
                    "transfer, speech, set, goto, hangup",
                    "schema",
                )
                continue
            if loc and loc[0] == kind:
                loc = loc[1:]
            err = {**err, "loc": loc}
            where = position_of(raw, _clean_loc(loc)[0]) or pos
            message = _describe(err, f"{kind} step {step_id!r}")
            if message not in seen:
                seen.add(message)
                problems.error(where, message, "schema")
        return None
