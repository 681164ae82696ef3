"""Import and export of a folder of service-card Markdown files (`kck kb import/export`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from kb.card import ServiceCard
from kb.cardfile import parse_card, render_card
from kb.errors import CardFileError, DuplicateSlug, KnowledgeBaseError
from kb.store import KnowledgeBase


class ImportRefused(KnowledgeBaseError):
    """Some files of the folder are broken; nothing was imported. Lists every problem."""

    def __init__(self, folder: Path, problems: list[str]):
        self.problems = problems
        listing = "\n  ".join(problems)
        super().__init__(f"{folder}: {len(problems)} problem(s), nothing imported:\n  {listing}")


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)


def read_folder(folder: Path) -> list[tuple[Path, ServiceCard]]:
    """Every `*.md` card under `folder` (blocking: run it in an executor from async code)."""
    if not folder.is_dir():
        raise ImportRefused(folder, [f"{folder}: not a folder"])
    cards: list[tuple[Path, ServiceCard]] = []
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in sorted(folder.rglob("*.md")):
        try:
            card = parse_card(path.read_text(encoding="utf-8"), str(path))
        except CardFileError as exc:
            problems.append(str(exc))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read: {exc}")
            continue
        if card.id in seen:
            problems.append(
                str(DuplicateSlug(f"{path}: id '{card.id}' is already used by {seen[card.id]}"))
            )
            continue
        seen[card.id] = path
        cards.append((path, card))
    if problems:
        raise ImportRefused(folder, problems)
    return cards


def cross_reference_warnings(cards: list[ServiceCard], known: set[str]) -> list[str]:
    """Related or translated slugs that point at no article."""
    warnings = []
    for card in cards:
        for slug in card.related:
            if slug not in known:
                warnings.append(f"{card.id}: related article '{slug}' does not exist")
        if card.translation_of and card.translation_of not in known:
            warnings.append(f"{card.id}: translation_of '{card.translation_of}' does not exist")
    return warnings


async def import_folder(kb: KnowledgeBase, folder: Path, *, author: str) -> ImportReport:
    """Load every card of `folder`, all or nothing; unchanged cards get no new revision."""
    loop = asyncio.get_running_loop()
    loaded = await loop.run_in_executor(None, read_folder, folder)
    report = ImportReport()
    # One transaction: a failure half-way leaves the knowledge base as it was.
    results = await kb.save_many(
        [card for _, card in loaded], author=author, note=f"import from {folder.name or folder}"
    )
    for result in results:
        if result.created:
            report.created.append(result.slug)
        elif result.changed:
            report.updated.append(result.slug)
        else:
            report.unchanged.append(result.slug)
    known = {card.id for card in await kb.cards()}
    report.warnings = cross_reference_warnings([card for _, card in loaded], known)
    return report


def write_cards(folder: Path, cards: list[ServiceCard]) -> list[Path]:
    """Write `<folder>/<language>/<slug>.md` for each card (blocking)."""
    written = []
    for card in cards:
        path = folder / card.language.value / f"{card.id}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_card(card), encoding="utf-8")
        written.append(path)
    return written


async def export_folder(kb: KnowledgeBase, folder: Path) -> list[Path]:
    """Write the current content of every article as Markdown files under `folder`."""
    cards = await kb.cards()
    return await asyncio.get_running_loop().run_in_executor(None, write_cards, folder, cards)
