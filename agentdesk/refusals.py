"""How the web application says no: JSON to scripts and sockets, a small HTML page to people."""

from __future__ import annotations

import html
from typing import Any

from aiohttp import web

from agentdesk.i18n import LANGUAGE_COOKIE, choose_language, translate


def language_of(request: web.Request) -> str:
    """The language switch's cookie, else the browser's Accept-Language, else Polish."""
    return choose_language(
        request.cookies.get(LANGUAGE_COOKIE), request.headers.get("Accept-Language")
    )


def wants_json(request: web.Request) -> bool:
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return True  # a socket cannot follow a redirect to the login page
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def refusal(
    request: web.Request,
    status: int,
    key: str,
    *,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> web.Response:
    """The catalogue's text for `key` in the reader's language (`params` filled in)."""
    text = translate(language_of(request), key, **params)
    if wants_json(request):
        return web.json_response({"error": key, "message": text}, status=status, headers=headers)
    return web.Response(
        status=status,
        text=f"<!doctype html><meta charset=utf-8><title>{status}</title>"
        f'<p role="alert">{html.escape(text)}</p><p><a href="/login">→ /login</a></p>',
        content_type="text/html",
        headers=headers,
    )
