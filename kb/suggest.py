"""Screen-pop suggestions: which cards fit a call, and why (topic match, transcript search)."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any

from kb.card import TopicKind
from kb.store import KnowledgeBase

# A precise signal (the caller's recognised intent) outweighs a coarse one (the IVR branch).
TOPIC_WEIGHTS = {TopicKind.INTENT: 3.0, TopicKind.TICKET_CATEGORY: 2.0, TopicKind.IVR_CHOICE: 1.0}
TRANSCRIPT_WEIGHT = 2.5
# The IVR's kb_topic may name a card outright (speech intents use card slugs).
NAMED_CARD_WEIGHT = 4.0


class ReasonKind(enum.StrEnum):
    TOPIC_MATCH = "topic-match"
    NAMED_CARD = "named-card"
    TRANSCRIPT_SEARCH = "transcript-search"


@dataclass(frozen=True)
class SuggestionRequest:
    """What is known about a call when it reaches an agent (the KB part of a routing request).

    `kb_topic` is the key the IVR step set (`kb_topic:` in the menus and speech intents); it is
    matched against `ivr-choice` topic keys and, when it is a card's slug, names that card.
    """

    kb_topic: str | None = None
    topics: tuple[str, ...] = ()
    intent: str | None = None
    ticket_category: str | None = None
    transcript: str | None = None
    language: str = "pl"

    @classmethod
    def from_routing(cls, request: Any) -> SuggestionRequest:
        """Read the fields from any routing-request-like object or mapping."""

        def value(name: str, *aliases: str) -> Any:
            for key in (name, *aliases):
                got = request.get(key) if isinstance(request, dict) else getattr(request, key, None)
                if got:
                    return got
            return None

        topics = value("topics", "ivr_choices") or ()
        if isinstance(topics, str):
            topics = (topics,)
        return cls(
            kb_topic=value("kb_topic"),
            topics=tuple(t for t in topics if isinstance(t, str)),
            intent=value("intent"),
            ticket_category=value("ticket_category", "category"),
            transcript=value("transcript", "speech_text"),
            language=value("language") or "pl",
        )

    def topic_links(self) -> list[tuple[TopicKind, str]]:
        keys = [self.kb_topic] if self.kb_topic else []
        keys += [key for key in self.topics if key not in keys]
        links = [(TopicKind.IVR_CHOICE, key) for key in keys]
        if self.intent:
            links.append((TopicKind.INTENT, self.intent))
        if self.ticket_category:
            links.append((TopicKind.TICKET_CATEGORY, self.ticket_category))
        return links


@dataclass(frozen=True)
class SuggestionReason:
    kind: ReasonKind
    detail: str
    weight: float


@dataclass(frozen=True)
class SuggestedArticle:
    slug: str
    title: str
    language: str


@dataclass(frozen=True)
class Suggestion:
    article: SuggestedArticle
    score: float
    reasons: tuple[SuggestionReason, ...] = field(default=())

    @property
    def reason(self) -> str:
        """The reasons in words, strongest first, e.g. 'intent id-card-lost; transcript: …'."""
        return "; ".join(r.detail for r in self.reasons)


async def suggest(
    kb: KnowledgeBase, request: SuggestionRequest | Any, *, limit: int = 5
) -> list[Suggestion]:
    """The best cards for a call with their reasons; in the caller's language if translated."""
    req = (
        request
        if isinstance(request, SuggestionRequest)
        else SuggestionRequest.from_routing(request)
    )
    found: dict[str, list[SuggestionReason]] = {}

    matches = await kb.topic_matches(req.topic_links())
    # A key that points at many cards says less about each of them.
    fan_out: dict[tuple[TopicKind, str], set[str]] = {}
    for m in matches:
        fan_out.setdefault((m.kind, m.topic_key), set()).add(m.translation_of or m.slug)
    for m in matches:
        weight = TOPIC_WEIGHTS[m.kind] / math.sqrt(len(fan_out[(m.kind, m.topic_key)]))
        detail = f"{m.kind.value} {m.topic_key}"
        found.setdefault(m.slug, []).append(
            SuggestionReason(ReasonKind.TOPIC_MATCH, detail, round(weight, 4))
        )

    if req.kb_topic and await kb.families([req.kb_topic]):
        found.setdefault(req.kb_topic, []).append(
            SuggestionReason(ReasonKind.NAMED_CARD, f"kb_topic {req.kb_topic}", NAMED_CARD_WEIGHT)
        )

    if req.transcript and req.transcript.strip():
        hits = await kb.search(req.transcript, limit=limit * 2)
        top = hits[0].score if hits else 0.0
        for hit in hits:
            weight = TRANSCRIPT_WEIGHT * hit.score / top if top else 0.0
            if weight < TRANSCRIPT_WEIGHT * 0.35:
                continue  # a weak match on one common word is noise on the screen-pop
            words = list(dict.fromkeys(hit.snippet.text[a:b] for a, b in hit.snippet.highlights))
            detail = "transcript" + (f": {', '.join(words[:4])}" if words else "")
            found.setdefault(hit.slug, []).append(
                SuggestionReason(ReasonKind.TRANSCRIPT_SEARCH, detail, round(weight, 4))
            )

    families = await kb.families(list(found))
    # Translations of one card share their topics: count each reason once per family.
    per_family: dict[str, dict[tuple[ReasonKind, str], SuggestionReason]] = {}
    members: dict[str, dict[str, tuple[str, str]]] = {}
    for slug, reasons in found.items():
        known = families.get(slug)
        family = known.original if known else slug
        members[family] = known.members if known else {}
        bucket = per_family.setdefault(family, {})
        for reason in reasons:
            key = (reason.kind, reason.detail)
            if key not in bucket or bucket[key].weight < reason.weight:
                bucket[key] = reason
    totals = [
        (round(sum(r.weight for r in bucket.values()), 4), family, bucket)
        for family, bucket in per_family.items()
    ]
    ranked = sorted(totals, key=lambda item: (-item[0], item[1]))[:limit]
    out = []
    for score, family, bucket in ranked:
        langs = members.get(family) or {}
        language = (
            req.language
            if req.language in langs
            else "pl"
            if "pl" in langs
            else next(iter(langs), req.language)
        )
        slug, title = langs.get(language, (family, family))
        ordered = tuple(sorted(bucket.values(), key=lambda r: (-r.weight, r.detail)))
        out.append(Suggestion(SuggestedArticle(slug, title, language), score, ordered))
    return out
