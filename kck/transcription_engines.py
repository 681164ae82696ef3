"""The engine that transcribes a recording, chosen by the call's language from
`recordings.transcription.engines` (vosk or whisper); a language without one fails with a
message naming the setting, and its recording stays untranscribed (a `failed` transcript,
shown as such and retried from the supervisors' view once configured)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ivr.speech.recogniser import SpeechRecogniser
from kck.recording_feed import SpeechTranscriber
from kck.settings import Settings
from recordings.transcription import Heard, Transcriber
from recordings.whisper_decode import WhisperTranscriber


class NoEngine(LookupError):
    def __init__(self, language: str, configured: tuple[str, ...]) -> None:
        have = ", ".join(configured) or "none"
        super().__init__(
            f"no transcription engine for language {language!r} (configured: {have}): set "
            f"recordings.transcription.engines.{language} (kind vosk with a model folder, or "
            "kind whisper)"
        )


class EngineByLanguage:
    """The recordings' `Transcriber`: hands each recording to its language's engine."""

    def __init__(self, engines: Mapping[str, Transcriber]) -> None:
        self.engines = dict(engines)

    async def transcribe(self, path: Path, language: str) -> Heard:
        engine = self.engines.get(language)
        if engine is None:
            raise NoEngine(language, tuple(sorted(self.engines)))
        return await engine.transcribe(path, language)

    async def stop(self) -> None:
        for engine in {id(e): e for e in self.engines.values()}.values():
            await engine.stop()


def engines_from_settings(settings: Settings) -> EngineByLanguage | None:
    """The configured engines (vosk models share one pool of worker processes, as do whisper
    models); None when transcription is off or no language has an engine. Without
    `recordings.transcription.engines`, the vosk models of `speech.models` are used."""
    recordings = settings.recordings
    if not recordings.transcribe:
        return None
    workers = recordings.transcription.concurrency
    configured = recordings.transcription.engines
    vosk = {
        lang: settings.path(engine.model)
        for lang, engine in configured.items()
        if engine.kind == "vosk" and engine.model is not None
    }
    if not configured:
        vosk = {lang: settings.path(path) for lang, path in settings.speech.models.items()}
    engines: dict[str, Transcriber] = {}
    if vosk:
        shared = SpeechTranscriber(SpeechRecogniser(vosk, workers=workers, preload=False))
        engines |= dict.fromkeys(vosk, shared)
    whisper_langs = [lang for lang, e in configured.items() if e.kind == "whisper"]
    whispers: dict[Path, WhisperTranscriber] = {}
    for lang in whisper_langs:
        model = configured[lang].model
        folder = settings.path(model) if model is not None else whisper_default(settings)
        engines[lang] = whispers.setdefault(
            folder, WhisperTranscriber(folder, packaged=model is None, workers=workers)
        )
    return EngineByLanguage(engines) if engines else None


def whisper_default(settings: Settings) -> Path:
    """Where the packaged Whisper base is joined at the first recording: var/models/whisper-base."""
    return settings.var_dir / "models" / "whisper-base"
