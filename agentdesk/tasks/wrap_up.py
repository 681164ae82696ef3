"""The wrap-up mark "callback needed" → a callback task (with the agent's window and note)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agentdesk.i18n import translate
from agentdesk.keys import tasks_key
from agentdesk.refusals import language_of
from agentdesk.security import current_session
from agentdesk.tasks.routes import task_json
from agentdesk.tasks.store import TaskRefused


async def callback_needed(
    request: web.Request, call_id: str, given: Any
) -> dict[str, Any] | web.Response:
    """The call's callback task (made now, or the one made before) as the desk shows it; a 422
    naming the field when the window cannot be read or the call has no number."""
    tasks = request.app[tasks_key]
    lang = language_of(request)
    body = given if isinstance(given, dict) else {}
    try:
        task = await tasks.callback(call_id, current_session(request).username, tasks.wish(body))
    except TaskRefused as refused:
        message = translate(lang, f"task.refused.{refused.reason}")
        return web.json_response({"errors": {"callback": message}, "message": message}, status=422)
    return task_json(task, lang, tasks)
