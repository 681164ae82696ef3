"""Ideas grouped by topic, on plain values: what an idea is about (its significant words, through
the knowledge base's Polish analyzer, so inflected forms meet), which side it takes (more or
less of a thing), and the group of ideas on the same topic with the count per side.

The rule (docs/units.md, "Ideas on the same topic"): two ideas are on one topic when they have
the same category and share at least one significant word — a number (a bus or tram line, a
house number) or a word that is neither a stopword, nor a generic word of city ideas (line,
bus, stop, street…), nor a word of the side itself. An idea is *for* when it asks to add,
lengthen, increase, bring back (dodać, wydłużyć, zwiększyć, przywrócić…) and *against* when it
asks to remove, shorten, reduce, close (zlikwidować, skrócić, zmniejszyć, zamknąć…); else
neither. The group of an idea is the idea and every idea sharing a word with it (no chains).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from kb.analysis import WORD, PolishAnalyzer, fold


class Side(enum.StrEnum):
    FOR = "for"  # more of the thing: add, lengthen, increase, bring back
    AGAINST = "against"  # less of it: remove, shorten, reduce, close
    NEITHER = "neither"


# Beginnings of folded words that take a side; a prefix catches every inflected form
# (wydłużyć, wydłużenie, wydłużyłoby; likwidacja, zlikwidowanie).
_FOR_PREFIXES = (
    "wydluz", "przedluz", "doda", "zwieksz", "uruchom", "przywroc", "zbuduj", "budow",
    "postaw", "wiecej", "czesciej", "rozszerz", "zagesc",
)  # fmt: skip
_AGAINST_PREFIXES = (
    "skroc", "zlikwid", "likwid", "usun", "zmniejsz", "ogranicz", "zamkn", "mniej",
    "rzadziej", "wycof", "zawiesz", "rozebra", "zabra",
)  # fmt: skip
# Words every idea about the city may carry: sharing one says nothing of the topic (folded stems
# and forms; the analyzer's terms of a word are matched against these).
_GENERIC_RAW = """
    linia autobus autobusowy tramwaj tramwajowy przystanek kurs ulica ul aleja al plac osiedle
    miasto krakow mieszkaniec pomysl propozycja proponowac postulat prosba prosic chciec trzeba
    warto nalezy moc moglby mozna byc bardzo dobry nowy maly duzy ten ktory swoj caly jeden
"""
_GENERIC = frozenset(_GENERIC_RAW.split())
_NUMBER = re.compile(r"^\d+[a-z]?$")


@dataclass(frozen=True)
class Idea:
    number: str
    category: str
    text: str
    status: str = "new"


@dataclass(frozen=True)
class IdeaTopic:
    """What an idea is about: its significant words (each word as its analyzer terms)."""

    words: tuple[tuple[str, frozenset[str]], ...]  # (the word as written, its terms)
    side: Side

    def shared_with(self, other: IdeaTopic) -> list[str]:
        """This idea's words that the other idea also has (as written here)."""
        return [
            word for word, terms in self.words if any(terms & theirs for _, theirs in other.words)
        ]


@dataclass(frozen=True)
class SimilarIdea:
    idea: Idea
    side: Side
    shared: tuple[str, ...]  # the words in common, as the other idea has them


@dataclass(frozen=True)
class TopicGroup:
    """An idea's topic: the similar ideas and how many ideas (itself included) are on each side."""

    side: Side
    similar: tuple[SimilarIdea, ...]
    counts: dict[Side, int]
    words: tuple[str, ...]  # every shared word, as the idea itself has it, in its order

    @property
    def contested(self) -> bool:
        return self.counts[Side.FOR] > 0 and self.counts[Side.AGAINST] > 0


def side_of(text: str) -> Side:
    words = [fold(w) for w in WORD.findall(text)]
    more = any(w.startswith(_FOR_PREFIXES) for w in words)
    less = any(w.startswith(_AGAINST_PREFIXES) for w in words)
    if more == less:
        return Side.NEITHER
    return Side.FOR if more else Side.AGAINST


def topic_of(analyzer: PolishAnalyzer, text: str) -> IdeaTopic:
    words: list[tuple[str, frozenset[str]]] = []
    seen: set[frozenset[str]] = set()
    for match in WORD.finditer(text):
        word = match.group()
        folded = fold(word)
        if folded.startswith(_FOR_PREFIXES + _AGAINST_PREFIXES):
            continue
        terms = analyzer.word_terms(word.lower())
        significant = bool(_NUMBER.match(folded)) or (len(folded) >= 3 and folded.isalpha())
        if not terms or not significant or terms & _GENERIC or terms in seen:
            continue
        seen.add(terms)
        words.append((word, terms))
    return IdeaTopic(tuple(words), side_of(text))


def group_of(
    analyzer: PolishAnalyzer, category: str, text: str, others: Iterable[Idea]
) -> TopicGroup:
    """The topic group of an idea (`text` in `category`) among `others` (itself left out by the
    caller): the ideas of the same category sharing a significant word with it, most words in
    common first."""
    mine = topic_of(analyzer, text)
    similar: list[SimilarIdea] = []
    words: list[str] = []
    for idea in others:
        if idea.category != category:
            continue
        theirs = topic_of(analyzer, idea.text)
        shared = mine.shared_with(theirs)
        if not shared:
            continue
        similar.append(SimilarIdea(idea, theirs.side, tuple(theirs.shared_with(mine))))
        words.extend(w for w in shared if w not in words)
    similar.sort(key=lambda s: -len(s.shared))
    counts = {side: 0 for side in Side}
    counts[mine.side] += 1
    for found in similar:
        counts[found.side] += 1
    ordered = tuple(w for w, _ in mine.words if w in words)
    return TopicGroup(mine.side, tuple(similar), counts, ordered)
