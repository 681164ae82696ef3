"""kck's words in every language: one catalogue file per language (`kck/locale/<language>.yaml`,
flat `key: "text"`), read once per process, checked as a whole, and the rule for a text a language
does not have.

Polish is the reference and complete; English is complete; Ukrainian is complete for what a
resident sees or hears (`CITIZEN_FACING`) and shows any other text in English. The desk, the board,
the reports, their scripts and the messages to residents all take their words from here
(`agentdesk.i18n` is the web application's face of it). docs/development.md, "Adding a text or a
language".
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kck.yamlsource import PosDict, SourcePos, YAMLSourceError, parse_yaml

LOCALE = Path(__file__).parent / "locale"
REFERENCE = "pl"
LANGUAGES = ("pl", "en", "uk")
COMPLETE = ("pl", "en")  # languages with every key of the reference
FALLBACK = {"uk": "en"}  # a language's texts that are not citizen-facing may come from this one
# Keys whose text a resident sees or hears (messages to residents, their reports' categories and
# states): every language has them, none falls back to another language.
CITIZEN_FACING = ("citizen.", "category.", "matter.status.")


class TextsError(Exception):
    """A catalogue file cannot be read or does not fit the others; each line names file:line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def is_citizen_facing(key: str) -> bool:
    return key.startswith(CITIZEN_FACING)


def placeholders(text: str) -> frozenset[str]:
    """The `{name}` fields of a text (ValueError for a stray brace: `{{` writes one)."""
    return frozenset(field for _, field, _, _ in string.Formatter().parse(text) if field)


@dataclass(frozen=True)
class Catalogue:
    """One language's texts, with where each key is written."""

    language: str
    path: Path
    texts: Mapping[str, str]
    where: Mapping[str, SourcePos]


def read_catalogue(path: Path, language: str) -> Catalogue:
    """`path` as a catalogue: a mapping of keys to texts (a text that YAML would read as a
    number or a yes/no must be quoted, and is named here if it is not)."""
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise TextsError([f"{path}: cannot read the catalogue of {language!r}: {exc}"]) from None
    except YAMLSourceError as exc:
        raise TextsError([str(exc)]) from None
    if data is None:
        data = PosDict()
        data.pos, data.key_pos = SourcePos(str(path), 1, 1), {}
    if not isinstance(data, PosDict):
        raise TextsError([f"{path}:1:1: a catalogue is a mapping of keys to texts"])
    wrong = [
        f"{data.where(key)}: {key!r} must be a text (quote it): {value!r}"
        for key, value in data.items()
        if not isinstance(value, str)
    ]
    if wrong:
        raise TextsError(wrong)
    return Catalogue(language, path, dict(data), dict(data.key_pos))


@dataclass(frozen=True)
class Texts:
    """Every language's catalogue; `text` applies the fallback rule."""

    catalogues: Mapping[str, Catalogue]

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self.catalogues[REFERENCE].texts)

    def text(self, language: str, key: str) -> str | None:
        """`key` in `language`; a non-citizen text missing there in its fallback language."""
        found = self.catalogues[language].texts.get(key)
        if found is None and language in FALLBACK and not is_citizen_facing(key):
            found = self.catalogues[FALLBACK[language]].texts.get(key)
        return found

    def problems(self) -> list[str]:
        """What does not fit: a key missing where it must be, a key the reference lacks, a text
        whose `{placeholders}` differ from the reference's (or that cannot be formatted)."""
        reference = self.catalogues[REFERENCE]
        found: list[str] = []
        for language, catalogue in self.catalogues.items():
            for key, text in catalogue.texts.items():
                where = catalogue.where[key]
                if key not in reference.texts:
                    found.append(f"{where}: {key!r} is not in the {REFERENCE} catalogue")
                    continue
                try:
                    fields, wanted = placeholders(text), placeholders(reference.texts[key])
                except ValueError as exc:
                    found.append(f"{where}: {key!r} cannot be formatted ({exc}); write {{{{ }}}}")
                    continue
                if fields != wanted:
                    found.append(
                        f"{where}: {key!r} has placeholders {sorted(fields)}, the {REFERENCE} "
                        f"text has {sorted(wanted)} ({reference.where[key]})"
                    )
            must = COMPLETE if language in COMPLETE else ()
            for key in sorted(reference.texts):
                if key in catalogue.texts:
                    continue
                if language in must or is_citizen_facing(key):
                    found.append(f"{catalogue.path}: no text for {key!r} ({reference.where[key]})")
        return found


def catalogue_path(language: str, folder: Path = LOCALE) -> Path:
    return folder / f"{language}.yaml"


def load_texts(folder: Path = LOCALE, languages: tuple[str, ...] = LANGUAGES) -> Texts:
    """Read every language's catalogue from `folder` and check them together (TextsError)."""
    loaded = Texts(
        {
            language: read_catalogue(catalogue_path(language, folder), language)
            for language in languages
        }
    )
    problems = loaded.problems()
    if problems:
        raise TextsError(problems)
    return loaded


@functools.cache
def texts() -> Texts:
    """The shipped catalogues, read on first use (the web application reads them at start)."""
    return load_texts()
