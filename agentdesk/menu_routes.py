"""The IVR menu editor in the browser (`/editor/menus…`): versions with their diffs, graph and
validation, a draft edited as YAML that is checked (validation and scripted tests), tried with
keys and published, one-click rollback, and the audit of publications.

Editors (and administrators) change; supervisors read; agents get 403. Every change says why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aiohttp import web

from agentdesk.i18n import translate
from agentdesk.keys import menus_key, services_key
from agentdesk.menu_port import MenuEditingPort, MenuStep
from agentdesk.pages import render
from agentdesk.refusals import language_of
from agentdesk.security import Access, add_route, current_principal
from kck.db.models import Role
from kck.errors import UserError

MENUS = "/editor/menus"
MENU_EDITORS = Access(frozenset({Role.EDITOR, Role.ADMIN}))
MENU_READERS = Access(frozenset({Role.EDITOR, Role.ADMIN, Role.SUPERVISOR}))
FILE_FIELD = "file:"
_FILE_NAME = re.compile(r"^[A-Za-z0-9_./-]{1,200}$")
TRY_LANGUAGES = ("pl", "en", "uk")


def register_menu_routes(app: web.Application, editing: MenuEditingPort) -> None:
    app[menus_key] = editing
    add_route(app, "GET", MENUS, menus_page, MENU_READERS)
    add_route(app, "GET", MENUS + "/versions/{id}", version_page, MENU_READERS)
    add_route(app, "GET", MENUS + "/versions/{id}/graph.svg", version_graph, MENU_READERS)
    add_route(app, "POST", MENUS + "/versions/{id}/rollback", rollback, MENU_EDITORS)
    add_route(app, "GET", MENUS + "/edit", edit_page, MENU_EDITORS)
    add_route(app, "POST", MENUS + "/edit", edit_submit, MENU_EDITORS)


def _editing(request: web.Request) -> MenuEditingPort:
    return request.app[menus_key]


def _may_edit(request: web.Request) -> bool:
    return current_principal(request).role in {Role.EDITOR.value, Role.ADMIN.value}


def _who(request: web.Request) -> str:
    return f"web:{current_principal(request).username}"


def _when(request: web.Request, moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(request.app[services_key].settings.tz).strftime("%Y-%m-%d %H:%M:%S")


def _version_id(request: web.Request, text: str | None = None) -> int:
    raw = (text if text is not None else request.match_info["id"]).strip().lstrip("vV")
    if not raw.isdigit():
        raise web.HTTPNotFound(text="404: Not Found")
    return int(raw)


def _t(request: web.Request, key: str, **params: Any) -> str:
    return translate(language_of(request), key, **params)


async def menus_page(request: web.Request) -> web.Response:
    """The versions, newest first (the live one marked), and who published or rolled back what."""
    editing = _editing(request)
    live = await editing.live_id()
    versions = await editing.versions()
    audit = await editing.audit()
    done = request.query.get("done", "")
    return render(
        request,
        "editor/menus.html",
        title=_t(request, "menus.title"),
        live=live,
        versions=[{"v": v, "when": _when(request, v.created_at)} for v in versions],
        audit=[{"a": a, "when": _when(request, a.at)} for a in audit],
        may_edit=_may_edit(request),
        done=done if done in ("published", "rolled_back") else "",
        done_label=request.query.get("v", "")[:40],
    )


async def version_page(request: web.Request) -> web.Response:
    """One version: what changed against the one before (or `?against=N`), its validation and
    scripted tests with the YAML lines they concern, and its steps as a graph and a list."""
    editing = _editing(request)
    version_id = _version_id(request)
    try:
        info = await editing.version(version_id)
        files = await editing.files(version_id)
    except UserError:
        raise web.HTTPNotFound(text="404: Not Found") from None
    against_raw = request.query.get("against")
    against = (
        _version_id(request, against_raw)
        if against_raw
        else await editing.previous_accepted(version_id)
    )
    changes: list[str] = []
    diff_error = ""
    start: str = ""
    steps: Sequence[MenuStep] = ()
    if info.accepted:
        try:
            if against is not None:
                changes = list(await editing.diff(against, version_id))
            start, steps = await editing.steps(version_id)
        except UserError as exc:
            diff_error = str(exc)
    check = await editing.check(files)
    return render(
        request,
        "editor/menus_version.html",
        title=_t(request, "menus.version", label=info.label),
        v=info,
        when=_when(request, info.created_at),
        live=await editing.live_id() == version_id,
        against=against,
        changes=changes,
        diff_error=diff_error,
        start=start,
        steps=steps,
        check=check,
        may_edit=_may_edit(request),
    )


async def version_graph(request: web.Request) -> web.Response:
    """The version drawn by Graphviz, as an image (scripts in it never run: an <img> source)."""
    try:
        svg = await _editing(request).graph_svg(_version_id(request))
    except UserError:
        raise web.HTTPNotFound(text="404: Not Found") from None
    if svg is None:
        raise web.HTTPNotFound(text="404: Graphviz (dot) is not installed")
    return web.Response(body=svg, content_type="image/svg+xml")


async def rollback(request: web.Request) -> web.StreamResponse:
    """One click back to an earlier version, with the reason the audit keeps."""
    editing = _editing(request)
    version_id = _version_id(request)
    form = await request.post()
    try:
        info = await editing.rollback(
            version_id, by=_who(request), reason=str(form.get("reason", ""))
        )
    except UserError as exc:
        return render(
            request,
            "editor/menus_refused.html",
            status=422,
            title=_t(request, "menus.rollback_refused"),
            message=str(exc),
        )
    raise web.HTTPSeeOther(f"{MENUS}?done=rolled_back&v={info.label}")


async def edit_page(request: web.Request) -> web.Response:
    """A draft made of a version's files (the live one unless `?from=N`)."""
    editing = _editing(request)
    source = request.query.get("from")
    version_id = _version_id(request, source) if source else await editing.live_id()
    if version_id is None:
        raise web.HTTPNotFound(text="404: no menu version is live yet")
    try:
        files = await editing.files(version_id)
    except UserError:
        raise web.HTTPNotFound(text="404: Not Found") from None
    return _draft_page(request, dict(files), base=version_id)


def _draft_page(
    request: web.Request,
    files: dict[str, str],
    *,
    base: int | None,
    status: int = 200,
    **extra: Any,
) -> web.Response:
    ordered = sorted(files.items(), key=lambda item: (item[0] != "main.yaml", item[0]))
    context: dict[str, Any] = {
        "check": None,
        "tried": None,
        "refused": "",
        "keys": "",
        "at": "",
        "try_language": "",
        "reason": "",
    }
    context.update(extra)
    return render(
        request,
        "editor/menus_edit.html",
        status=status,
        title=_t(request, "menus.edit"),
        files=ordered,
        base=base,
        languages=TRY_LANGUAGES,
        **context,
    )


def _draft_files(form: Any) -> dict[str, str]:
    files: dict[str, str] = {}
    for name, value in form.items():
        if not name.startswith(FILE_FIELD):
            continue
        file_name = name.removeprefix(FILE_FIELD)
        if not _FILE_NAME.match(file_name) or ".." in file_name:
            raise web.HTTPBadRequest(text=f"400: file name {file_name!r} is not allowed")
        files[file_name] = str(value).replace("\r\n", "\n")
    if "main.yaml" not in files:
        raise web.HTTPBadRequest(text="400: the draft has no main.yaml")
    return files


def _moment(request: web.Request, text: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise web.HTTPBadRequest(
            text=f"400: {text!r} is not a time like 2026-12-24 18:00"
        ) from None
    tz = request.app[services_key].settings.tz
    return value if value.tzinfo else value.replace(tzinfo=tz)


async def edit_submit(request: web.Request) -> web.StreamResponse:
    """`action`: check (validation and scripted tests), try (one call with `keys`) or publish
    (with `reason`; only a draft that passes both goes live)."""
    editing = _editing(request)
    form = await request.post()
    files = _draft_files(form)
    base_raw = str(form.get("base", ""))
    base = int(base_raw) if base_raw.isdigit() else None
    action = str(form.get("action", "check"))
    keep: dict[str, Any] = {
        "keys": str(form.get("keys", ""))[:200],
        "at": str(form.get("at", ""))[:40],
        "try_language": str(form.get("language", "")),
        "reason": str(form.get("reason", ""))[:500],
    }
    if action == "try":
        keys = [k.strip() for k in keep["keys"].split(",")] if keep["keys"].strip() else []
        language = keep["try_language"] if keep["try_language"] in TRY_LANGUAGES else None
        tried = await editing.try_keys(
            files, keys, at=_moment(request, keep["at"]), language=language
        )
        return _draft_page(request, files, base=base, tried=tried, **keep)
    if action == "publish":
        try:
            info = await editing.publish(files, by=_who(request), reason=keep["reason"])
        except UserError as exc:
            check = getattr(exc, "check", None)
            return _draft_page(
                request, files, base=base, status=422, check=check, refused=str(exc), **keep
            )
        raise web.HTTPSeeOther(f"{MENUS}?done=published&v={info.label}")
    return _draft_page(request, files, base=base, check=await editing.check(files), **keep)
