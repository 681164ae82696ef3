"""The knowledge-base search corpus of bench/kb_search.py: the seed cards' folder, cards made of
their words, and queries typed letter by letter (shared by the benchmark and the tests)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from kb import ServiceCard, TopicKind

SEED = Path(__file__).resolve().parents[2] / "config" / "kb"
QUERIES = [
    "dowodu osobistego",
    "zgubiłem dowód",
    "dziura na drodze",
    "zgloszenie dziury w drodze",
    "smieci nie zostaly odebrane",
    "wyrejestrowanie samochodu",
    "podatek od nieruchomosci raty",
    "latarnia nie swieci",
    "dotacja na wymiane pieca",
    "karta duzej rodziny",
    "przewrócone drzewo na ulicy",
    "meldunek na pobyt czasowy",
    "zapisy do przedszkola",
    "abonament mieszkanca parkowanie",
]


def typed_prefixes(query: str) -> list[str]:
    """What the search box holds after each keystroke from the third letter on."""
    return [query[:i] for i in range(3, len(query) + 1)]


def generated_cards(
    seed_cards: list[ServiceCard], count: int, rng: random.Random
) -> list[ServiceCard]:
    """Cards built from the seed set's own words, so queries meet many of them (a hard case)."""
    words = [
        w for card in seed_cards for w in (card.body + " " + card.summary).split() if w.isalpha()
    ]
    units = sorted({card.unit for card in seed_cards})
    topics = sorted({key for card in seed_cards for key in card.topics.get(TopicKind.INTENT, ())})
    cards = []
    for i in range(count):
        body_words = rng.choices(words, k=rng.randint(80, 400))
        paragraphs = [" ".join(body_words[j : j + 40]) + "." for j in range(0, len(body_words), 40)]
        reviewed = date(2025, 1, 1) + timedelta(days=rng.randint(0, 600))
        cards.append(
            ServiceCard(
                id=f"gen-{i:05d}",
                title=" ".join(rng.choices(words, k=rng.randint(3, 8))).capitalize(),
                unit=rng.choice(units),
                unit_name="Wydział generowany",
                summary=" ".join(rng.choices(words, k=15)),
                keywords=tuple(rng.choices(words, k=6)),
                topics={TopicKind.INTENT: (rng.choice(topics),)},
                owner="bench",
                last_reviewed=reviewed,
                review_due=reviewed + timedelta(days=180),
                body="\n\n".join(paragraphs),
            )
        )
    return cards
