"""The search index held in memory: the databases' own ranking, computed without the database.

Built from the rows of `kb_search` (the analysed terms per field, see kb.search_index), it holds
one posting per (term, card) in flat numpy arrays ordered by term, so a term is one slice and a
prefix (the word being typed) a contiguous run of slices found by bisecting the sorted terms.
A query scores every card in a few vector operations instead of a walk over nearly every card in
SQLite or PostgreSQL, and gives the *same* candidates with the *same* backend scores:

- SQLite: FTS5's `bm25(kb_fts, 10.0, 6.0, 1.0)` (fts5_aux.c: weighted hit counts per phrase,
  IDF over the whole table, length normalisation by the row's tokens over the average);
- PostgreSQL: `ts_rank('{0.1, 0.2, 0.6, 1.0}', document, q)` for an OR query (tsrank.c
  `calc_rank_or`), in float4 step by step as PostgreSQL computes it, with to_tsvector's limit of
  256 positions per lexeme.

The final ordering (query words covered, title and keyword hits) stays in kb.search. Snapshots are
immutable: a refresh builds a new one off the event loop from the old one plus changed rows.
"""

from __future__ import annotations

import bisect
import functools
import re
from array import array
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from kb.analysis import PolishAnalyzer
from kb.snippets import SnippetSource

# Tokens as FTS5's unicode61 tokenizer and PostgreSQL's parser cut the stored terms (kb.analysis
# writes \w+ words separated by spaces; both cut at an underscore too).
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
FIELDS = ("title", "keywords", "body")

# SQLite: bm25 column weights (kb.search_index.SQLITE_BM25) and FTS5's constants.
BM25_WEIGHTS = (10.0, 6.0, 1.0)
BM25_K1 = 1.2
BM25_B = 0.75
# PostgreSQL: the weights of kb.search_index.PG_WEIGHTS for the fields' labels A, B and D.
PG_FIELD_WEIGHTS = (np.float32(1.0), np.float32(0.6), np.float32(0.1))
PG_MAX_POSITIONS = 256  # MAXNUMPOS: positions kept per lexeme in a tsvector
PG_MAX_POSITIONS_PER_FIELD = 255  # to_tsvector keeps one fewer (uniqueWORD)
PG_MAX_POSITION = 16383  # MAXENTRYPOS - 1: a longer document's ranks are not reproduced here
PG_RANK_DIVISOR = 1.64493406685  # pi^2/6, as tsrank.c writes it

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class IndexRow:
    """One card as the index reads it: `kb_search`'s terms and `kb_articles.updated_at`."""

    article_id: int
    language: str
    updated_at: datetime
    title_terms: str
    keyword_terms: str
    body_terms: str


@dataclass(frozen=True, slots=True)
class IndexedCard:
    """What the index keeps of a card besides its postings (not its text)."""

    article_id: int
    language: str
    updated_at: datetime


@dataclass(frozen=True)
class RankedCard:
    """A candidate with its backend score and, per query word, the fields it was found in."""

    article_id: int
    backend_score: float
    found: tuple[tuple[bool, bool, bool], ...]  # per query word: (title, keywords, body)


@dataclass(frozen=True)
class PrefixLayers:
    """A common prefix's postings laid out per card, for PostgreSQL's float4 sum when an earlier
    query word already gave cards a share (then the totals from zero are not what PostgreSQL
    adds up). The prefix's cards come most lexemes first, so the cards having a k-th lexeme of
    the prefix are the first `widths[k]`, and layer k holds those lexemes' shares (each card's
    lexemes in term order): a keystroke adds layer after layer to a contiguous slice, one step
    per lexeme a card has at most instead of one per lexeme of the prefix."""

    slots: npt.NDArray[np.int32]
    widths: tuple[int, ...]
    values: npt.NDArray[np.float32] | Floats  # share × divisor: float4 when that is exact
    divisor: float

    @classmethod
    def of(
        cls, slots: npt.NDArray[np.int32], widths: tuple[int, ...], shares: Floats
    ) -> PrefixLayers:
        """Each share is a float4 over pi²/6 (`pg_term_rank`): kept as that float4 (half the
        memory) when dividing it again gives every share to the bit, else as it is."""
        inner = (shares * PG_RANK_DIVISOR).astype(np.float32)
        if np.array_equal(inner.astype(np.float64) / PG_RANK_DIVISOR, shares):
            return cls(slots, widths, inner, PG_RANK_DIVISOR)
        return cls(slots, widths, shares, 1.0)

    @property
    def nbytes(self) -> int:
        return self.slots.nbytes + self.values.nbytes

    def add_to(self, res: npt.NDArray[np.float32]) -> None:
        """Add the prefix's shares to `res` as `calc_rank_or` does, lexeme by lexeme in float4."""
        part = res[self.slots]
        start = 0
        for width in self.widths:
            end = start + width
            shares = self.values[start:end].astype(np.float64) / self.divisor
            part[:width] = (part[:width].astype(np.float64) + shares).astype(np.float32)
            start = end
        res[self.slots] = part


@dataclass(frozen=True)
class PrefixTotals:
    """A typed prefix's postings summed per card, so a keystroke reads one entry per card instead
    of one per (term, card): the cards, their summed value (SQLite: weighted hits; PostgreSQL:
    the lexemes' `calc_rank_or` shares added one by one in float4 from zero, in term order) and
    the fields the prefix is in; on PostgreSQL also the postings per card (`layers`)."""

    slots: npt.NDArray[np.int32]
    values: Floats
    bits: npt.NDArray[np.uint8]
    layers: PrefixLayers | None = None

    @property
    def nbytes(self) -> int:
        layers = self.layers.nbytes if self.layers is not None else 0
        return self.slots.nbytes + self.values.nbytes + self.bits.nbytes + layers


Source = tuple[PolishAnalyzer, SnippetSource]


class CardCache:
    """The content of the cards last shown (slug, title, the shown fields of the current
    revision), one snapshot's: a card saved since is in a newer snapshot, so nothing here is ever
    older than the index. With each card its snippet source (kb.snippets.SnippetSource: its texts
    tokenised once), made at its first snippet or, for a card read ahead, in a worker thread
    before it is shown. Cards read ahead (not shown yet) wait apart, in a smaller cache of their
    own, so that reading ahead never pushes out the cards shown."""

    def __init__(self, size: int = 1024, ahead: int = 256) -> None:
        self._size = size
        self._ahead_size = ahead
        self._rows: OrderedDict[int, Any] = OrderedDict()
        self._ahead: OrderedDict[int, tuple[Any, Source | None]] = OrderedDict()
        self._sources: dict[int, Source] = {}
        self._pool: list[int] = []

    def note_pool(self, article_ids: list[int]) -> None:
        """The last search's next candidates: the cards the next keystrokes likely show."""
        self._pool = article_ids

    def take_pool(self) -> list[int]:
        """The noted candidates not held yet (to read ahead, kb.memory_search), and forget them."""
        pool, self._pool = self._pool, []
        return [i for i in pool if i not in self._rows and i not in self._ahead]

    def get(self, article_id: int) -> Any | None:
        row = self._rows.get(article_id)
        if row is not None:
            self._rows.move_to_end(article_id)
            return row
        held = self._ahead.pop(article_id, None)
        if held is None:
            return None
        row, source = held
        self.put(article_id, row, source=source)  # shown now
        return row

    def put(
        self, article_id: int, row: Any, *, ahead: bool = False, source: Source | None = None
    ) -> None:
        """Keep `row` (with its snippet source if made already); `ahead` (read before being
        asked for): apart, if not held yet."""
        if ahead:
            if article_id not in self._rows and article_id not in self._ahead:
                self._ahead[article_id] = (row, source)
                if len(self._ahead) > self._ahead_size:
                    self._ahead.popitem(last=False)
            return
        self._rows[article_id] = row
        if source is not None:
            self._sources[article_id] = source
        else:
            self._sources.pop(article_id, None)
        if len(self._rows) > self._size:
            gone, _ = self._rows.popitem(last=False)
            self._sources.pop(gone, None)

    def snippet_source(
        self, article_id: int, analyzer: PolishAnalyzer, texts: list[str]
    ) -> SnippetSource:
        """The card's snippet source, made from `texts` (its content as put) the first time."""
        kept = self._sources.get(article_id)
        if kept is not None and kept[0] is analyzer:
            return kept[1]
        source = SnippetSource(analyzer, texts)
        if article_id in self._rows:
            self._sources[article_id] = (analyzer, source)
        return source


# Prefixes of the lengths FTS5's prefix index keeps (migration 0013) with more postings than
# this get their totals made with the snapshot; a rarer prefix is summed when typed.
HOT_PREFIX_POSTINGS = 20_000
HOT_PREFIX_LENGTHS = (3, 4, 5, 6)


@functools.cache
def pg_term_rank(in_title: int, in_keywords: int, in_body: int) -> float:
    """One lexeme's share of `calc_rank_or` before the sum: its positions' weights in document
    order (title A, keywords B, body D), in float4 as PostgreSQL does it, then / pi²/6 in double."""
    title = min(in_title, PG_MAX_POSITIONS_PER_FIELD)
    keywords = min(min(in_keywords, PG_MAX_POSITIONS_PER_FIELD), PG_MAX_POSITIONS - title)
    body = min(min(in_body, PG_MAX_POSITIONS_PER_FIELD), PG_MAX_POSITIONS - title - keywords)
    weight_a, weight_b, weight_d = PG_FIELD_WEIGHTS
    weights = [weight_a] * title + [weight_b] * keywords + [weight_d] * body
    f32 = np.float32
    total = f32(0.0)
    best = f32(-1.0)
    best_at = 0
    for j, weight in enumerate(weights):
        total = f32(total + f32(weight / f32((j + 1) * (j + 1))))
        if weight > best:
            best, best_at = weight, j
    inner = f32(f32(best + total) - f32(best / f32((best_at + 1) * (best_at + 1))))
    return float(inner) / PG_RANK_DIVISOR


@dataclass(frozen=True)
class _Parsed:
    length: int
    counts: dict[str, tuple[int, int, int]]


def _parse(row: IndexRow) -> _Parsed:
    per_field = [
        Counter(_TOKEN.findall(text))
        for text in (row.title_terms, row.keyword_terms, row.body_terms)
    ]
    terms = set().union(*per_field)
    counts = {term: (per_field[0][term], per_field[1][term], per_field[2][term]) for term in terms}
    return _Parsed(sum(sum(c.values()) for c in per_field), counts)


def _posting_value(dialect: str, counts: tuple[int, int, int]) -> float:
    if dialect == "sqlite":
        return sum(w * c for w, c in zip(BM25_WEIGHTS, counts, strict=True))
    return pg_term_rank(*counts)


def _bits(counts: tuple[int, int, int]) -> int:
    return (counts[0] > 0) | (counts[1] > 0) << 1 | (counts[2] > 0) << 2


class IndexSnapshot:
    """Every card's postings at one moment; read-only once built."""

    def __init__(
        self,
        dialect: str,
        terms: list[str],
        offsets: Ints,
        post_slot: npt.NDArray[np.int32],
        post_value: Floats,
        post_bits: npt.NDArray[np.uint8],
        slots: list[IndexedCard | None],
        lengths: Floats,
        languages: list[str],
        slot_language: npt.NDArray[np.int16],
    ) -> None:
        self.dialect = dialect
        self.terms = terms
        self.offsets = offsets
        self.post_slot = post_slot
        self.post_value = post_value
        self.post_bits = post_bits
        self.slots = slots
        self.lengths = lengths
        self.languages = languages
        self.slot_language = slot_language
        self.article_ids = np.array(
            [row.article_id if row else -1 for row in slots], dtype=np.int64
        )
        live = [row for row in slots if row is not None]
        self.rows = len(live)
        self.by_article = {row.article_id: i for i, row in enumerate(slots) if row is not None}
        self.stamps = {row.article_id: row.updated_at for row in live}
        self.exact = dialect == "sqlite" or not bool((lengths > PG_MAX_POSITION).any())
        total_tokens = int(lengths.sum())
        avgdl = total_tokens / self.rows if self.rows else 1.0
        # FTS5: k1 * (1 - b + b * D / avgdl), the same operations in the same order.
        self._bm25_norm = BM25_K1 * ((1 - BM25_B) + (BM25_B * lengths) / avgdl)
        self.prefix_totals = self._hot_prefixes()
        self.cards = CardCache()

    def _hot_prefixes(self) -> dict[str, PrefixTotals]:
        hot: dict[str, PrefixTotals] = {}
        for length in HOT_PREFIX_LENGTHS:
            starts: dict[str, int] = {}
            for i, term in enumerate(self.terms):
                if len(term) >= length:
                    starts.setdefault(term[:length], i)
            for prefix, first in starts.items():
                last = bisect.bisect_left(self.terms, prefix + "\U0010ffff", first)
                if self.offsets[last] - self.offsets[first] >= HOT_PREFIX_POSTINGS:
                    hot[prefix] = self._totals(first, last)
        return hot

    def _totals(self, first: int, last: int) -> PrefixTotals:
        start, end = int(self.offsets[first]), int(self.offsets[last])
        order = np.argsort(self.post_slot[start:end], kind="stable")  # term order kept per card
        slots = self.post_slot[start:end][order]
        values = self.post_value[start:end][order]
        cards, firsts, counts = np.unique(slots, return_index=True, return_counts=True)
        bits = np.bitwise_or.reduceat(self.post_bits[start:end][order], firsts)
        if self.dialect == "sqlite":
            totals = np.add.reduceat(values, firsts)  # whole numbers: exact in any order
            return PrefixTotals(cards.astype(np.int32), totals, bits.astype(np.uint8))
        most_first = np.argsort(-counts, kind="stable")
        widths = tuple(
            int(w) for w in np.searchsorted(-counts[most_first], -np.arange(counts.max(initial=0)))
        )
        layers = PrefixLayers.of(
            cards[most_first].astype(np.int32),
            widths,
            np.concatenate(
                [values[firsts[most_first[:width]] + k] for k, width in enumerate(widths)]
                or [np.zeros(0)]
            ),
        )
        running = np.zeros(len(self.slots), dtype=np.float32)
        layers.add_to(running)
        totals = running[cards].astype(np.float64)
        return PrefixTotals(cards.astype(np.int32), totals, bits.astype(np.uint8), layers)

    def _prefix_totals(self, prefix: str) -> PrefixTotals | None:
        return self.prefix_totals.get(prefix)

    @property
    def nbytes(self) -> int:
        """Bytes in the arrays (the term list and the rows' Python objects come on top)."""
        arrays = (
            self.offsets,
            self.post_slot,
            self.post_value,
            self.post_bits,
            self.lengths,
            self.slot_language,
            self.article_ids,
            self._bm25_norm,
        )
        return sum(a.nbytes for a in arrays) + sum(t.nbytes for t in self.prefix_totals.values())

    # -- querying ---------------------------------------------------------------------------

    def _term_range(self, term: str, prefix: bool) -> tuple[int, int]:
        """The indexes of `term` (or of every term it begins) in the sorted term list."""
        lo = bisect.bisect_left(self.terms, term)
        if prefix:
            hi = bisect.bisect_left(self.terms, term + "\U0010ffff", lo)
        else:
            hi = lo + 1 if lo < len(self.terms) and self.terms[lo] == term else lo
        return lo, hi

    def _range(self, term: str, prefix: bool) -> tuple[int, int]:
        """The postings of `term` (or of every term it begins): one slice."""
        lo, hi = self._term_range(term, prefix)
        return int(self.offsets[lo]), int(self.offsets[hi])

    def _sqlite_scores(
        self, terms: list[str], prefix: str | None
    ) -> tuple[Floats, npt.NDArray[np.bool_]]:
        n = len(self.slots)
        score = np.zeros(n)
        matched = np.zeros(n, dtype=bool)
        phrases = [(term, False) for term in terms] + ([(prefix, True)] if prefix else [])
        for term, is_prefix in phrases:
            totals = self._prefix_totals(term) if is_prefix else None
            if totals is not None:
                freq: Floats = np.zeros(n)
                freq[totals.slots] = totals.values
            else:
                start, end = self._range(term, is_prefix)
                freq = np.bincount(
                    self.post_slot[start:end], weights=self.post_value[start:end], minlength=n
                ).astype(np.float64)
            hit = freq > 0
            hits = int(np.count_nonzero(hit))
            idf = float(np.log((self.rows - hits + 0.5) / (hits + 0.5)))
            if idf <= 0.0:
                idf = 1e-6
            score += idf * ((freq * (BM25_K1 + 1.0)) / (freq + self._bm25_norm))
            matched |= hit
        return score, matched

    def _pg_scores(
        self, terms: list[str], prefix: str | None
    ) -> tuple[Floats, npt.NDArray[np.bool_]]:
        n = len(self.slots)
        res = np.zeros(n, dtype=np.float32)
        matched = np.zeros(n, dtype=bool)
        items = pg_rank_items(terms, prefix)
        for position, (term, is_prefix) in enumerate(items):
            totals = self._prefix_totals(term) if is_prefix else None
            if totals is not None and (position == 0 or not res[totals.slots].any()):
                # no card has a share yet: the sums from zero are the ones PostgreSQL makes
                res[totals.slots] = totals.values.astype(np.float32)
                matched[totals.slots] = True
                continue
            if totals is not None and totals.layers is not None:
                totals.layers.add_to(res)
                matched[totals.slots] = True
                continue
            first, last = self._term_range(term, is_prefix)
            for lexeme_start, lexeme_end in _runs(self.offsets, first, last):
                slots = self.post_slot[lexeme_start:lexeme_end]
                res[slots] = (
                    res[slots].astype(np.float64) + self.post_value[lexeme_start:lexeme_end]
                ).astype(np.float32)
                matched[slots] = True
        res = res / np.float32(len(items) or 1)
        return res.astype(np.float64), matched

    def rank(
        self,
        words: Sequence[tuple[frozenset[str], str | None]],
        terms: list[str],
        prefix: str | None,
        *,
        language: str | None,
        limit: int,
    ) -> list[RankedCard]:
        """The best `limit` cards by the backend's score (ties: lower article id first), each
        with the fields every query word was found in."""
        if self.dialect == "sqlite":
            score, matched = self._sqlite_scores(terms, prefix)
        else:
            score, matched = self._pg_scores(terms, prefix)
        if language is not None:
            code = self.languages.index(language) if language in self.languages else -1
            matched &= self.slot_language == code
        chosen = np.flatnonzero(matched)
        if len(chosen) > limit:
            threshold = np.partition(score[chosen], len(chosen) - limit)[len(chosen) - limit]
            chosen = chosen[score[chosen] >= threshold]
        order = np.lexsort((self.article_ids[chosen], -score[chosen]))[:limit]
        pool = chosen[order]
        found = [self._found(word_terms, word_prefix, pool) for word_terms, word_prefix in words]
        return [
            RankedCard(
                int(self.article_ids[slot]),
                float(score[slot]),
                tuple((bool(b & 1), bool(b & 2), bool(b & 4)) for b in (f[i] for f in found)),
            )
            for i, slot in enumerate(pool)
        ]

    def _found(
        self, word_terms: frozenset[str], prefix: str | None, pool: Ints
    ) -> npt.NDArray[np.uint8]:
        bits = np.zeros(len(self.slots), dtype=np.uint8)
        if prefix is not None:
            totals = self._prefix_totals(prefix)
            if totals is not None:
                bits[totals.slots] = totals.bits
            else:
                start, end = self._range(prefix, True)  # a card once per term, many terms
                np.bitwise_or.at(bits, self.post_slot[start:end], self.post_bits[start:end])
        for term in word_terms:
            start, end = self._range(term, False)  # each card once
            bits[self.post_slot[start:end]] |= self.post_bits[start:end]
        return bits[pool]

    # -- building ---------------------------------------------------------------------------

    def updated(self, changed: Iterable[IndexRow], removed: Iterable[int]) -> IndexSnapshot:
        """A new snapshot: this one with `changed` rows (new or edited) put in and `removed`
        article ids taken out. CPU work: call it off the event loop. The rows are parsed one by
        one into compact arrays (a card's term counts are dropped once its postings are made)."""
        slots: list[IndexedCard | None] = list(self.slots)
        languages = list(self.languages)
        dropped: list[int] = []
        free: list[int] = [i for i, row in enumerate(slots) if row is None]
        for article_id in removed:
            slot = self.by_article.get(article_id)
            if slot is not None:
                slots[slot] = None
                dropped.append(slot)
                free.append(slot)
        # terms numbered as first seen (the old ones first), sorted once all are known
        seen = {term: i for i, term in enumerate(self.terms)}
        added_terms = array("q")
        added_slots = array("i")
        added_values = array("d")
        added_bits = array("B")
        placed: list[tuple[int, int, int]] = []  # slot, length, language code
        for row in changed:
            item = _parse(row)
            slot = self.by_article.get(row.article_id)
            if slot is not None:
                dropped.append(slot)
            elif free:
                slot = free.pop()
            else:
                slot = len(slots)
                slots.append(None)
            slots[slot] = IndexedCard(row.article_id, row.language, row.updated_at)
            if row.language not in languages:
                languages.append(row.language)
            placed.append((slot, item.length, languages.index(row.language)))
            for term, counts in item.counts.items():
                added_terms.append(seen.setdefault(term, len(seen)))
                added_slots.append(slot)
                added_values.append(_posting_value(self.dialect, counts))
                added_bits.append(_bits(counts))
        size = len(slots)
        lengths = np.concatenate([self.lengths, np.zeros(size - len(self.lengths))])
        slot_language = np.concatenate(
            [self.slot_language, np.full(size - len(self.slot_language), -1, dtype=np.int16)]
        )
        for slot in dropped:
            lengths[slot] = 0
            slot_language[slot] = -1
        for slot, length, code in placed:
            lengths[slot] = length
            slot_language[slot] = code

        new_terms = sorted(seen)
        position = {term: i for i, term in enumerate(new_terms)}
        remap = np.empty(len(seen), dtype=np.int64)
        for term, first_seen in seen.items():
            remap[first_seen] = position[term]
        old_terms = np.repeat(np.arange(len(self.terms)), np.diff(self.offsets))
        keep = ~np.isin(self.post_slot, np.array(dropped, dtype=np.int32))
        post_term = remap[
            np.concatenate([old_terms[keep], np.frombuffer(added_terms, dtype=np.int64)])
        ]
        order = np.argsort(post_term, kind="stable")
        post_term = post_term[order]
        offsets = np.searchsorted(post_term, np.arange(len(new_terms) + 1)).astype(np.int64)
        new_slots = np.frombuffer(added_slots, dtype=np.int32)
        new_values = np.frombuffer(added_values, dtype=np.float64)
        new_bits = np.frombuffer(added_bits, dtype=np.uint8)
        return IndexSnapshot(
            self.dialect,
            new_terms,
            offsets,
            np.concatenate([self.post_slot[keep], new_slots])[order],
            np.concatenate([self.post_value[keep], new_values])[order],
            np.concatenate([self.post_bits[keep], new_bits])[order],
            slots,
            lengths,
            languages,
            slot_language,
        )


def pg_rank_items(terms: list[str], prefix: str | None) -> list[tuple[str, bool]]:
    """The items `calc_rank_or` sums, in its order: tsrank.c's SortAndUniqItems sorts the query's
    operands by their text alone with PostgreSQL's qsort and keeps the first of equal texts. So
    the typed prefix 'odeb':* and the same word whole 'odeb' are one item there, and which one
    depends on that sort: the prefix below 7 operands, often the whole word from 7 on (the
    quicksort is not stable). The operands come in the stored order, the query's reversed."""
    operands = [(term, False) for term in terms] + ([(prefix, True)] if prefix else [])
    operands.reverse()
    _pg_qsort(operands, 0, len(operands))
    unique: list[tuple[str, bool]] = []
    for operand in operands:
        if not unique or unique[-1][0] != operand[0]:
            unique.append(operand)
    return unique


def _pg_qsort(items: list[tuple[str, bool]], a: int, n: int) -> None:
    """PostgreSQL's qsort (src/include/lib/sort_template.h, Bentley & McIlroy), comparing the
    text only, so that equal texts end in the same order as there."""

    def cmp(i: int, j: int) -> int:
        x, y = items[i][0], items[j][0]
        return (x > y) - (x < y)

    def swap(i: int, j: int) -> None:
        items[i], items[j] = items[j], items[i]

    def med3(i: int, j: int, k: int) -> int:
        if cmp(i, j) < 0:
            return j if cmp(j, k) < 0 else (k if cmp(i, k) < 0 else i)
        return j if cmp(j, k) > 0 else (i if cmp(i, k) < 0 else k)

    while True:
        if n < 7:
            for m in range(a + 1, a + n):
                pl = m
                while pl > a and cmp(pl - 1, pl) > 0:
                    swap(pl, pl - 1)
                    pl -= 1
            return
        if all(cmp(m - 1, m) <= 0 for m in range(a + 1, a + n)):
            return
        pm = a + n // 2
        if n > 7:
            pl, pn = a, a + n - 1
            if n > 40:
                d = n // 8
                pl = med3(pl, pl + d, pl + 2 * d)
                pm = med3(pm - d, pm, pm + d)
                pn = med3(pn - 2 * d, pn - d, pn)
            pm = med3(pl, pm, pn)
        swap(a, pm)
        pa = pb = a + 1
        pc = pd = a + n - 1
        while True:
            while pb <= pc and (r := cmp(pb, a)) <= 0:
                if r == 0:
                    swap(pa, pb)
                    pa += 1
                pb += 1
            while pb <= pc and (r := cmp(pc, a)) >= 0:
                if r == 0:
                    swap(pc, pd)
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            swap(pb, pc)
            pb += 1
            pc -= 1
        pn = a + n
        d1 = min(pa - a, pb - pa)
        for i in range(d1):
            swap(a + i, pb - d1 + i)
        d1 = min(pd - pc, pn - pd - 1)
        for i in range(d1):
            swap(pb + i, pn - d1 + i)
        d1 = pb - pa
        d2 = pd - pc
        if d1 <= d2:
            if d1 > 1:
                _pg_qsort(items, a, d1)
            if d2 <= 1:
                return
            a, n = pn - d2, d2
        else:
            if d2 > 1:
                _pg_qsort(items, pn - d2, d2)
            if d1 <= 1:
                return
            n = d1


def _runs(offsets: Ints, first: int, last: int) -> Iterable[tuple[int, int]]:
    """The posting slice of each term first…last-1 that has postings, in term order."""
    for i in range(first, last):
        start, end = int(offsets[i]), int(offsets[i + 1])
        if end > start:
            yield start, end


def empty_snapshot(dialect: str) -> IndexSnapshot:
    return IndexSnapshot(
        dialect,
        [],
        np.zeros(1, dtype=np.int64),
        np.zeros(0, dtype=np.int32),
        np.zeros(0),
        np.zeros(0, dtype=np.uint8),
        [],
        np.zeros(0),
        [],
        np.zeros(0, dtype=np.int16),
    )
