"""The knowledge base package behind the desk's `KnowledgePort`: suggestions and live search."""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any

from agentdesk.i18n import code_in_words, translate
from agentdesk.ports import CardHit, CardSuggestion
from agentdesk.shared_results import SharedResults
from kb import (
    ArticleNotFound,
    KnowledgeBase,
    ReasonKind,
    SuggestionReason,
    SuggestionRequest,
    suggest,
)

log = logging.getLogger(__name__)

SUGGESTIONS_SHOWN = 3
_HEADING = re.compile(r"^#+\s*", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*]\s+", re.MULTILINE)
_EMPHASIS = re.compile(r"\*\*|__|`")


def readable(markdown: str) -> str:
    """A card's Markdown as the desk shows it (plain text, lines kept): no `#`, `**` or `-`
    marks; list items as bullets."""
    return _BULLET.sub("\\1• ", _HEADING.sub("", _EMPHASIS.sub("", markdown))).strip()


# How long the suggestions for one topic are reused: a card published by another process is on
# the pops from this many seconds later (the bound of the search index's check, kb.memory_search);
# one published in this process, at once.
SUGGESTIONS_KEPT_S = 2.0


class KbKnowledge:
    def __init__(
        self, kb: KnowledgeBase, *, suggestions_kept_s: float = SUGGESTIONS_KEPT_S
    ) -> None:
        self.kb = kb
        # Pops for calls on the same topic (IVR choice, intent, category, menu version, caller's
        # and agent's language) get the same suggestions: worked out once for a burst of them.
        self._suggestions: SharedResults[tuple[Any, ...], list[CardSuggestion]] = SharedResults(
            suggestions_kept_s
        )

    async def suggest(self, request: dict[str, Any], language: str) -> list[CardSuggestion]:
        key = (
            SuggestionRequest.from_routing(request),
            str(request.get("menu_version") or ""),
            language,
            self.kb.saves_seen(),  # a card saved in this process: worked out again at once
        )
        return await self._suggestions.get(key, lambda: self._suggest(request, language))

    async def _suggest(self, request: dict[str, Any], language: str) -> list[CardSuggestion]:
        found = await suggest(self.kb, request, limit=SUGGESTIONS_SHOWN)
        out = []
        for s in found:
            summary = ""
            # withdrawn between the two reads: show the title alone
            with contextlib.suppress(ArticleNotFound):
                summary = (await self.kb.get(s.article.slug)).card.summary
            words = "; ".join(reason_in_words(r, language) for r in s.reasons)
            out.append(
                CardSuggestion(s.article.slug, s.article.title, words, s.score, summary, s.reason)
            )
        return out

    async def search(self, query: str, language: str, limit: int) -> list[CardHit]:
        """Cards in `language` (the caller's) first; all languages when it has none that match."""
        hits = await self.kb.search(query, language=language, limit=limit)
        if not hits:
            hits = await self.kb.search(query, limit=limit)
        return [CardHit(h.slug, h.title, h.snippet.html(), h.score) for h in hits]

    async def card(self, slug: str, language: str) -> dict[str, Any] | None:
        family = (await self.kb.families([slug])).get(slug)
        if family is None:
            return None
        translated = family.members.get(language)
        try:
            card = (await self.kb.get(translated[0] if translated else slug)).card
        except ArticleNotFound:
            return None
        return {
            "slug": card.id,
            "language": card.language.value,
            "title": card.title,
            "summary": card.summary,
            "unit": card.unit,
            "unit_name": card.unit_name,
            "who_may_apply": card.who_may_apply,
            "documents": list(card.documents),
            "fees": card.fees,
            "deadlines": card.deadlines,
            "where": card.where,
            "hours": card.hours,
            "online": list(card.online),
            "legal_basis": list(card.legal_basis),
            "body": readable(card.body),
            "last_reviewed": card.last_reviewed.isoformat(),
        }


def reason_in_words(reason: SuggestionReason, language: str) -> str:
    """Why a card is suggested, as the agent reads it; the topic keys stay in the tooltip."""
    if reason.kind is ReasonKind.NAMED_CARD:
        return translate(language, "suggestion.named-card")
    if reason.kind is ReasonKind.TRANSCRIPT_SEARCH:
        words = reason.detail.partition(": ")[2]
        return translate(language, "suggestion.transcript", words=words or "…")
    topic, _, key = reason.detail.partition(" ")  # 'ivr-choice waste', 'intent fallen-tree'
    if topic == "ticket-category":
        category = code_in_words(language, "category", key)
        return translate(language, "suggestion.ticket-category", category=category)
    return code_in_words(language, "suggestion", topic)
