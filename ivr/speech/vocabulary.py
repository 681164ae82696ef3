"""The words a vosk model can recognise, and the intent words it cannot.

vosk drops a grammar word that is not in the model's vocabulary with only a log line from Kaldi
("Ignoring word missing in vocabulary"), so a phrase with such a word can never be recognised.
Small models (dynamic graph) ship no words.txt: the vocabulary is the output symbol table in the
header of `graph/Gr.fst` (OpenFst binary format). Big models have `graph/words.txt`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from ivr.speech.intents import IntentSet
from kck.yamlsource import SourcePos

_FST_MAGIC = 2125659606
_SYMBOLS_MAGIC = 2125658996
_HAS_ISYMBOLS = 1
_HAS_OSYMBOLS = 2
_MAX_STRING = 1 << 20
_HEADER_BYTES = 64 << 20  # room for two symbol tables of over a million words
_I32 = struct.Struct("<i")
_I64 = struct.Struct("<q")  # a word or a type name; anything longer means we misread the file


class VocabularyError(Exception):
    """The model's vocabulary could not be read; the message names the file."""


@dataclass(frozen=True)
class MissingWord:
    word: str
    intent_id: str
    where: SourcePos

    def __str__(self) -> str:
        return f"{self.where}: intent {self.intent_id!r}: word {self.word!r} is not in the model"


class _Reader:
    """Little-endian OpenFst fields read from the file's bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def int32(self) -> int:
        (value,) = _I32.unpack_from(self.data, self.pos)
        self.pos += 4
        return int(value)

    def int64(self) -> int:
        (value,) = _I64.unpack_from(self.data, self.pos)
        self.pos += 8
        return int(value)

    def string(self) -> str:
        size = self.int32()
        if not 0 <= size <= _MAX_STRING or self.pos + size > len(self.data):
            raise ValueError(f"string of {size} bytes at offset {self.pos}")
        text = self.data[self.pos : self.pos + size].decode("utf-8", "replace")
        self.pos += size
        return text

    def symbols(self) -> list[str]:
        if self.int32() != _SYMBOLS_MAGIC:
            raise ValueError("no symbol table where the header says one is")
        self.string()  # table name
        self.int64()  # available key
        words = []
        for _ in range(self.int64()):
            words.append(self.string())
            self.int64()  # the word's id
        return words


def _fst_output_symbols(path: Path) -> frozenset[str]:
    with path.open("rb") as f:
        # The symbol tables sit at the start; the arcs after them are never needed.
        data = f.read(_HEADER_BYTES)
    reader = _Reader(data)
    if reader.int32() != _FST_MAGIC:
        raise ValueError("not an OpenFst binary file")
    reader.string()  # fst type ("ngram", "const", "vector")
    reader.string()  # arc type
    reader.int32()  # version
    flags = reader.int32()
    for _ in range(4):  # properties, start state, number of states, number of arcs
        reader.int64()
    if flags & _HAS_ISYMBOLS:
        reader.symbols()
    if not flags & _HAS_OSYMBOLS:
        raise ValueError("the file carries no output symbols")
    return frozenset(reader.symbols())


def read_model_vocabulary(model: Path) -> frozenset[str]:
    """The model's words (blocking, about a second for a 500k-word model: use a thread)."""
    words_txt = model / "graph" / "words.txt"
    if words_txt.is_file():
        try:
            lines = words_txt.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise VocabularyError(f"{words_txt}: unreadable ({exc})") from None
        return frozenset(line.split()[0] for line in lines if line.strip())
    grammar_fst = model / "graph" / "Gr.fst"
    try:
        return _fst_output_symbols(grammar_fst)
    except FileNotFoundError:
        raise VocabularyError(
            f"{model}: neither graph/words.txt nor graph/Gr.fst (is this a vosk model folder?)"
        ) from None
    except (OSError, ValueError, struct.error) as exc:
        raise VocabularyError(f"{grammar_fst}: cannot read its vocabulary ({exc})") from None


def missing_words(intents: IntentSet, vocabulary: frozenset[str]) -> list[MissingWord]:
    """Intent words the model cannot recognise, once per (word, intent), in file order."""
    seen: set[tuple[str, str]] = set()
    missing = []
    for word, intent, where in intents.words():
        if word not in vocabulary and (word, intent.id) not in seen:
            seen.add((word, intent.id))
            missing.append(MissingWord(word, intent.id, where))
    return missing
