"""Highlighted snippets: the passage of an article where the query's words are densest."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from kb.analysis import WORD, PolishAnalyzer

_MARKDOWN_NOISE = re.compile(r"(\*\*|__|`|^#+\s*|^\s*[-*]\s+|^\s*\d+\.\s+)", re.MULTILINE)
_SPACES = re.compile(r"\s+")


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
    return _SPACES.sub(" ", _MARKDOWN_NOISE.sub("", markdown)).strip()


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
    fallback: str | None = None
    best: tuple[int, str, list[tuple[int, int]], int] | None = None
    for raw in texts:
        text = plain_text(raw)
        if not text:
            continue
        fallback = fallback if fallback is not None else text
        hits = _matching_words(analyzer, text, query_terms, prefix)
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
