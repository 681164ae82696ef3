"""Intents per language from `config/intents/<lang>.yaml`: phrases, next step, skills, KB topic."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kck.errors import UserError
from kck.yamlsource import PosDict, PosList, SourcePos, YAMLSourceError, load_yaml_file

_INTENT_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_TOP_KEYS = frozenset({"language", "free_form", "thresholds", "intents"})
_INTENT_KEYS = frozenset({"label", "phrases", "next", "skills", "kb_topic", "confirm_prompt"})


class IntentsError(UserError):
    """An intents file is wrong; the message starts with file:line:column."""

    def __init__(self, pos: SourcePos, message: str) -> None:
        super().__init__(f"{pos}: {message}")
        self.pos = pos
        self.reason = message


def normalise_phrase(text: str) -> str:
    """Lower case, letters and digits only, single spaces: the form vosk's vocabulary uses."""
    text = unicodedata.normalize("NFC", text).lower()
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    return " ".join(text.split())


@dataclass(frozen=True)
class Intent:
    """What a caller may be calling about, and where the IVR sends them when they say so."""

    id: str
    label: str
    phrases: tuple[str, ...]
    next_step: str
    skills: tuple[str, ...]
    kb_topic: str | None
    confirm_prompt: str  # sound asking "did you mean …?" for this intent
    source: SourcePos
    phrase_sources: tuple[SourcePos, ...] = ()  # where each phrase is written, same order

    def phrase_source(self, index: int) -> SourcePos:
        return self.phrase_sources[index] if index < len(self.phrase_sources) else self.source


@dataclass(frozen=True)
class Thresholds:
    """Confidence (0..1) at or above which an intent is taken as said, or offered for confirmation."""

    accept: float = 0.75
    confirm: float = 0.4


@dataclass(frozen=True)
class IntentSet:
    """All intents of one language, as one recognition grammar."""

    language: str
    intents: tuple[Intent, ...]
    thresholds: Thresholds
    free_form: bool
    source: str

    def grammar(self) -> tuple[str, ...]:
        """The phrase list handed to vosk (every phrase once, in file order)."""
        return tuple(dict.fromkeys(p for intent in self.intents for p in intent.phrases))

    def words(self) -> Iterator[tuple[str, Intent, SourcePos]]:
        """Every word of every phrase with its intent and where the phrase is written."""
        for intent in self.intents:
            for index, phrase in enumerate(intent.phrases):
                for word in phrase.split():
                    yield word, intent, intent.phrase_source(index)

    def get(self, intent_id: str) -> Intent:
        for intent in self.intents:
            if intent.id == intent_id:
                return intent
        raise KeyError(f"{self.source}: no intent {intent_id!r}")


def _where(node: Any, key: str | int | None = None) -> SourcePos:
    if isinstance(node, PosDict | PosList):
        return node.where(key)  # type: ignore[arg-type]
    return SourcePos("?", 0, 0)


def _text(node: PosDict, key: str, what: str, *, required: bool = True) -> str | None:
    value = node.get(key)
    if value is None:
        if required:
            raise IntentsError(node.where(), f"{what}: missing {key!r}")
        return None
    if not isinstance(value, str) or not value.strip():
        raise IntentsError(node.where(key), f"{what}: {key!r} must be non-empty text")
    return value.strip()


def _unknown_keys(node: PosDict, allowed: frozenset[str], what: str) -> None:
    for key in node:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise IntentsError(node.where(key), f"{what}: unknown key {key!r} (known: {known})")


def _thresholds(node: Any, top: PosDict) -> Thresholds:
    if node is None:
        return Thresholds()
    if not isinstance(node, PosDict):
        raise IntentsError(
            top.where("thresholds"), "'thresholds' must be a mapping (accept, confirm)"
        )
    _unknown_keys(node, frozenset({"accept", "confirm"}), "thresholds")
    values: dict[str, float] = {}
    for key in ("accept", "confirm"):
        if key in node:
            value = node[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise IntentsError(node.where(key), f"thresholds: {key!r} must be a number 0..1")
            values[key] = float(value)
    result = Thresholds(**values)
    if result.confirm > result.accept:
        raise IntentsError(node.where(), "thresholds: 'confirm' must not be above 'accept'")
    return result


def _intent(intent_id: str, node: Any, parent: PosDict) -> Intent:
    what = f"intent {intent_id!r}"
    if not _INTENT_ID.match(intent_id):
        raise IntentsError(
            parent.where(intent_id), f"{what}: id must be lower case letters, digits and _"
        )
    if not isinstance(node, PosDict):
        raise IntentsError(parent.where(intent_id), f"{what}: must be a mapping")
    _unknown_keys(node, _INTENT_KEYS, what)
    phrases_node = node.get("phrases")
    if not isinstance(phrases_node, PosList) or not phrases_node:
        raise IntentsError(node.where("phrases"), f"{what}: 'phrases' must be a non-empty list")
    phrases: dict[str, SourcePos] = {}
    for index, raw in enumerate(phrases_node):
        phrase = normalise_phrase(raw) if isinstance(raw, str) else ""
        if not phrase:
            raise IntentsError(
                phrases_node.where(index), f"{what}: phrase {index + 1} must be non-empty text"
            )
        phrases.setdefault(phrase, phrases_node.where(index))
    skills_node = node.get("skills", [])
    if not isinstance(skills_node, list) or not all(
        isinstance(s, str) and s.strip() for s in skills_node
    ):
        raise IntentsError(node.where("skills"), f"{what}: 'skills' must be a list of skill names")
    next_step = _text(node, "next", what)
    confirm_prompt = _text(node, "confirm_prompt", what)
    assert next_step is not None and confirm_prompt is not None
    return Intent(
        id=intent_id,
        label=_text(node, "label", what, required=False) or intent_id,
        phrases=tuple(phrases),
        next_step=next_step,
        skills=tuple(s.strip() for s in skills_node),
        kb_topic=_text(node, "kb_topic", what, required=False),
        confirm_prompt=confirm_prompt,
        source=parent.where(intent_id),
        phrase_sources=tuple(phrases.values()),
    )


def parse_intents(document: Any, file: str) -> IntentSet:
    """Validate a parsed intents document; raise IntentsError naming file:line of the fault."""
    if not isinstance(document, PosDict):
        raise IntentsError(_where(document), "an intents file must be a mapping")
    _unknown_keys(document, _TOP_KEYS, "intents file")
    language = _text(document, "language", "intents file")
    assert language is not None
    if not _LANGUAGE.match(language):
        raise IntentsError(document.where("language"), f"language {language!r} is not an ISO code")
    stem = Path(file).stem
    if stem != language:
        raise IntentsError(
            document.where("language"), f"language {language!r} does not match file name {stem!r}"
        )
    free_form = document.get("free_form", False)
    if not isinstance(free_form, bool):
        raise IntentsError(document.where("free_form"), "'free_form' must be true or false")
    intents_node = document.get("intents")
    if not isinstance(intents_node, PosDict) or not intents_node:
        raise IntentsError(document.where("intents"), "'intents' must be a non-empty mapping")
    intents = [_intent(key, value, intents_node) for key, value in intents_node.items()]
    owner: dict[str, tuple[Intent, SourcePos]] = {}
    for intent in intents:
        for index, phrase in enumerate(intent.phrases):
            where = intent.phrase_source(index)
            if phrase in owner and owner[phrase][0].id != intent.id:
                first, first_where = owner[phrase]
                raise IntentsError(
                    where,
                    f"intent {intent.id!r}: phrase {phrase!r} is also a phrase of "
                    f"{first.id!r} (line {first_where.line})",
                )
            owner[phrase] = (intent, where)
    return IntentSet(
        language=language,
        intents=tuple(intents),
        thresholds=_thresholds(document.get("thresholds"), document),
        free_form=free_form,
        source=file,
    )


def load_intent_file(path: Path) -> IntentSet:
    """Read and validate one intents file (blocking: run it in an executor on the event loop)."""
    try:
        document = load_yaml_file(path)
    except FileNotFoundError:
        raise IntentsError(SourcePos(str(path), 0, 0), "file not found") from None
    except YAMLSourceError as exc:
        raise IntentsError(exc.pos, exc.reason) from None
    return parse_intents(document, str(path))


def load_intents(folder: Path) -> dict[str, IntentSet]:
    """Every `<lang>.yaml` in `folder`, keyed by language (blocking)."""
    if not folder.is_dir():
        raise IntentsError(SourcePos(str(folder), 0, 0), "intents folder not found")
    sets = [load_intent_file(path) for path in sorted(folder.glob("*.yaml"))]
    return {s.language: s for s in sets}
