"""`kck kb …`: import, export, search, review-due, history, show and restore of service cards."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

from kb.folder import cross_reference_warnings, export_folder, import_folder, read_folder
from kb.store import KnowledgeBase
from kck.db import create_engine, require_current_schema
from kck.settings import settings_from

T = TypeVar("T")
BOLD, PLAIN = "\033[1m", "\033[0m"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kb = sub.add_parser("kb", help="knowledge base: service cards, search, review dates")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)

    imp = kb_sub.add_parser(
        "import", help="load a folder of Markdown cards (a revision only where content changed)"
    )
    imp.add_argument("folder", type=Path, help="folder with <lang>/<slug>.md files, e.g. config/kb")
    imp.add_argument("--author", default="import", help="recorded as the revisions' author")
    imp.set_defaults(func=cmd_import)

    check = kb_sub.add_parser(
        "check", help="validate a folder of cards without a database (file:line errors)"
    )
    check.add_argument("folder", type=Path)
    check.set_defaults(func=cmd_check)

    exp = kb_sub.add_parser("export", help="write every card as Markdown under a folder")
    exp.add_argument("folder", type=Path)
    exp.set_defaults(func=cmd_export)

    search = kb_sub.add_parser("search", help="search the cards; prints the best with snippets")
    search.add_argument("query", help='e.g. "dowodu" or "dziura na drodze"')
    search.add_argument(
        "--language", choices=["pl", "en", "uk"], help="only cards in this language"
    )
    search.add_argument("--limit", type=int, default=5)
    search.add_argument("--json", action="store_true", help="print JSON")
    search.set_defaults(func=cmd_search)

    due = kb_sub.add_parser("review-due", help="cards whose review date has come")
    due.add_argument("--today", type=date.fromisoformat, help="YYYY-MM-DD (default: today, Warsaw)")
    due.add_argument("--json", action="store_true", help="print JSON")
    due.set_defaults(func=cmd_review_due)

    history = kb_sub.add_parser("history", help="revisions of one card: who, when, what changed")
    history.add_argument("slug")
    history.set_defaults(func=cmd_history)

    show = kb_sub.add_parser("show", help="print a card (optionally an old revision) as Markdown")
    show.add_argument("slug")
    show.add_argument("--revision", type=int)
    show.set_defaults(func=cmd_show)

    restore = kb_sub.add_parser("restore", help="make an old revision current (as a new revision)")
    restore.add_argument("slug")
    restore.add_argument("revision", type=int)
    restore.add_argument("--author", required=True)
    restore.set_defaults(func=cmd_restore)


def _run(args: argparse.Namespace, work: Callable[[KnowledgeBase], Awaitable[T]]) -> T:
    settings = settings_from(args)

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            await require_current_schema(engine)
            return await work(KnowledgeBase(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _emphasis() -> tuple[str, str]:
    """Bold on a terminal; visible brackets when piped."""
    return (BOLD, PLAIN) if sys.stdout.isatty() else ("«", "»")


def cmd_import(args: argparse.Namespace) -> int:
    report = _run(args, lambda kb: import_folder(kb, args.folder, author=args.author))
    print(
        f"{args.folder}: {report.total} cards — {len(report.created)} new, "
        f"{len(report.updated)} changed, {len(report.unchanged)} unchanged"
    )
    for slug in report.updated:
        print(f"  changed: {slug}")
    for warning in report.warnings:
        print(f"  warning: {warning}", file=sys.stderr)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    cards = [card for _, card in read_folder(args.folder)]
    warnings = cross_reference_warnings(cards, {card.id for card in cards})
    for warning in warnings:
        print(f"  warning: {warning}", file=sys.stderr)
    print(
        f"{args.folder}: {len(cards)} cards OK"
        + (f", {len(warnings)} warning(s)" if warnings else "")
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    written = _run(args, lambda kb: export_folder(kb, args.folder))
    print(f"{args.folder}: wrote {len(written)} cards")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    hits = _run(args, lambda kb: kb.search(args.query, language=args.language, limit=args.limit))
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "slug": h.slug,
                        "title": h.title,
                        "unit": h.unit,
                        "language": h.language,
                        "score": h.score,
                        "matched": list(h.matched_fields),
                        "snippet": h.snippet.text,
                        "highlights": [list(r) for r in h.snippet.highlights],
                    }
                    for h in hits
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0 if hits else 1
    if not hits:
        print(f"no cards match “{args.query}”")
        return 1
    start, end = _emphasis()
    for rank, hit in enumerate(hits, 1):
        print(
            f"{rank}. {hit.title}  [{hit.slug}, {hit.language}, {hit.unit}]  score {hit.score:.2f}"
        )
        print(f"   {hit.snippet.marked(start, end)}")
    return 0


def cmd_review_due(args: argparse.Namespace) -> int:
    items = _run(args, lambda kb: kb.review_due(args.today))
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "slug": i.slug,
                        "title": i.title,
                        "unit": i.unit,
                        "language": i.language,
                        "owner": i.owner,
                        "last_reviewed": i.last_reviewed.isoformat(),
                        "review_due": i.review_due.isoformat(),
                        "days_overdue": i.days_overdue,
                    }
                    for i in items
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    if not items:
        print("no card is due for review")
        return 0
    print(f"{len(items)} card(s) due for review:")
    for i in items:
        print(
            f"  {i.review_due}  ({i.days_overdue:>3} d overdue)  {i.slug}  — {i.title}  · {i.owner}"
        )
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    revisions = _run(args, lambda kb: kb.history(args.slug))
    for r in revisions:
        restored = f" (restored from {r.restored_from})" if r.restored_from else ""
        changed = ", ".join(r.changed_fields)
        print(f"#{r.number}  {r.created_at:%Y-%m-%d %H:%M} UTC  {r.author}{restored}: {changed}")
        if r.note:
            print(f"     {r.note}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from kb.cardfile import render_card

    article = _run(args, lambda kb: kb.get(args.slug, revision=args.revision))
    print(f"# revision {article.revision} of {article.current_revision}", file=sys.stderr)
    sys.stdout.write(render_card(article.card))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    result = _run(args, lambda kb: kb.restore(args.slug, args.revision, author=args.author))
    if result.changed:
        print(f"{args.slug}: revision {args.revision} restored as revision {result.revision}")
    else:
        print(f"{args.slug}: revision {args.revision} is already the current content")
    return 0
