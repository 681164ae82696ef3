"""`kck prompts build`: speak every prompt text with espeak-ng into 8 kHz mono 16-bit WAV for Asterisk.

Files go to <sounds>/<language>/<sound>.wav: the menu's prompts, and for every menu language the
number words of `kck.spoken_numbers` (<sounds>/<language>/num/<token>.wav). A manifest
(.kck-prompts.json) remembers the hash of the text each file was made from, so a rebuild only redoes
changed texts; a file that is not in the manifest is a real recording and is never overwritten.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ivr.loader import MenuSet
from ivr.validation import SoundExists
from kck.errors import UserError
from kck.spoken_numbers import number_words

MANIFEST = ".kck-prompts.json"
VOICES = {"pl": "pl", "en": "en-gb", "uk": "uk"}
SPEED_WPM = "150"
# espeak-ng ends each word with ~0.4 s of silence; a number said word by word ("dwadzieścia" +
# "dwie" + "minuty") flows when that is cut to a short pause (sox effects, after the conversion)
WORD_TAIL_S = "0.08"
_TRIM_TAIL = ("reverse", "silence", "1", "0.02", "0.5%", "reverse", "pad", "0", WORD_TAIL_S)


class PromptToolsMissing(UserError):
    """espeak-ng or sox is not installed."""


@dataclass(frozen=True)
class PromptJob:
    language: str
    sound: str
    text: str
    word: bool = False  # one word of a spoken number: its trailing silence is trimmed

    @property
    def key(self) -> str:
        return f"{self.language}/{self.sound}"

    @property
    def digest(self) -> str:
        voice = VOICES.get(self.language, self.language)
        made = f"{voice}|{SPEED_WPM}|{self.text}" + (f"|tail {WORD_TAIL_S}" if self.word else "")
        return hashlib.sha256(made.encode()).hexdigest()


@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    recordings_kept: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def prompt_jobs(menu: MenuSet, languages: tuple[str, ...] | None = None) -> list[PromptJob]:
    wanted = languages or menu.header.languages
    jobs: list[PromptJob] = []
    for name, prompt in menu.prompts.items():
        for language in wanted:
            text = prompt.text.get(language)  # type: ignore[call-overload]
            if text:
                jobs.append(PromptJob(language, prompt.sound or name, text))
    for language in wanted:
        for sound, text in number_words(language).items():
            jobs.append(PromptJob(language, sound, text, word=True))
    return jobs


def sound_file(sounds_dir: Path, language: str, sound: str) -> Path:
    return sounds_dir / language / f"{sound}.wav"


def _read_manifest(sounds_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((sounds_dir / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_manifest(sounds_dir: Path, manifest: dict[str, str]) -> None:
    sounds_dir.mkdir(parents=True, exist_ok=True)
    tmp = sounds_dir / f"{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, sounds_dir / MANIFEST)


async def _run(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(
            f"{args[0]} exited {process.returncode}: {err.decode(errors='replace').strip()[:200]}"
        )


async def _speak(job: PromptJob, target: Path) -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, lambda: target.parent.mkdir(parents=True, exist_ok=True))
    folder = await loop.run_in_executor(None, lambda: tempfile.mkdtemp(prefix="kck-prompt-"))
    try:
        raw = Path(folder) / "raw.wav"
        out = Path(folder) / "out.wav"
        voice = VOICES.get(job.language, job.language)
        await _run("espeak-ng", "-v", voice, "-s", SPEED_WPM, "-w", str(raw), "--", job.text)
        effects = _TRIM_TAIL if job.word else ()
        await _run("sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out), *effects)
        await loop.run_in_executor(None, lambda: shutil.move(out, target))
    finally:
        await loop.run_in_executor(None, lambda: shutil.rmtree(folder, ignore_errors=True))


async def build_prompts(
    menu: MenuSet,
    sounds_dir: Path,
    *,
    languages: tuple[str, ...] | None = None,
    force: bool = False,
    concurrency: int = 2,
) -> BuildReport:
    """Make the missing or outdated sound files; never overwrite real recordings."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise PromptToolsMissing(f"`{tool}` not found: apt-get install espeak-ng sox")
    loop = asyncio.get_running_loop()
    manifest = await loop.run_in_executor(None, _read_manifest, sounds_dir)
    report = BuildReport()
    todo: list[PromptJob] = []
    for job in prompt_jobs(menu, languages):
        target = sound_file(sounds_dir, job.language, job.sound)
        exists = await loop.run_in_executor(None, target.exists)
        if exists and job.key not in manifest:
            report.recordings_kept.append(job.key)
        elif exists and manifest.get(job.key) == job.digest and not force:
            report.unchanged.append(job.key)
        else:
            todo.append(job)
    limit = asyncio.Semaphore(concurrency)

    async def one(job: PromptJob) -> None:
        async with limit:
            try:
                await _speak(job, sound_file(sounds_dir, job.language, job.sound))
            except (OSError, RuntimeError) as exc:
                report.failed.append((job.key, str(exc)))
                return
            manifest[job.key] = job.digest
            report.built.append(job.key)

    await asyncio.gather(*(one(job) for job in todo))
    await loop.run_in_executor(None, _write_manifest, sounds_dir, manifest)
    return report


def sound_exists_in(sounds_dir: Path) -> SoundExists:
    """A SoundExists callback for validation: a recording under <sounds>/<language>/<sound>.wav."""

    def exists(language: str, sound: str) -> bool:
        return sound_file(sounds_dir, language, sound).exists()

    return exists
