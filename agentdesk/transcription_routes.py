"""The supervisors' view of the transcription queue (waiting, running, failed with the reason)
and the retry of a failed transcription. Anyone else gets 404."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from agentdesk.keys import services_key, transcription_queue_key
from agentdesk.pages import render
from agentdesk.security import Access, add_route, current_principal
from kck.db.models import Role
from recordings.transcription_queue import TranscriptionQueue

SIGNED_IN = Access(frozenset(Role))  # the handlers answer 404 to all but supervisors


def _supervisor(request: web.Request) -> str:
    principal = current_principal(request)
    if principal.role != Role.SUPERVISOR.value:
        raise web.HTTPNotFound(text="404: Not Found")
    return principal.username


def register_transcription_routes(app: web.Application, queue: TranscriptionQueue) -> None:
    app[transcription_queue_key] = queue
    add_route(app, "GET", "/recordings/transcription", queue_page, SIGNED_IN)
    add_route(app, "POST", "/api/recordings/transcription/{call_id}/retry", retry, SIGNED_IN)


async def queue_page(request: web.Request) -> web.Response:
    _supervisor(request)
    queue = request.app[transcription_queue_key]
    tz = request.app[services_key].settings.tz

    def local(at: datetime | None) -> str:
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if at else ""

    return render(
        request,
        "transcription_queue.html",
        counts=await queue.counts(),
        running=[(call_id, local(at)) for call_id, at in await queue.running.current()],
        failed=[
            {
                "call_id": f.call_id,
                "language": f.language,
                "problem": f.problem,
                "at": local(f.at),
                "started": local(f.recording_started),
            }
            for f in await queue.failed()
        ],
        csrf_token=current_principal(request).csrf_token or "",
    )


async def retry(request: web.Request) -> web.Response:
    who = _supervisor(request)
    queue = request.app[transcription_queue_key]
    call_id = request.match_info["call_id"]
    if not await queue.retry(call_id, by=who):
        raise web.HTTPNotFound(text="404: Not Found")
    return web.json_response({"call_id": call_id, "state": "pending"})
