"""The desk's task API: list, claim, play a voicemail, call back, close (docs/desk.md)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from agentdesk.i18n import translate
from agentdesk.keys import services_key, tasks_key
from agentdesk.refusals import language_of
from agentdesk.request_body import json_object
from agentdesk.security import DESK_ROLES, Access, add_route, current_session
from agentdesk.tasks.desk import DeskTasks
from agentdesk.tasks.matter_pop_routes import register_matter_pop_routes
from agentdesk.tasks.models import TaskKind
from agentdesk.tasks.store import TASK_OUTCOMES, TaskRefused, TaskView
from kck.db.models import AuditEntry
from kck.phone import display
from queues.nonvoice import NonVoiceItem

log = logging.getLogger(__name__)


def register_task_routes(app: web.Application, tasks: DeskTasks) -> None:
    app[tasks_key] = tasks
    on_desk = Access(DESK_ROLES)
    add_route(app, "GET", "/api/desk/tasks", list_tasks, on_desk)
    add_route(app, "POST", "/api/desk/tasks/{id}/claim", claim_task, on_desk)
    add_route(app, "GET", "/api/desk/tasks/{id}/audio", task_audio, on_desk)
    add_route(app, "POST", "/api/desk/tasks/{id}/callback", call_back, on_desk)
    add_route(app, "POST", "/api/desk/tasks/{id}/close", close_task, on_desk)
    add_route(app, "POST", "/api/desk/matter/done", matter_done, on_desk)
    register_matter_pop_routes(app)
    app.cleanup_ctx.append(_parts_running)


async def _parts_running(app: web.Application) -> AsyncIterator[None]:
    tasks = app[tasks_key]
    await tasks.scheduler.start()
    await tasks.dispatcher.start()
    yield
    await tasks.dispatcher.stop()
    await tasks.scheduler.stop()


def task_json(task: TaskView, lang: str, tasks: DeskTasks) -> dict[str, Any]:
    def local(when: Any) -> str | None:
        return None if when is None else when.astimezone(tasks.tz).strftime("%Y-%m-%d %H:%M")

    return {
        "id": task.id,
        "kind": task.kind,
        "kind_text": translate(lang, f"task.kind.{task.kind}"),
        "state": task.state,
        "state_text": translate(lang, f"task.state.{task.state}"),
        "call_id": task.call_id,
        "number": task.number,
        "number_text": display(task.number, translate(lang, "task.no_number")),
        "skill": task.skill,
        "note": task.note or "",
        "window_from": local(task.window_from),
        "window_until": local(task.window_until),
        "claimed_by": task.claimed_by,
        "created_at": local(task.created_at),
        "audio": f"/api/desk/tasks/{task.id}/audio" if task.has_audio else None,
        "outcome": task.outcome,
    }


def matter_json(item: NonVoiceItem, lang: str) -> dict[str, Any]:
    return {
        "id": item.item_id,
        "kind": "matter",
        "kind_text": translate(lang, "task.kind.matter"),
        "state": "claimed",
        "state_text": translate(lang, "task.state.claimed"),
        "number": None,
        "number_text": item.ref,
        "ref": item.ref,
        "source": item.source,
        "category_text": translate(lang, f"category.{item.category}"),
        "note": item.summary,
        "window_from": None,
        "window_until": None,
        "audio": None,
    }


async def matter_done(request: web.Request) -> web.Response:
    """The agent has dealt with the matter they hold; the next one may be offered to them."""
    tasks = request.app[tasks_key]
    session = current_session(request)
    body = await json_object(request)
    item_id = str(body.get("id") or "")[:64]
    if not await tasks.matters.done(session.username, item_id):
        return _refused(request, TaskRefused("not_found", f"{item_id!r} is not held"))
    async with request.app[services_key].sessions.begin() as db:
        db.add(
            AuditEntry(
                actor=session.username,
                action="task.matter_done",
                target=item_id,
                address=request.remote,
            )
        )
    return web.json_response({"message": translate(language_of(request), "task.matter_done")})


def _refused(request: web.Request, refused: TaskRefused) -> web.Response:
    log.info("task refused for %s: %s", current_session(request).username, refused)
    status = 404 if refused.reason == "not_found" else 409
    if refused.reason in ("outcome", "window", "no_number"):
        status = 422
    message = translate(language_of(request), f"task.refused.{refused.reason}")
    return web.json_response({"error": refused.reason, "message": message}, status=status)


def _task_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 12:
        raise web.HTTPNotFound()
    return int(raw)


async def list_tasks(request: web.Request) -> web.Response:
    tasks = request.app[tasks_key]
    session = current_session(request)
    lang = language_of(request)
    try:
        await tasks.inbox.collect()
    except Exception:  # the list still shows what is known
        log.exception("voicemail folder could not be read")
    await tasks.store.settle_callbacks()
    found = await tasks.store.open_for(session.username, tasks.skills_of(session.username))
    listed = [task_json(t, lang, tasks) for t in found]
    held = await tasks.matters.held(session.username)
    if held is not None:  # the matter without a call this agent works on, first
        listed.insert(0, matter_json(held, lang))
    return web.json_response(
        {
            "tasks": listed,
            "outcomes": [
                {"code": o, "text": translate(lang, f"task.outcome.{o}")} for o in TASK_OUTCOMES
            ],
        }
    )


async def claim_task(request: web.Request) -> web.Response:
    tasks = request.app[tasks_key]
    try:
        task = await tasks.store.claim(_task_id(request), current_session(request).username)
    except TaskRefused as refused:
        return _refused(request, refused)
    return web.json_response(task_json(task, language_of(request), tasks))


async def task_audio(request: web.Request) -> web.StreamResponse:
    """The voicemail's audio, for the agent who holds the task (each play audited)."""
    tasks = request.app[tasks_key]
    try:
        relative = await tasks.store.recording_of(
            _task_id(request), current_session(request).username
        )
        path = tasks.inbox.file(relative)
    except TaskRefused as refused:
        return _refused(request, refused)
    if not await asyncio.to_thread(path.is_file):
        raise web.HTTPNotFound()
    headers = {"Cache-Control": "private, no-store", "Content-Type": "audio/wav"}
    return web.FileResponse(path, headers=headers)


async def call_back(request: web.Request) -> web.Response:
    """A callback task for the voicemail's caller; the voicemail is closed `called_back`."""
    tasks = request.app[tasks_key]
    session = current_session(request)
    lang = language_of(request)
    body = await json_object(request)
    task_id = _task_id(request)
    try:
        voicemail = await tasks.store.get(task_id)
        if voicemail is None or voicemail.kind != TaskKind.VOICEMAIL:
            raise TaskRefused("not_found", f"task {task_id}: no such voicemail")
        if voicemail.claimed_by != session.username:
            raise TaskRefused("claimed", f"task {task_id}: claim it first")
        callback = await tasks.callback(
            voicemail.call_id, session.username, tasks.wish(body), voicemail.number
        )
        await tasks.store.close(task_id, session.username, "called_back")
    except TaskRefused as refused:
        return _refused(request, refused)
    result = task_json(callback, lang, tasks)
    result["message"] = translate(lang, "task.callback_made")
    return web.json_response(result, status=201)


async def close_task(request: web.Request) -> web.Response:
    tasks = request.app[tasks_key]
    body = await json_object(request)
    try:
        task = await tasks.store.close(
            _task_id(request),
            current_session(request).username,
            str(body.get("outcome") or ""),
            str(body.get("note") or ""),
        )
    except TaskRefused as refused:
        return _refused(request, refused)
    return web.json_response(task_json(task, language_of(request), tasks))
