"""Snippets from a card's texts tokenised once (kb.snippets.SnippetSource): the same snippets as
`make_snippet` cutting and stemming the texts at every keystroke (issue 20, point 5)."""

from __future__ import annotations

import random

from kb import PolishAnalyzer, read_folder
from kb.snippets import SnippetSource, make_snippet
from tests.kb.corpus import QUERIES, SEED, typed_prefixes


def test_a_tokenised_card_gives_the_same_snippet_as_cutting_its_text_again(
    analyzer: PolishAnalyzer,
) -> None:
    cards = [card for _, card in read_folder(SEED)]
    rng = random.Random(5)
    vocabulary = sorted({w.lower() for card in cards for w in card.body.split() if w.isalpha()})
    queries = [text for query in QUERIES for text in typed_prefixes(query)]
    queries += [" ".join(rng.choices(vocabulary, k=rng.randint(1, 3))) for _ in range(60)]
    queries += [word[: rng.randint(1, len(word))] for word in rng.choices(vocabulary, k=60)]
    queries = rng.sample(queries, 60)
    compared = highlighted = 0
    for card in cards:
        for texts in ([card.summary, card.body], ["", card.body], ["", ""], [card.summary]):
            source = SnippetSource(analyzer, texts)
            for query in queries:
                groups = analyzer.query_groups(query)
                wanted = frozenset().union(*groups)
                prefix = analyzer.last_word_prefix(query)
                for terms, last in ((wanted, prefix), (wanted, None), (frozenset(), prefix)):
                    expected = make_snippet(analyzer, texts, terms, last)
                    assert source.snippet(terms, last) == expected, (card.id, texts, query)
                    compared += 1
                    highlighted += bool(expected.highlights)
    assert highlighted > 300 and compared > highlighted
