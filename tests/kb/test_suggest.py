"""Screen-pop suggestions: topic keys and transcripts lead to cards, with reasons (both backends)."""

from __future__ import annotations

from dataclasses import dataclass

from kb import KnowledgeBase, ReasonKind, SuggestionRequest, suggest


async def test_intent_picks_the_one_card_and_says_why(seeded: KnowledgeBase) -> None:
    out = await suggest(seeded, SuggestionRequest(topics=("id-card",), intent="id-card-lost"))
    assert out[0].article.slug == "dowod-osobisty-utrata"
    assert out[0].reason.startswith("intent id-card-lost")
    assert {r.kind for r in out[0].reasons} == {ReasonKind.TOPIC_MATCH}
    # the IVR branch alone also brings the other id-card cards, lower
    rest = [s.article.slug for s in out[1:]]
    assert "dowod-osobisty-wydanie" in rest and "dowod-osobisty-tymczasowy" in rest
    assert all(s.score < out[0].score for s in out[1:])


async def test_transcript_alone_finds_the_card(seeded: KnowledgeBase) -> None:
    out = await suggest(
        seeded,
        SuggestionRequest(transcript="dzień dobry, na mojej ulicy jest wielka dziura na drodze"),
    )
    assert out[0].article.slug == "drogi-dziura-w-jezdni"
    assert out[0].reasons[0].kind is ReasonKind.TRANSCRIPT_SEARCH
    assert "dziura" in out[0].reason or "dziury" in out[0].reason


async def test_topic_and_transcript_agree_and_add_up(seeded: KnowledgeBase) -> None:
    request = SuggestionRequest(
        topics=("waste",),
        ticket_category="waste-collection",
        transcript="śmieci nie zostały odebrane",
    )
    out = await suggest(seeded, request)
    top = out[0]
    assert top.article.slug == "odpady-reklamacja-odbioru"
    kinds = {r.kind for r in top.reasons}
    assert kinds == {ReasonKind.TOPIC_MATCH, ReasonKind.TRANSCRIPT_SEARCH}
    assert top.score == round(sum(r.weight for r in top.reasons), 4)


async def test_caller_language_picks_the_translation(seeded: KnowledgeBase) -> None:
    out = await suggest(seeded, SuggestionRequest(intent="id-card-apply", language="en"))
    assert out[0].article.slug == "id-card-application-en"
    assert out[0].article.language == "en"
    # one family, one suggestion: the Polish original is not listed again
    assert "dowod-osobisty-wydanie" not in [s.article.slug for s in out]
    uk = await suggest(seeded, SuggestionRequest(intent="id-card-apply", language="uk"))
    assert uk[0].article.slug == "dowod-osobisty-wydanie"  # no Ukrainian version: Polish


async def test_transcript_hit_on_a_translation_counts_for_its_family(seeded: KnowledgeBase) -> None:
    out = await suggest(seeded, SuggestionRequest(transcript="квиток на трамвай", language="pl"))
    assert out[0].article.slug == "transport-bilety"


async def test_nothing_known_gives_no_suggestion(seeded: KnowledgeBase) -> None:
    assert await suggest(seeded, SuggestionRequest()) == []
    assert (
        await suggest(seeded, SuggestionRequest(topics=("no-such-topic",), transcript="   ")) == []
    )


@dataclass(frozen=True)
class RoutingRequestLike:
    skills: dict[str, int]
    language: str
    intent: str | None
    kb_topic: str | None


async def test_routing_request_like_objects_and_mappings_are_accepted(
    seeded: KnowledgeBase,
) -> None:
    routing = RoutingRequestLike(
        {"vehicles": 1}, "pl", "vehicle-deregistration", "vehicle-registration"
    )
    out = await suggest(seeded, routing, limit=2)
    assert out[0].article.slug == "pojazd-wyrejestrowanie"
    assert len(out) == 2
    mapped = await suggest(seeded, {"category": "roads-report", "language": "pl"})
    assert {s.article.slug for s in mapped} >= {"drogi-dziura-w-jezdni", "drogi-uszkodzony-chodnik"}


@dataclass(frozen=True)
class IVRStepLike:
    step: str
    choice: str


@dataclass(frozen=True)
class RoutingRequestAsTheIVRSendsIt:
    """The fields of ivr.routing.RoutingRequest that matter here (see config/menus)."""

    language: str
    ivr_path: list[IVRStepLike]
    intent: str | None
    transcript: str | None
    kb_topic: str | None
    ticket_category: str | None


async def test_menu_kb_topic_and_ticket_category_from_the_shipped_menus_find_cards(
    seeded: KnowledgeBase,
) -> None:
    pothole = RoutingRequestAsTheIVRSendsIt(
        "pl", [IVRStepLike("problems", "1")], None, None, "report-roads", "roads_pavements"
    )
    out = await suggest(seeded, pothole)
    assert out[0].article.slug in {"drogi-dziura-w-jezdni", "drogi-uszkodzony-chodnik"}
    assert "ivr-choice report-roads" in out[0].reason
    assert "ticket-category roads_pavements" in out[0].reason

    bench = RoutingRequestAsTheIVRSendsIt(
        "pl", [], None, None, "report-small-architecture", "small_architecture"
    )
    assert (await suggest(seeded, bench))[0].article.slug == "mala-architektura-uszkodzenia"


async def test_speech_intent_kb_topic_naming_a_card_opens_that_card(seeded: KnowledgeBase) -> None:
    heard = RoutingRequestAsTheIVRSendsIt(
        "pl", [], "taxes", "podatek od nieruchomości", "podatek-od-nieruchomosci", None
    )
    out = await suggest(seeded, heard)
    assert out[0].article.slug == "podatek-od-nieruchomosci"
    assert out[0].reasons[0].kind is ReasonKind.NAMED_CARD
    kinds = {r.kind for r in out[0].reasons}
    assert kinds == {ReasonKind.NAMED_CARD, ReasonKind.TOPIC_MATCH, ReasonKind.TRANSCRIPT_SEARCH}
