"""Search: Polish inflections, missing diacritics, ranking and snippets — same tests on both backends."""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from kb import KnowledgeBase, Language, SearchHit, ServiceCard


def slugs(hits: list[SearchHit]) -> list[str]:
    return [hit.slug for hit in hits]


class CardBase(TypedDict):
    """The fields the ranking test's cards share (passed as `**base`)."""

    unit: str
    unit_name: str
    owner: str
    last_reviewed: date
    review_due: date


POLISH_QUERIES = [
    ("dowodu", "dowod-osobisty-wydanie"),
    ("dowod osobisty", "dowod-osobisty-wydanie"),
    ("DOWÓD OSOBISTY", "dowod-osobisty-wydanie"),
    ("zgubiłem dowód", "dowod-osobisty-utrata"),
    ("zgubilem dowod", "dowod-osobisty-utrata"),
    ("dziura na drodze", "drogi-dziura-w-jezdni"),
    ("zgłoszenie dziury w drodze", "drogi-dziura-w-jezdni"),
    ("zgloszenie dziury w drodze", "drogi-dziura-w-jezdni"),
    ("smieci nie zostaly odebrane", "odpady-reklamacja-odbioru"),
    ("wyrejestrowanie samochodu", "pojazd-wyrejestrowanie"),
    ("podatek od nieruchomosci", "podatek-od-nieruchomosci"),
    ("latarnia nie swieci", "oswietlenie-awaria"),
    ("wymiana pieca", "srodowisko-wymiana-pieca"),
    ("karta duzej rodziny", "mops-karta-duzej-rodziny"),
    ("przewrócone drzewo", "zielen-powalone-drzewo"),
    ("zakłócanie ciszy nocnej", "straz-miejska-halas"),
]


async def test_polish_queries_find_the_right_card_in_the_top_three(seeded: KnowledgeBase) -> None:
    missed = {}
    for query, expected in POLISH_QUERIES:
        found = slugs(await seeded.search(query, limit=3))
        if expected not in found:
            missed[query] = found
    assert missed == {}


async def test_inflected_query_puts_the_id_card_cards_first(seeded: KnowledgeBase) -> None:
    hits = await seeded.search("dowodu", limit=3)
    assert set(slugs(hits)) == {
        "dowod-osobisty-wydanie",
        "dowod-osobisty-utrata",
        "dowod-osobisty-tymczasowy",
    }


async def test_snippet_highlights_the_inflected_words_as_written(seeded: KnowledgeBase) -> None:
    hit = (await seeded.search("dziura na drodze", limit=1))[0]
    marked = [hit.snippet.text[a:b] for a, b in hit.snippet.highlights]
    assert "dziury" in marked and "drodze" in marked
    assert "[dziury]" in hit.snippet.marked()
    assert "<mark>dziury</mark>" in hit.snippet.html()


async def test_title_match_ranks_above_body_match(seeded: KnowledgeBase) -> None:
    base = CardBase(
        unit="test",
        unit_name="Test",
        owner="t",
        last_reviewed=date(2026, 1, 1),
        review_due=date(2027, 1, 1),
    )
    await seeded.save(
        ServiceCard(id="w-tytule", title="Kwiaciarnia miejska", body="Nic.", **base), author="t"
    )
    await seeded.save(
        ServiceCard(
            id="w-tresci",
            title="Inna sprawa",
            body="Tu jest też kwiaciarnia, dwa razy: kwiaciarnia.",
            **base,
        ),
        author="t",
    )
    await seeded.save(
        ServiceCard(
            id="w-slowach", title="Trzecia sprawa", keywords=("kwiaciarnie",), body="Nic.", **base
        ),
        author="t",
    )
    hits = await seeded.search("kwiaciarni")
    assert slugs(hits)[:3] == ["w-tytule", "w-slowach", "w-tresci"]
    assert hits[0].matched_fields == ("title",)
    assert hits[0].score > hits[1].score > hits[2].score


async def test_prefix_of_the_word_being_typed_matches(seeded: KnowledgeBase) -> None:
    hits = await seeded.search("wyrejestr", limit=3)
    assert "pojazd-wyrejestrowanie" in slugs(hits)
    # once the word is finished (a space typed) it is a whole word again: no prefix guess
    assert await seeded.search("wyrejestr ") == []


async def test_language_filter_and_non_polish_cards(seeded: KnowledgeBase) -> None:
    hits = await seeded.search("ID card", language=Language.EN.value, limit=3)
    assert slugs(hits)[0] == "id-card-application-en"
    assert all(hit.language == "en" for hit in hits)
    uk = await seeded.search("квиток", limit=3)
    assert slugs(uk)[0] == "transport-tickets-uk"


async def test_empty_or_syntax_like_queries_do_not_break_search(seeded: KnowledgeBase) -> None:
    for query in ["", "   ", "na w z", '"', "(((", "🙂", "a'b\"c:*|&!", "-x", "NEAR(a b)"]:
        assert isinstance(await seeded.search(query), list), query
    assert await seeded.search("") == []
    hits = await seeded.search('dowód" AND OR NOT * ":', limit=3)
    assert any(hit.slug.startswith("dowod-osobisty") for hit in hits)


async def test_search_sees_edits_immediately(seeded: KnowledgeBase) -> None:
    card = (await seeded.get("kultura-imprezy-i-dotacje")).card
    assert await seeded.search("hulajnoga") == []
    await seeded.save(
        card.model_copy(update={"keywords": (*card.keywords, "hulajnoga")}), author="t"
    )
    assert slugs(await seeded.search("hulajnogi")) == ["kultura-imprezy-i-dotacje"]
    await seeded.save(card, author="t")
    assert await seeded.search("hulajnoga") == []


def bare_card(slug: str, title: str, body: str = "") -> ServiceCard:
    return ServiceCard(
        id=slug,
        title=title,
        unit="test",
        unit_name="Test",
        owner="t",
        body=body,
        last_reviewed=date(2026, 1, 1),
        review_due=date(2027, 1, 1),
    )


async def test_issue_examples_on_titles_alone(kb: KnowledgeBase) -> None:
    await kb.save(bare_card("dowod", "Dowód osobisty"), author="t")
    await kb.save(bare_card("dziura", "Zgłoszenie dziury w drodze"), author="t")
    await kb.save(bare_card("inne", "Koszenie trawników", "Trawa w parku."), author="t")
    assert slugs(await kb.search("dowodu")) == ["dowod"]
    assert slugs(await kb.search("dziura na drodze")) == ["dziura"]
    assert slugs(await kb.search("zgloszenie dziury")) == ["dziura"]
    assert slugs(await kb.search("ZGŁOSZENIA")) == ["dziura"]


async def test_l_with_stroke_is_folded_at_index_and_query_time(kb: KnowledgeBase) -> None:
    await kb.save(bare_card("lawki", "Połamane ławki w parku", "Zgłoś złamaną ławkę."), author="t")
    for query in ["ławki", "lawki", "polamane lawki", "złamana ławka", "zlamana lawka"]:
        assert slugs(await kb.search(query)) == ["lawki"], query
    hit = (await kb.search("lawka"))[0]
    assert [hit.snippet.text[a:b] for a, b in hit.snippet.highlights] == ["ławkę"]
