"""A small in-memory `KnowledgePort` (topic keys + word overlap) until the kb package lands."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from agentdesk.ports import CardHit, CardSuggestion


@dataclass(frozen=True)
class InterimCard:
    slug: str
    title: str
    summary: str
    topics: tuple[str, ...] = ()  # IVR choices, intents or ticket categories that point here


def _fold(text: str) -> str:
    text = text.lower().replace("ł", "l")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w{4,}", _fold(text))}


class InterimKnowledge:
    def __init__(self, cards: list[InterimCard]) -> None:
        self.cards = cards

    async def suggest(self, request: dict[str, Any], language: str) -> list[CardSuggestion]:
        keys: list[tuple[str, str]] = []
        for kind in ("intent", "ticket_category", "kb_topic"):
            if value := request.get(kind):
                keys.append((kind, str(value)))
        for step in request.get("ivr_path") or []:
            if isinstance(step, dict) and step.get("step_id"):
                keys.append(("ivr", str(step["step_id"])))
        transcript_words = _words(request.get("transcript") or "")
        out = []
        for card in self.cards:
            reasons = [f"{kind} {key}" for kind, key in keys if key in card.topics]
            overlap = sorted(transcript_words & _words(card.title + " " + card.summary))
            if len(overlap) >= 1:
                reasons.append("transcript: " + ", ".join(overlap[:4]))
            if reasons:
                score = len(reasons) * 1.0 + 0.1 * len(overlap)
                out.append(
                    CardSuggestion(card.slug, card.title, "; ".join(reasons), score, card.summary)
                )
        return sorted(out, key=lambda s: (-s.score, s.slug))[:5]

    async def search(self, query: str, language: str, limit: int) -> list[CardHit]:
        wanted = _words(query) or ({_fold(query.strip())} if query.strip() else set())
        hits = []
        for card in self.cards:
            text = card.title + " " + card.summary
            have = _words(text)
            found = {w for w in wanted if any(h.startswith(w) for h in have)}
            if found:
                snippet = html.escape(card.summary[:160])
                hits.append(CardHit(card.slug, card.title, snippet, len(found) / len(wanted)))
        return sorted(hits, key=lambda h: (-h.score, h.slug))[:limit]
