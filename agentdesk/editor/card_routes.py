"""The service-card screens: search and list, open, edit with a preview, publish, history with
diffs, restore, and one card as its Markdown file.

A card is checked by `kb.validate_card` (what `kck kb import` uses too) and saved by
`KnowledgeBase.save` as a new revision; the desk reads the knowledge base at each pop, search and
opened card (no cache), so a published card is what every agent sees from the next click on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from aiohttp import web

from agentdesk.editor.card_diff import card_changes
from agentdesk.editor.card_form import card_data, form_values, posted_values
from agentdesk.editor.scope import EditorScope, editor_scope
from agentdesk.i18n import translate
from agentdesk.kb_adapter import readable
from agentdesk.keys import editor_kb_key, services_key
from agentdesk.pages import render
from agentdesk.refusals import language_of, refusal
from kb import (
    Article,
    ArticleNotFound,
    CardInvalid,
    FieldProblem,
    KnowledgeBase,
    Language,
    ServiceCard,
    render_card,
    validate_card,
)
from kb.folder import cross_reference_warnings

SEARCH_LIMIT = 30
NEW_CARD = "/editor/new-card"


def card_path(slug: str) -> str:
    return f"/editor/cards/{slug}"


@dataclass(frozen=True)
class Problems:
    """The problems of a posted card in the reader's words: by form field, and the rest."""

    by_field: dict[str, list[str]]
    general: list[str]

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)


def problems_in_words(lang: str, problems: list[FieldProblem], fields: set[str]) -> Problems:
    by_field: dict[str, list[str]] = {}
    general = []
    for problem in problems:
        text = translate(lang, f"editor.problem.{problem.code}", **(problem.params or {}))
        if text == f"editor.problem.{problem.code}":
            text = problem.message
        if problem.item is not None and problem.field != "topics":
            text = translate(lang, "editor.problem.item", item=_item_number(problem.item)) + text
        if problem.field in fields:
            by_field.setdefault(problem.field, []).append(text)
        else:
            general.append(f"{problem.field}: {text}" if problem.field else text)
    return Problems(by_field, general)


def _item_number(item: str) -> str:
    return str(int(item) + 1) if item.isdigit() else item


def _kb(request: web.Request) -> KnowledgeBase:
    return request.app[editor_kb_key]


async def _article(request: web.Request, revision: int | None = None) -> Article | None:
    """The card the path names (as of `revision`), None when there is no such card."""
    try:
        return await _kb(request).get(request.match_info["slug"], revision=revision)
    except ArticleNotFound:
        return None


def _revision_number(request: web.Request) -> int:
    """The revision number of the path; 0 when it is not a number."""
    number = request.match_info["number"]
    return int(number) if number.isdigit() else 0


def _not_found(request: web.Request) -> web.Response:
    return refusal(request, 404, "editor.card.not_found", slug=request.match_info["slug"])


def card_view(card: ServiceCard) -> dict[str, Any]:
    """The card as the desk shows it (the preview), with the editor's extras."""
    return {
        "card": card,
        "body": readable(card.body),
        "facts": [
            (name, value)
            for name in ("unit_name", "who_may_apply", "fees", "deadlines", "where", "hours")
            if (value := getattr(card, name))
        ],
        "lists": [
            (name, items)
            for name in ("documents", "online", "legal_basis")
            if (items := getattr(card, name))
        ],
    }


async def _warnings(kb: KnowledgeBase, card: ServiceCard) -> list[str]:
    known = {item.slug for item in await kb.listing()} | {card.id}
    return cross_reference_warnings([card], known)


# -- the list ------------------------------------------------------------------------------------


async def card_list(request: web.Request) -> web.Response:
    """`/editor/cards`: search (`q`) or every card of a unit (`unit`), or all of them."""
    scope = await editor_scope(request)
    kb = _kb(request)
    query = request.query.get("q", "").strip()
    unit = request.query.get("unit", "").strip()
    everything = await kb.listing()
    units = sorted({item.unit for item in everything})
    hits = await kb.search(query, limit=SEARCH_LIMIT) if query else []
    listing = [item for item in everything if not unit or item.unit == unit]
    lang = language_of(request)
    return render(
        request,
        "editor/cards.html",
        title=translate(lang, "editor.cards.title"),
        query=query,
        unit=unit,
        units=units,
        hits=hits,
        listing=[] if query else listing,
        scope=scope,
        new_card=NEW_CARD,
    )


# -- one card: page, preview, publish -------------------------------------------------------------


async def card_page(request: web.Request) -> web.Response:
    article = await _article(request)
    if article is None:
        return _not_found(request)
    scope = await editor_scope(request)
    return await _render_card_page(
        request,
        scope,
        article.card,
        values=form_values(article.card),
        base_revision=article.current_revision,
        published=request.query.get("published", ""),
    )


async def _render_card_page(
    request: web.Request,
    scope: EditorScope,
    current: ServiceCard,
    *,
    values: Mapping[str, str],
    base_revision: int,
    preview: ServiceCard | None = None,
    problems: Problems | None = None,
    status: int = 200,
    published: str = "",
    notice: str = "",
) -> web.Response:
    kb = _kb(request)
    family = (await kb.families([current.id])).get(current.id)
    shown = preview or current
    return render(
        request,
        "editor/card.html",
        status=status,
        title=current.title,
        slug=current.id,
        current=current,
        view=card_view(shown),
        previewing=preview is not None,
        values=values,
        problems=problems or Problems({}, []),
        warnings=await _warnings(kb, shown),
        may_edit=scope.may_edit(current.unit),
        scope=scope,
        base_revision=base_revision,
        family=sorted(family.members.items()) if family else [],
        original=family.original if family else current.id,
        missing_languages=[
            lang.value for lang in Language if family is None or lang.value not in family.members
        ],
        published=published,
        notice=notice,
        new_card=NEW_CARD,
        action=card_path(current.id),
    )


async def card_submit(request: web.Request) -> web.StreamResponse:
    """Preview the posted card, or publish it as a new revision (the form's `action`)."""
    slug = request.match_info["slug"]
    article = await _article(request)
    if article is None:
        return _not_found(request)
    scope = await editor_scope(request)
    if not scope.may_edit(article.card.unit):
        return refusal(request, 403, "editor.card.not_yours", unit=article.card.unit)
    form = await request.post()
    values = posted_values(form)
    values["id"] = slug  # a card keeps its slug; a new slug is a new card
    lang = language_of(request)
    card, problems = _checked(lang, values, scope)
    # published by someone else since this form was opened: nothing is saved over it
    base = str(form.get("base_revision", ""))
    moved_on = base != str(article.current_revision)
    if moved_on or problems or form.get("action") != "publish" or card is None:
        notice = ""
        if moved_on:
            notice = translate(
                lang, "editor.card.moved_on", base=base, current=article.current_revision
            )
        return await _render_card_page(
            request,
            scope,
            article.card,
            values=values,
            base_revision=article.current_revision,
            preview=card,
            problems=problems,
            status=409 if moved_on else 422 if problems else 200,
            notice=notice,
        )
    return await _publish(request, scope, card, form)


async def _publish(
    request: web.Request, scope: EditorScope, card: ServiceCard, form: Mapping[str, Any]
) -> web.StreamResponse:
    """Save `card` as its next revision (live on every desk at once) and show it."""
    note = str(form.get("note", "")).strip()
    result = await _kb(request).save(card, author=scope.username, note=note)
    raise web.HTTPSeeOther(f"{card_path(card.id)}?published={result.revision}")


def _checked(
    lang: str, values: Mapping[str, str], scope: EditorScope
) -> tuple[ServiceCard | None, Problems]:
    """The card the form makes, or its problems (the same checks as `kck kb import`)."""
    try:
        card = validate_card(card_data(values))
    except CardInvalid as exc:
        return None, problems_in_words(lang, exc.problems, set(values) | {"topics"})
    if not scope.may_edit(card.unit):
        text = translate(lang, "editor.card.unit_not_yours", unit=card.unit)
        return card, Problems({"unit": [text]}, [])
    return card, Problems({}, [])


# -- a new card (or a new language version of one) ------------------------------------------------


async def new_card_page(request: web.Request) -> web.Response:
    scope = await editor_scope(request)
    if not scope.writes:
        return refusal(request, 403, "forbidden")
    values: dict[str, str] = form_values(None)
    original = request.query.get("translation_of", "")
    language = request.query.get("language", "")
    if original:
        try:
            source = (await _kb(request).get(original)).card
        except ArticleNotFound:
            return refusal(request, 404, "editor.card.not_found", slug=original)
        values = form_values(source)
        values.update(id=f"{original}-{language}", translation_of=original, language=language)
    return _render_new_card(request, scope, values)


def _render_new_card(
    request: web.Request,
    scope: EditorScope,
    values: Mapping[str, str],
    *,
    problems: Problems | None = None,
    preview: ServiceCard | None = None,
    status: int = 200,
) -> web.Response:
    lang = language_of(request)
    return render(
        request,
        "editor/new_card.html",
        status=status,
        title=translate(lang, "editor.new.title"),
        values=values,
        problems=problems or Problems({}, []),
        view=card_view(preview) if preview is not None else None,
        previewing=preview is not None,
        scope=scope,
        action=NEW_CARD,
        base_revision=0,
        may_edit=True,
    )


async def new_card_submit(request: web.Request) -> web.StreamResponse:
    scope = await editor_scope(request)
    if not scope.writes:
        return refusal(request, 403, "forbidden")
    form = await request.post()
    values = posted_values(form)
    lang = language_of(request)
    card, problems = _checked(lang, values, scope)
    kb = _kb(request)
    if card is not None and not problems:
        try:
            await kb.get(card.id)
        except ArticleNotFound:
            pass
        else:
            text = translate(lang, "editor.problem.exists", slug=card.id)
            problems = Problems({"id": [text]}, [])
    if problems or form.get("action") != "publish" or card is None:
        return _render_new_card(
            request,
            scope,
            values,
            problems=problems,
            preview=card,
            status=422 if problems else 200,
        )
    return await _publish(request, scope, card, form)


# -- history, one revision with its diff, restore, the Markdown file -------------------------------


async def card_history(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    article = await _article(request)
    if article is None:
        return _not_found(request)
    revisions = await _kb(request).history(slug)
    lang = language_of(request)
    tz = request.app[services_key].settings.tz
    rows = [
        {
            "info": info,
            "when": _local(info.created_at, tz),
            "fields": [translate(lang, f"editor.field.{name}") for name in info.changed_fields],
        }
        for info in revisions
    ]
    return render(
        request,
        "editor/history.html",
        title=translate(lang, "editor.history.title", title=article.card.title),
        slug=slug,
        revisions=rows,
        current=article.current_revision,
    )


def _local(moment: datetime, tz: tzinfo) -> str:
    """A stored UTC time as the editor reads it (Europe/Warsaw)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(tz).strftime("%Y-%m-%d %H:%M")


async def card_revision(request: web.Request) -> web.Response:
    """Revision n as it was, and what it changed against revision n-1."""
    slug = request.match_info["slug"]
    kb = _kb(request)
    number = _revision_number(request)
    revision = await _article(request, number) if number else None
    current = await _article(request)
    if revision is None or current is None:
        return _not_found(request)
    older = (await kb.get(slug, revision=number - 1)).card if number > 1 else None
    info = next(r for r in await kb.history(slug) if r.number == number)
    scope = await editor_scope(request)
    lang = language_of(request)
    return render(
        request,
        "editor/revision.html",
        title=translate(lang, "editor.revision.title", number=number, title=revision.card.title),
        slug=slug,
        number=number,
        info=info,
        when=_local(info.created_at, request.app[services_key].settings.tz),
        changes=card_changes(older, revision.card),
        view=card_view(revision.card),
        current=current.current_revision,
        may_restore=number != current.current_revision
        and scope.may_edit(current.card.unit)
        and scope.may_edit(revision.card.unit),
    )


async def card_restore(request: web.Request) -> web.StreamResponse:
    slug = request.match_info["slug"]
    number = _revision_number(request)
    old = await _article(request, number) if number else None
    current = await _article(request)
    if old is None or current is None:
        return _not_found(request)
    scope = await editor_scope(request)
    for unit in (current.card.unit, old.card.unit):
        if not scope.may_edit(unit):
            return refusal(request, 403, "editor.card.not_yours", unit=unit)
    form = await request.post()
    note = str(form.get("note", "")).strip()
    result = await _kb(request).restore(slug, number, author=scope.username, note=note)
    raise web.HTTPSeeOther(f"{card_path(slug)}?published={result.revision}")


async def card_file(request: web.Request) -> web.Response:
    """The card as the Markdown file `kck kb import` reads (`<slug>.md`)."""
    article = await _article(request)
    if article is None:
        return _not_found(request)
    card = article.card
    return web.Response(
        text=render_card(card),
        content_type="text/markdown",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{card.id}.md"'},
    )
