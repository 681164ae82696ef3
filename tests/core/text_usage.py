"""Which catalogue keys the sources use: Python (read as syntax trees), the jinja templates and the
browser scripts (read as text). tests/core/test_texts.py holds the catalogues against it.

A *key-shaped* string is a literal like `"board.title"`: dotted lower-case words whose first word
is a namespace of the catalogue (`board`, `state`…), so `"agentdesk.i18n"` or `"index.html"` are
not taken for keys. Each key-shaped literal is a use; one the catalogue lacks is *missing*.
A key made at run time (`f"state.{code}"`, `'state.' ~ s`, `"kb." + field`, `label + ".about"`)
is a *dynamic site* named by its fixed part (`state.`, `.about`); the test enumerates the keys of
each (from the enums the codes come from), so no key is taken as used merely by its prefix.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path

_KEY = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$")
_PREFIX = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*\.$")
_SUFFIX = re.compile(r"^(\.[a-z0-9_-]+)+$")
# the argument that is a key (any shape, also one word: "csrf")
_KEY_POSITIONS = {"translate": 1, "refusal": 2}
# "status.html" is a file
FILE_SUFFIXES = frozenset({"html", "js", "css", "py", "yaml", "yml", "json", "svg", "csv", "wav"})
# templates: strings['x'] and the scripts' S["x"], t("x"): keys of any shape
_TEMPLATE_KEY = re.compile(r"""strings\[\s*'([^'\n]+)'\s*\]""")
_SCRIPT_KEY = re.compile(r"""\b(?:S\[|t\()\s*"([^"\n]+)"\s*[\])]""")
# jinja: every quoted literal; a prefix joined to a value with ~ or +
_TEMPLATE_LITERAL = re.compile(r"""(['"])([^'"\n]*)\1(\s*[~+])?""")
# JavaScript: quoted literals (no template strings hold keys), a prefix joined with +
_SCRIPT_LITERAL = re.compile(r"""(['"])((?:\\.|(?!\1)[^\\\n])*)\1(\s*\+)?""")


@dataclass(frozen=True)
class Use:
    """A key-shaped literal or a dynamic site, and where it is written (path:line)."""

    text: str
    where: str


@dataclass
class Usage:
    keys: list[Use] = field(default_factory=list)  # key-shaped literals
    dynamic: list[Use] = field(default_factory=list)  # fixed parts of keys made at run time

    def key_names(self) -> set[str]:
        return {use.text for use in self.keys}

    def dynamic_names(self) -> set[str]:
        return {use.text for use in self.dynamic}


class Scanner:
    """Finds the uses of a catalogue whose keys are `keys` in source files."""

    def __init__(self, keys: Iterable[str], modules: Iterable[str] = ()) -> None:
        self.keys = frozenset(keys)
        self.namespaces = frozenset(key.split(".")[0] for key in self.keys)
        self.modules = frozenset(modules)  # "kb.models" names a module, not a text
        self.endings = frozenset("." + key.rsplit(".", 1)[1] for key in self.keys if "." in key)

    def key_shaped(self, text: str) -> bool:
        return (
            bool(_KEY.match(text))
            and text.split(".")[0] in self.namespaces
            and text.rsplit(".", 1)[-1] not in FILE_SUFFIXES
            and text not in self.modules
        )

    def prefix_shaped(self, text: str) -> bool:
        return bool(_PREFIX.match(text)) and text.split(".")[0] in self.namespaces

    def scan(self, files: Iterable[Path], root: Path) -> Usage:
        usage = Usage()
        for path in sorted(files):
            where = str(path.relative_to(root))
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".py":
                self._python(text, where, usage)
            elif path.suffix == ".html":
                self._literals(_TEMPLATE_LITERAL, _TEMPLATE_KEY, text, where, usage)
            elif path.suffix == ".js":
                self._literals(_SCRIPT_LITERAL, _SCRIPT_KEY, text, where, usage)
        return usage

    def _python(self, text: str, where: str, usage: Usage) -> None:
        tree = ast.parse(text, filename=where)
        not_keys: set[int] = set()  # literals that are parts of f-strings or audit action names
        in_key_position: set[int] = set()  # translate(language, "x"), refusal(request, 403, "x")
        for node in ast.walk(tree):  # audit action names ("call.wrap_up") are not texts
            if isinstance(node, ast.Call):
                not_keys.update(id(k.value) for k in node.keywords if k.arg == "action")
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr) and id(node) in not_keys:
                not_keys.update(id(part) for part in node.values)
            elif isinstance(node, ast.JoinedStr):
                not_keys.update(id(part) for part in node.values)
                first = node.values[0] if node.values else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    self._dynamic(first.value, f"{where}:{node.lineno}", usage)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                left, right = node.left, node.right
                if isinstance(left, ast.Constant) and isinstance(left.value, str):
                    self._dynamic(left.value, f"{where}:{node.lineno}", usage)
                if (
                    isinstance(right, ast.Constant)
                    and isinstance(right.value, str)
                    and _SUFFIX.match(right.value)
                    and right.value in self.endings
                ):
                    usage.dynamic.append(Use(right.value, f"{where}:{node.lineno}"))
            elif isinstance(node, ast.Call):
                called = _called(node)
                if called == "code_in_words":  # code_in_words(language, "kind", code): kind.code
                    kind = node.args[1] if len(node.args) > 1 else None
                    if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                        self._dynamic(kind.value + ".", f"{where}:{node.lineno}", usage)
                        not_keys.add(id(kind))  # "matter.status" is a kind, not a key
                position = _KEY_POSITIONS.get(called)
                if position is not None and len(node.args) > position:
                    in_key_position.add(id(node.args[position]))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
                continue
            if id(node) in in_key_position or (
                id(node) not in not_keys and self.key_shaped(node.value)
            ):
                usage.keys.append(Use(node.value, f"{where}:{node.lineno}"))

    def _dynamic(self, text: str, where: str, usage: Usage) -> None:
        if self.prefix_shaped(text):
            usage.dynamic.append(Use(text, where))

    def _literals(
        self, pattern: re.Pattern[str], keyed: re.Pattern[str], text: str, where: str, usage: Usage
    ) -> None:
        def line(match: re.Match[str]) -> str:
            return f"{where}:{text.count(chr(10), 0, match.start()) + 1}"

        for match in keyed.finditer(text):
            if not self.key_shaped(match.group(1)):  # a one-word key: only in a key position
                usage.keys.append(Use(match.group(1), line(match)))
        for match in pattern.finditer(text):
            literal, joined = match.group(2), match.group(3)
            if joined and self.prefix_shaped(literal):
                usage.dynamic.append(Use(literal, line(match)))
            elif self.key_shaped(literal):
                usage.keys.append(Use(literal, line(match)))


def _called(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


@dataclass(frozen=True)
class Findings:
    missing: dict[str, list[str]]  # language → "key (where)" of keys used but not there
    unused: list[str]  # keys of the catalogue no source uses
    unenumerated: list[str]  # dynamic sites the families do not list ("state." at path:line)
    stale_families: list[str]  # families no source makes keys of


def findings(
    usage: Usage, catalogues: Mapping[str, Set[str]], families: Mapping[str, Set[str]]
) -> Findings:
    """Hold `usage` against `catalogues` (language → its keys; the first is the reference) and the
    keys each dynamic site can make (`families`: fixed part → keys)."""
    reference = next(iter(catalogues.values()))
    used: dict[str, str] = {}
    for use in usage.keys:
        used.setdefault(use.text, use.where)
    made = {use.text: use.where for use in usage.dynamic}
    for fixed, keys in families.items():
        for key in keys:
            used.setdefault(key, f"{made.get(fixed, '?')} ({fixed!r} family)")
    missing = {
        language: [f"{key} ({where})" for key, where in sorted(used.items()) if key not in keys]
        for language, keys in catalogues.items()
    }
    return Findings(
        missing={language: found for language, found in missing.items() if found},
        unused=sorted(reference - used.keys()),
        unenumerated=sorted(
            f"{u.text!r} at {u.where}" for u in usage.dynamic if u.text not in families
        ),
        stale_families=sorted(set(families) - made.keys()),
    )
