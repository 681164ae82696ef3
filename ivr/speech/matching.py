"""From recognised words (with vosk's confidences) to an intent, or to a reasoned refusal.

vosk's grammar is a loop over the grammar's words, and a model without `[unk]` forces speech
outside the grammar onto them: a caller asking about the weather comes out as a string of intent
words, often with high word confidences. So a phrase counts only when its words come out in order,
and the confidence is discounted by how much of what was heard the phrase explains.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ivr.speech.intents import Intent, IntentSet


@dataclass(frozen=True)
class RecognisedWord:
    """One word from vosk (`SetWords(True)`): its text, confidence 0..1 and times in seconds."""

    word: str
    confidence: float
    start: float
    end: float


class MatchVerdict(Enum):
    ACCEPTED = "accepted"
    CONFIRM = "confirm"  # plausible: ask the caller "did you mean …?"
    NO_SPEECH = "no_speech"  # nothing recognised at all
    NO_MATCH = "no_match"  # words, but no intent phrase among them
    LOW_CONFIDENCE = "low_confidence"  # a phrase, but too weakly heard


@dataclass(frozen=True)
class IntentMatch:
    verdict: MatchVerdict
    intent: Intent | None
    confidence: float  # mean confidence of the phrase's words × share of the words it explains
    matched_phrase: str | None


def _occurrences(words: list[str], phrase: list[str]) -> list[int]:
    n = len(phrase)
    return [i for i in range(len(words) - n + 1) if words[i : i + n] == phrase]


def match_intent(words: tuple[RecognisedWord, ...], intents: IntentSet) -> IntentMatch:
    """The best intent for the words; ties go to the intent listed first in the file."""
    if not words:
        return IntentMatch(MatchVerdict.NO_SPEECH, None, 0.0, None)
    texts = [w.word for w in words]
    best: tuple[float, Intent, str] | None = None
    for intent in intents.intents:
        covered: set[int] = set()
        phrase_hit: str | None = None
        # Longest phrases first, so "mandat za parkowanie" claims its words before "parkowanie".
        for phrase in sorted(intent.phrases, key=lambda p: -len(p.split())):
            parts = phrase.split()
            for start in _occurrences(texts, parts):
                span = set(range(start, start + len(parts)))
                if span & covered:
                    continue
                covered |= span
                phrase_hit = phrase_hit or phrase
        if not covered:
            continue
        mean = sum(words[i].confidence for i in covered) / len(covered)
        score = mean * len(covered) / len(words)
        if best is None or score > best[0]:
            best = (score, intent, phrase_hit or "")
    if best is None:
        return IntentMatch(MatchVerdict.NO_MATCH, None, 0.0, None)
    score, intent, phrase = best
    score = round(score, 4)
    if score >= intents.thresholds.accept:
        verdict = MatchVerdict.ACCEPTED
    elif score >= intents.thresholds.confirm:
        verdict = MatchVerdict.CONFIRM
    else:
        verdict = MatchVerdict.LOW_CONFIDENCE
    return IntentMatch(verdict, intent, score, phrase)
