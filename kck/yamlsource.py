"""YAML loading that remembers where every value came from (file, line, column) for error messages.

Every configuration file kck reads (settings, skills, queues, agents, units, menus, intents, KB
cards' front matter, report rules) goes through here, within limits checked before and while
parsing, so a hostile or broken file costs bounded time and memory and ends in one line naming
file:line — never a traceback: at most `MAX_YAML_BYTES` per file, `MAX_YAML_ALIASES` aliases,
`MAX_YAML_DEPTH` levels of nesting and `MAX_YAML_NODES` values once aliases are expanded
(a "billion laughs" file is refused after a few hundred thousand values, not after gigabytes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.reader import ReaderError

# Generous for any real configuration (a shipped menu file is under 16 KB and 1,000 values, a
# 1,000-agent agents.yaml about 150 KB and 8,000 values) and small enough that parsing one costs
# well under a second of CPU on an idle machine (PyYAML in pure Python: ~50,000 values a second).
MAX_YAML_BYTES = 1024 * 1024
MAX_YAML_ALIASES = 100
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 20_000


@dataclass(frozen=True)
class SourcePos:
    """A place in a source file, 1-based like an editor shows it."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class YAMLSourceError(Exception):
    """The file is not valid YAML; the message names the file, line and column."""

    def __init__(self, pos: SourcePos, message: str) -> None:
        super().__init__(f"{pos}: {message}")
        self.pos = pos
        self.reason = message


class PosDict(dict[str, Any]):
    """A mapping from YAML that knows the position of itself and of each of its keys."""

    pos: SourcePos
    key_pos: dict[str, SourcePos]

    def where(self, key: str | None = None) -> SourcePos:
        if key is not None and key in self.key_pos:
            return self.key_pos[key]
        return self.pos


class PosList(list[Any]):
    """A sequence from YAML that knows the position of itself and of each item."""

    pos: SourcePos
    item_pos: list[SourcePos]

    def where(self, index: int | None = None) -> SourcePos:
        if index is not None and 0 <= index < len(self.item_pos):
            return self.item_pos[index]
        return self.pos


class _LimitExceeded(yaml.MarkedYAMLError):
    """A limit of this module was reached while composing (reported like a syntax error)."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys instead of silently keeping the last one, and
    counts aliases, depth and values while composing (before the composer's own recursion)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0
        self.depth = 0
        self.composed = 0  # values read from the text
        self.built = 0  # values built, aliases expanded

    def fetch_flow_collection_start(self, token_class: Any) -> None:
        # the scanner's own work grows with the square of open brackets: stop it before that
        if self.flow_level >= MAX_YAML_DEPTH:
            raise _LimitExceeded(
                problem=f"nested more than {MAX_YAML_DEPTH} levels deep",
                problem_mark=self.get_mark(),
            )
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_YAML_ALIASES:
                raise _LimitExceeded(
                    problem=f"more than {MAX_YAML_ALIASES} aliases (*name) in one file",
                    problem_mark=self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        self.composed += 1
        self.depth += 1
        try:
            if self.composed > MAX_YAML_NODES:
                raise _LimitExceeded(
                    problem=f"more than {MAX_YAML_NODES} values in one file",
                    problem_mark=self.peek_event().start_mark,
                )
            if self.depth > MAX_YAML_DEPTH:
                raise _LimitExceeded(
                    problem=f"nested more than {MAX_YAML_DEPTH} levels deep",
                    problem_mark=self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def count_value(self, node: yaml.Node) -> None:
        """One more value built (aliases count each time they are expanded)."""
        self.built += 1
        if self.built > MAX_YAML_NODES:
            raise _LimitExceeded(
                problem=f"more than {MAX_YAML_NODES} values once aliases are expanded",
                problem_mark=node.start_mark,
            )


def _mark_pos(file: str, mark: yaml.Mark | None) -> SourcePos:
    if mark is None:
        return SourcePos(file, 0, 0)
    return SourcePos(file, mark.line + 1, mark.column + 1)


def _construct(node: yaml.Node, loader: _UniqueKeyLoader, file: str) -> Any:
    """A scalar (or a key) as PyYAML constructs it; a value Python refuses names its place."""
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError:
        raise
    except (ValueError, OverflowError, TypeError) as exc:
        kind = str(node.tag).rsplit(":", 1)[-1]
        value = str(node.value) if isinstance(node, yaml.ScalarNode) else ""
        if kind == "int" and len(value) > 100:
            reason = f"a number of {len(value)} digits is too long for a setting"
        else:
            reason = f"not a valid {kind}: {str(exc).splitlines()[0]}"
        raise YAMLSourceError(_mark_pos(file, node.start_mark), reason) from None


def _build(node: yaml.Node, loader: _UniqueKeyLoader, file: str) -> Any:
    loader.count_value(node)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result = PosDict()
        result.pos = _mark_pos(file, node.start_mark)
        result.key_pos = {}
        for key_node, value_node in node.value:
            key = _construct(key_node, loader, file)
            if not isinstance(key, str | int | float | bool):
                raise YAMLSourceError(
                    _mark_pos(file, key_node.start_mark), "a key must be a plain value"
                )
            skey = str(key)
            if skey in result:
                raise YAMLSourceError(
                    _mark_pos(file, key_node.start_mark),
                    f"duplicate key {skey!r} (first at line {result.key_pos[skey].line})",
                )
            result.key_pos[skey] = _mark_pos(file, key_node.start_mark)
            result[skey] = _build(value_node, loader, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = PosList(_build(child, loader, file) for child in node.value)
        items.pos = _mark_pos(file, node.start_mark)
        items.item_pos = [_mark_pos(file, child.start_mark) for child in node.value]
        return items
    return _construct(node, loader, file)


def parse_yaml(text: str, file: str) -> Any:
    """Parse one YAML document into PosDict/PosList/scalars; raise YAMLSourceError with position.

    Bounded: a text over `MAX_YAML_BYTES` characters is refused before parsing; aliases, depth
    and the number of values are counted while parsing (see the module's docstring).
    """
    if len(text) > MAX_YAML_BYTES:
        raise YAMLSourceError(SourcePos(file, 1, 1), _too_large(len(text)))
    loader: _UniqueKeyLoader | None = None
    try:
        loader = _UniqueKeyLoader(text)  # checks every character first (ReaderError)
        node = loader.get_single_node()
        if node is None:
            return None
        return _build(node, loader, file)
    except ReaderError as exc:
        raise YAMLSourceError(_text_pos(file, text, exc.position), _reader_reason(exc)) from None
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or str(exc)
        raise YAMLSourceError(_mark_pos(file, exc.problem_mark), problem) from None
    except yaml.YAMLError as exc:
        raise YAMLSourceError(SourcePos(file, 0, 0), str(exc).splitlines()[0]) from None
    except RecursionError:  # a last resort: the depth limit stops this long before
        raise YAMLSourceError(SourcePos(file, 1, 1), "nested too deep") from None
    finally:
        if loader is not None:
            loader.dispose()


def _too_large(size: int) -> str:
    return (
        f"file of {size:,} bytes is larger than the {MAX_YAML_BYTES:,} a configuration file "
        "may have"
    )


def _text_pos(file: str, text: str, index: int) -> SourcePos:
    before = text[:index]
    line = before.count("\n") + 1
    return SourcePos(file, line, index - (before.rfind("\n") + 1) + 1)


def _reader_reason(exc: ReaderError) -> str:
    character = exc.character
    code = character if isinstance(character, int) else ord(character)
    return (
        f"control character U+{code:04X} is not allowed in YAML "
        '(write it as an escape in a double-quoted string, e.g. "\\t")'
    )


def read_yaml_text(path: Path) -> str:
    """The text of a YAML file, refusing one over `MAX_YAML_BYTES` before reading it all
    (blocking: call from an executor on the event loop)."""
    with path.open("rb") as handle:
        data = handle.read(MAX_YAML_BYTES + 1)
        if len(data) > MAX_YAML_BYTES:
            size = max(MAX_YAML_BYTES + 1, path.stat().st_size)
            raise YAMLSourceError(SourcePos(str(path), 1, 1), _too_large(size))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8", "replace")
        raise YAMLSourceError(
            _text_pos(str(path), before, len(before)), f"not UTF-8 text ({exc.reason})"
        ) from None


def load_yaml_file(path: Path) -> Any:
    """Read and parse a YAML file (blocking: call from an executor on the event loop)."""
    return parse_yaml(read_yaml_text(path), str(path))


def walk_positions(value: Any, prefix: str = "") -> Iterator[tuple[str, SourcePos]]:
    """Yield (dotted path, position) for every key in a parsed document."""
    if isinstance(value, PosDict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path, value.where(key)
            yield from walk_positions(item, path)
    elif isinstance(value, PosList):
        for index, item in enumerate(value):
            yield from walk_positions(item, f"{prefix}[{index}]")


def position_of(value: Any, path: tuple[str | int, ...]) -> SourcePos | None:
    """The position of the deepest existing key along `path` (as in a pydantic error location)."""
    best: SourcePos | None = value.pos if isinstance(value, PosDict | PosList) else None
    node: Any = value
    for part in path:
        is_key = isinstance(node, PosDict) and isinstance(part, str) and part in node
        is_item = isinstance(node, PosList) and isinstance(part, int) and 0 <= part < len(node)
        if not (is_key or is_item):
            break
        best = node.where(part)
        node = node[part]
    return best


def as_plain(value: Any) -> Any:
    """Strip position wrappers, giving plain dicts and lists."""
    if isinstance(value, Mapping):
        return {k: as_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_plain(v) for v in value]
    return value
