"""Highlighted snippets: the passage of an article where the query's words are densest."""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from kb.analysis import WORD, PolishAnalyzer

_MARKDOWN_NOISE = re.compile(r"(\*\*|__|`|^#+\s*|^\s*[-*]\s+|^\s*\d+\.\s+)", re.MULTILINE)
# kb.analysis.WORD with its words kept by re.split: gap, word, gap, …, gap
_WORDS_AND_GAPS = re.compile(f"({WORD.pattern})", WORD.flags)


@dataclass(frozen=True)
class Snippet:
    """Plain text and the (start, end) character ranges of the words that matched the query."""

    text: str
    highlights: tuple[tuple[int, int], ...]

    def marked(self, start: str = "[", end: str = "]") -> str:
        out, pos = [], 0
        for a, b in self.highlights:
            out += [self.text[pos:a], start, self.text[a:b], end]
            pos = b
        out.append(self.text[pos:])
        return "".join(out)

    def html(self) -> str:
        out, pos = [], 0
        for a, b in self.highlights:
            out += [html.escape(self.text[pos:a]), "<mark>", html.escape(self.text[a:b]), "</mark>"]
            pos = b
        out.append(html.escape(self.text[pos:]))
        return "".join(out)


def plain_text(markdown: str) -> str:
    # str.split() cuts at the same whitespace as \s: runs become one space, ends trimmed
    return " ".join(_MARKDOWN_NOISE.sub("", markdown).split())


def make_snippet(
    analyzer: PolishAnalyzer,
    texts: list[str],
    query_terms: frozenset[str],
    prefix: str | None,
    *,
    width: int = 180,
) -> Snippet:
    """The window of about `width` characters with the most matching words among `texts`.

    `texts` are tried in order (e.g. summary, body); the first non-empty one is the fallback
    when no word matches.
    """
    plain = [text for text in map(plain_text, texts) if text]
    found = ((text, _matching_words(analyzer, text, query_terms, prefix)) for text in plain)
    return _best_window(found, plain[0] if plain else None, width)


class SnippetSource:
    """A card's texts tokenised once (plain text, every word's span, the terms of each distinct
    word), so that each keystroke's snippet only looks the query's terms up: the same snippet as
    `make_snippet` over the same texts, without cutting and stemming them again."""

    __slots__ = ("_texts",)

    def __init__(self, analyzer: PolishAnalyzer, texts: list[str]) -> None:
        self._texts = [_TokenisedText(analyzer, text) for text in map(plain_text, texts) if text]

    def snippet(
        self, query_terms: frozenset[str], prefix: str | None, *, width: int = 180
    ) -> Snippet:
        found = ((t.text, t.matching_words(query_terms, prefix)) for t in self._texts)
        return _best_window(found, self._texts[0].text if self._texts else None, width)


class _TokenisedText:
    """One plain text: each word's span and distinct-word number, and its (term, distinct word)
    pairs sorted by term — a term is one bisection, a prefix one contiguous run."""

    __slots__ = (
        "_ends",
        "_pair_terms",
        "_pair_words",
        "_starts",
        "_word_count",
        "_word_of",
        "text",
    )

    def __init__(self, analyzer: PolishAnalyzer, text: str) -> None:
        self.text = text
        # One regex pass cuts the text into gap, word, gap, … (the words' spans follow from the
        # lengths); the words are lower-cased together and each distinct word is stemmed once.
        parts = _WORDS_AND_GAPS.split(text)
        bounds = np.cumsum(
            np.fromiter(map(len, parts), dtype=np.int32, count=len(parts)), dtype=np.int32
        )
        words = "\n".join(parts[1::2]).lower().split("\n") if len(parts) > 1 else []
        distinct = dict.fromkeys(words)
        numbers = dict(zip(distinct, range(len(distinct)), strict=True))
        word_terms = analyzer.word_terms
        pairs = sorted(
            (term, number) for word, number in numbers.items() for term in word_terms(word)
        )
        self._pair_terms = [term for term, _ in pairs]
        self._pair_words = np.fromiter(
            (number for _, number in pairs), dtype=np.int32, count=len(pairs)
        )
        self._starts = bounds[0:-1:2]
        self._ends = bounds[1::2]
        self._word_of = np.fromiter(
            map(numbers.__getitem__, words), dtype=np.int32, count=len(words)
        )
        self._word_count = len(distinct)

    def matching_words(
        self, query_terms: frozenset[str], prefix: str | None
    ) -> list[tuple[int, int]]:
        """`_matching_words(analyzer, self.text, query_terms, prefix)`, from the tables."""
        terms = self._pair_terms
        runs: list[tuple[int, int]] = []
        for term in query_terms:
            lo = bisect.bisect_left(terms, term)
            if lo < len(terms) and terms[lo] == term:
                runs.append((lo, bisect.bisect_right(terms, term, lo)))
        if prefix:
            lo = bisect.bisect_left(terms, prefix)
            runs.append((lo, bisect.bisect_left(terms, prefix + "\U0010ffff", lo)))
        runs = [(lo, hi) for lo, hi in runs if hi > lo]
        if not runs:
            return []
        matched = np.zeros(self._word_count, dtype=bool)
        for lo, hi in runs:
            matched[self._pair_words[lo:hi]] = True
        chosen = np.flatnonzero(matched[self._word_of])
        return list(zip(self._starts[chosen].tolist(), self._ends[chosen].tolist(), strict=True))


def _best_window(
    found: Iterable[tuple[str, list[tuple[int, int]]]], fallback: str | None, width: int
) -> Snippet:
    """The densest window among the texts' matching words (the first text's start if none)."""
    best: tuple[int, str, list[tuple[int, int]], int] | None = None
    for text, hits in found:
        if not hits:
            continue
        count, window_start = _densest(hits, width)
        if best is None or count > best[0]:
            best = (count, text, hits, window_start)
    if best is None:
        return Snippet(_cut(fallback, 0, width)[0], ()) if fallback else Snippet("", ())
    _, text, hits, window_start = best
    snippet, offset = _cut(text, max(0, window_start - width // 4), width)
    shown = tuple(
        (a - offset, b - offset) for a, b in hits if a >= offset and b - offset <= len(snippet)
    )
    return Snippet(snippet, shown)


def _matching_words(
    analyzer: PolishAnalyzer, text: str, query_terms: frozenset[str], prefix: str | None
) -> list[tuple[int, int]]:
    """(start, end) of each word of `text` that has a query term or a term starting with
    `prefix`; each distinct word is tested once (a body repeats its words many times)."""

    def matches(word: str) -> bool:
        terms = analyzer.word_terms(word)
        return bool(terms & query_terms) or bool(
            prefix and any(term.startswith(prefix) for term in terms)
        )

    matched = {word for word in {w.lower() for w in WORD.findall(text)} if matches(word)}
    if not matched:
        return []
    return [found.span() for found in WORD.finditer(text) if found.group().lower() in matched]


def _densest(hits: list[tuple[int, int]], width: int) -> tuple[int, int]:
    """How many hits the best `width`-wide window holds, and where that window starts.

    Hits are words in text order, so their ends grow too: the hits a window starting at hit i
    holds are i…j-1 for the first j past the width, and j only moves forward (one pass).
    """
    top_count, top_start = 0, hits[0][0]
    j = 0
    for i, (start, _) in enumerate(hits):
        j = max(j, i)
        while j < len(hits) and hits[j][1] - start <= width:
            j += 1
        if j - i > top_count:
            top_count, top_start = j - i, start
    return top_count, top_start


def _cut(text: str, first: int, width: int) -> tuple[str, int]:
    """Text from about `first`, `width` long, on word boundaries, with ellipses; and its offset."""
    if first > 0:
        space = text.rfind(" ", 0, first)
        first = space + 1 if space >= 0 else 0
    end = first + width
    if end < len(text):
        space = text.rfind(" ", first, end)
        end = space if space > first else end
    else:
        end = len(text)
    body = text[first:end]
    prefix = "…" if first > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + body + suffix, first - len(prefix)
