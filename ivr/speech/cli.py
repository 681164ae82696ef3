"""`kck speech …`: check the intents against the installed models, and try a recording."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from ivr.speech.intents import IntentSet, load_intent_file, load_intents
from ivr.speech.recogniser import SpeechRecogniser
from ivr.speech.vocabulary import VocabularyError, missing_words, read_model_vocabulary
from kck.errors import UserError
from kck.settings import Settings, settings_from


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    speech = sub.add_parser("speech", help="speech step: intents, vosk models, trying a recording")
    speech_sub = speech.add_subparsers(dest="speech_command", metavar="ACTION", required=True)

    check = speech_sub.add_parser(
        "check",
        help="validate config/intents/*.yaml and list intent words the configured models lack",
    )
    check.add_argument("--intents", type=Path, help="intents folder (default: speech.intents)")
    check.set_defaults(func=cmd_check)

    try_ = speech_sub.add_parser(
        "try", help="recognise a WAV file (8 kHz mono 16-bit) as the IVR would"
    )
    try_.add_argument("wav", type=Path)
    try_.add_argument("--language", default=None, help="default: centre.default_language")
    try_.add_argument(
        "--intents", type=Path, help="an intents file (default: <speech.intents>/<lang>.yaml)"
    )
    try_.add_argument(
        "--model", type=Path, help="a vosk model folder (default: speech.models.<lang>)"
    )
    try_.add_argument("--timeout", type=float, default=60.0)
    try_.add_argument("--json", action="store_true", help="print JSON")
    try_.set_defaults(func=cmd_try)


def _intent_sets(settings: Settings, folder: Path | None) -> dict[str, IntentSet]:
    return load_intents(folder or settings.path(settings.speech.intents))


def cmd_check(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    sets = _intent_sets(settings, args.intents)
    problems = 0
    for language, intents in sorted(sets.items()):
        model = settings.speech.models.get(language)
        phrases = len(intents.grammar())
        if model is None:
            print(
                f"{intents.source}: {len(intents.intents)} intents, {phrases} phrases; "
                f"no model configured (speech.models.{language}): callers get the DTMF menu"
            )
            continue
        try:
            vocabulary = read_model_vocabulary(settings.path(model))
        except VocabularyError as exc:
            print(f"kck: error: {exc}", file=sys.stderr)
            problems += 1
            continue
        missing = missing_words(intents, vocabulary)
        for word in missing:
            print(str(word), file=sys.stderr)
        problems += len(missing)
        print(
            f"{intents.source}: {len(intents.intents)} intents, {phrases} phrases; "
            f"model {model}: {len(vocabulary)} words, {len(missing)} intent words missing"
        )
    return 1 if problems else 0


def cmd_try(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    language = args.language or settings.centre.default_language
    intents = (
        load_intent_file(args.intents)
        if args.intents
        else load_intent_file(settings.path(settings.speech.intents) / f"{language}.yaml")
    )
    model = args.model or settings.speech.models.get(language)
    if model is None:
        raise UserError(
            f"no vosk model for {language!r}: give --model or set speech.models.{language}"
        )
    recogniser = SpeechRecogniser({language: settings.path(model)}, workers=1)

    async def run() -> int:
        try:
            await recogniser.start()
            result = await recogniser.recognise_intent(
                args.wav, language, intents, timeout=args.timeout
            )
        finally:
            await recogniser.stop()
        summary = {
            "reason": result.reason.value,
            "intent": result.intent.id if result.intent else None,
            "next_step": result.intent.next_step if result.intent else None,
            "confidence": result.confidence,
            "needs_confirmation": result.needs_confirmation,
            "transcript": result.transcript,
            "words": [[w.word, round(w.confidence, 3)] for w in result.words],
            "audio_seconds": round(result.audio_seconds, 3),
            "decode_seconds": round(result.decode_seconds, 3),
            "detail": result.detail,
        }
        if args.json:
            print(json.dumps(summary, ensure_ascii=False, indent=1))
        else:
            for key, value in summary.items():
                print(f"{key:>18}: {value}")
        return 0 if result.intent is not None else 2

    return asyncio.run(run())
