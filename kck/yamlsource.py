"""YAML loading that remembers where every value came from (file, line, column) for error messages."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


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


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys instead of silently keeping the last one."""


def _mark_pos(file: str, mark: yaml.Mark | None) -> SourcePos:
    if mark is None:
        return SourcePos(file, 0, 0)
    return SourcePos(file, mark.line + 1, mark.column + 1)


def _build(node: yaml.Node, loader: _UniqueKeyLoader, file: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result = PosDict()
        result.pos = _mark_pos(file, node.start_mark)
        result.key_pos = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
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
    return loader.construct_object(node, deep=True)


def parse_yaml(text: str, file: str) -> Any:
    """Parse one YAML document into PosDict/PosList/scalars; raise YAMLSourceError with position."""
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _build(node, loader, file)
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or str(exc)
        raise YAMLSourceError(_mark_pos(file, exc.problem_mark), problem) from None
    except yaml.YAMLError as exc:
        raise YAMLSourceError(SourcePos(file, 0, 0), str(exc)) from None
    finally:
        loader.dispose()


def load_yaml_file(path: Path) -> Any:
    """Read and parse a YAML file (blocking: call from an executor on the event loop)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YAMLSourceError(
            SourcePos(str(path), 0, 0), f"not UTF-8 text ({exc.reason})"
        ) from None
    return parse_yaml(text, str(path))


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
