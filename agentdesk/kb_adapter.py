"""The knowledge base package behind the desk's `KnowledgePort`: suggestions and live search."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from agentdesk.ports import CardHit, CardSuggestion
from kb import ArticleNotFound, KnowledgeBase, suggest

log = logging.getLogger(__name__)

SUGGESTIONS_SHOWN = 3


class KbKnowledge:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    async def suggest(self, request: dict[str, Any], language: str) -> list[CardSuggestion]:
        found = await suggest(self.kb, request, limit=SUGGESTIONS_SHOWN)
        out = []
        for s in found:
            summary = ""
            # withdrawn between the two reads: show the title alone
            with contextlib.suppress(ArticleNotFound):
                summary = (await self.kb.get(s.article.slug)).card.summary
            out.append(CardSuggestion(s.article.slug, s.article.title, s.reason, s.score, summary))
        return out

    async def search(self, query: str, language: str, limit: int) -> list[CardHit]:
        hits = await self.kb.search(query, limit=limit)
        return [CardHit(h.slug, h.title, h.snippet.html(), h.score) for h in hits]
