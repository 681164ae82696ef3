"""Recordings in the browser: the list and the player (with a reason for every play and
download), the file with HTTP range requests, the supervisors' report of accesses, and the
desk's pause/resume of its own call's recording. Whoever may not hear a recording gets 404,
as if it did not exist."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from aiohttp import web

from agentdesk.i18n import translate
from agentdesk.keys import recording_access_key, recording_control_key, services_key
from agentdesk.pages import render
from agentdesk.refusals import language_of
from agentdesk.request_body import json_object
from agentdesk.security import DESK_ROLES, Access, add_route, current_principal
from kb import load_polish_analyzer
from kck.db.models import Role
from recordings.access import ACTIONS, Listener, NoSuchRecording, ReasonNeeded, RecordingAccess
from recordings.lifecycle import NotRecording, RecordingLifecycle

SIGNED_IN = Access(frozenset(Role))  # the handlers decide, and answer 404 to everyone else
REPORT_DAYS = 31


def register_recording_routes(
    app: web.Application, access: RecordingAccess, control: RecordingLifecycle | None
) -> None:
    app[recording_access_key] = access
    if control is not None:
        app[recording_control_key] = control
    add_route(app, "GET", "/recordings", recordings_page, SIGNED_IN)
    add_route(app, "GET", "/recordings/accesses", accesses_page, SIGNED_IN)
    add_route(app, "POST", "/api/recordings/{id}/access", grant_access, SIGNED_IN)
    add_route(app, "GET", "/recordings/{id}/audio", audio_file, SIGNED_IN)
    add_route(app, "POST", "/api/desk/recording", pause_recording, Access(DESK_ROLES))


def _listener(request: web.Request) -> Listener:
    principal = current_principal(request)
    return Listener(principal.username, principal.role, request.remote)


def _not_found() -> web.HTTPNotFound:
    return web.HTTPNotFound(text="404: Not Found")


def _recording_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise _not_found() from None


def _clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


async def recordings_page(request: web.Request) -> web.Response:
    """The recordings this person may hear, with their transcripts; `q` searches the transcripts
    with the knowledge base's Polish analysis (dziurę finds dziura)."""
    access = request.app[recording_access_key]
    who = _listener(request)
    if not access.may_list(who):
        raise _not_found()
    tz = request.app[services_key].settings.tz
    query = request.query.get("q", "").strip()[:200]
    words = None
    if query:
        # the transcripts' full-text index, any age (recordings.transcript_search)
        words = (await load_polish_analyzer()).query_groups(query)
    visible = await access.visible(who, words=words)
    transcripts = await access.transcripts([r.call_id for r in visible])
    rows = [
        {
            "id": r.id,
            "call_id": r.call_id,
            "agent": r.agent or "",
            "queue": r.queue or "",
            "started": r.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            "duration": _clock(r.duration_s or 0),
            "hold": r.legal_hold,
            "transcript": [(_clock(float(w["s"])), str(w["w"])) for w in heard.words]
            if heard is not None and heard.state == "done"
            else [],
            "not_transcribed": heard.problem or "?"
            if heard is not None and heard.state == "failed"
            else "",
        }
        for r in visible
        for heard in [transcripts.get(r.call_id)]
    ]
    principal = current_principal(request)
    return render(
        request,
        "recordings.html",
        rows=rows,
        query=query,
        supervisor=who.role == Role.SUPERVISOR.value,
        csrf_token=principal.csrf_token or "",
    )


async def grant_access(request: web.Request) -> web.Response:
    access = request.app[recording_access_key]
    recording_id = _recording_id(request)
    body = await json_object(request)
    action, reason = str(body.get("action") or "play"), str(body.get("reason") or "")
    try:
        ticket = await access.grant(_listener(request), recording_id, action, reason)
    except NoSuchRecording:
        raise _not_found() from None
    except ReasonNeeded as exc:
        key = "rec.reason_missing" if action in ACTIONS else "rec.unknown_action"
        message = translate(language_of(request), key, action=action)
        return web.json_response(
            {"error": "reason", "message": message, "detail": str(exc)}, status=422
        )
    url = f"/recordings/{ticket.recording_id}/audio?t={ticket.token}"
    return web.json_response({"url": url, "action": ticket.action})


async def audio_file(request: web.Request) -> web.StreamResponse:
    access = request.app[recording_access_key]
    recording_id = _recording_id(request)
    try:
        path, action = await access.file_for(
            _listener(request), recording_id, request.query.get("t", "")
        )
    except NoSuchRecording:
        raise _not_found() from None
    headers = {"Cache-Control": "private, no-store", "Content-Type": "audio/wav"}
    if action == "download":
        headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
    return web.FileResponse(path, headers=headers)  # answers Range requests (206)


async def accesses_page(request: web.Request) -> web.Response:
    if current_principal(request).role != Role.SUPERVISOR.value:
        raise _not_found()
    tz = request.app[services_key].settings.tz
    today = request.app[services_key].clock.now().astimezone(tz).date()
    try:
        first = datetime.fromisoformat(request.query.get("from", "")).date()
    except ValueError:
        first = today - timedelta(days=REPORT_DAYS - 1)
    since = datetime.combine(first, time(), tz)
    until = datetime.combine(today + timedelta(days=1), time(), tz)
    rows = await request.app[recording_access_key].accesses(since, until)
    return render(
        request,
        "recording_accesses.html",
        first=first.isoformat(),
        rows=[
            {
                "at": r.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                "actor": r.actor,
                "action": r.action,
                "call_id": r.call_id,
                "reason": r.reason,
                "address": r.address or "",
            }
            for r in rows
        ],
    )


async def pause_recording(request: web.Request) -> web.Response:
    """The agent pauses (`paused: true`) or resumes the recording of the call they are on."""
    control = request.app.get(recording_control_key)
    principal = current_principal(request)
    body = await json_object(request)
    if not isinstance(body.get("paused"), bool):
        message = translate(language_of(request), "rec.paused_field")
        return web.json_response({"error": "bad_json", "message": message}, status=400)
    call_id = str(body.get("call_id") or "")
    if control is None:
        raise _not_found()
    try:
        row = await control.get(call_id)
        if row.agent != principal.username:
            raise NotRecording(call_id)
        row = await control.pause(call_id, body["paused"], by=principal.username)
    except NotRecording:
        raise _not_found() from None
    return web.json_response({"call_id": call_id, "paused": row.paused, "pauses": row.pauses})
