"""Sign-in and sign-out pages: argon2 check, extension bound for the shift, session cookie."""

from __future__ import annotations

import logging
import math

from aiohttp import web

from agentdesk.browser_policy import set_cookie
from agentdesk.client_address import client_address
from agentdesk.extensions import ExtensionTaken
from agentdesk.i18n import catalogue, refusal_text, translate
from agentdesk.keys import (
    accounts_key,
    backend_key,
    extensions_key,
    services_key,
    session_request_key,
    sessions_key,
    throttle_key,
)
from agentdesk.navigation import home_of
from agentdesk.pages import render
from agentdesk.ports import StateRefused
from agentdesk.redirects import same_site_path
from agentdesk.refusals import language_of
from agentdesk.security import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    current_session,
    new_login_token,
)
from agentdesk.sessions import COOKIE_NAME, SESSION_TTL_S
from kck.db.models import AuditEntry, Role

log = logging.getLogger(__name__)


def _home_of(role: Role) -> str:
    return home_of(role)


def _safe_next(value: str, role: Role) -> str:
    # Only paths on this site: no open redirect through ?next=.
    return same_site_path(value) or _home_of(role)


async def render_login(
    request: web.Request,
    *,
    error: str = "",
    username: str = "",
    extension: str = "",
    status: int = 200,
) -> web.Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_token()
    response = render(
        request,
        "login.html",
        status=status,
        error=error,
        username=username,
        extension=extension,
        csrf_token=token,
        next=same_site_path(request.query.get("next", "")) or "",
        strings=catalogue(language_of(request)),
    )
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, samesite="Strict", path="/login")
    return response


async def login_page(request: web.Request) -> web.StreamResponse:
    session = request.get(session_request_key)
    if session is not None:
        raise web.HTTPFound(_home_of(session.role))
    return await render_login(request)


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    lang = language_of(request)
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    extension = str(form.get("extension", "")).strip()
    address = client_address(request)
    throttle = request.app[throttle_key]
    now = request.app[services_key].clock.now()
    retry_after = await throttle.retry_after_s(username, address, now)
    if retry_after is not None:
        # refused before the password is even checked: the right one too, until the time passes
        log.info("sign-in for %r from %s throttled for %d s", username, address, retry_after)
        await _audit(request, username or "?", "login.throttled", address)
        response = await render_login(
            request,
            error=translate(lang, "login.throttled", minutes=math.ceil(retry_after / 60)),
            username=username,
            extension=extension,
            status=429,
        )
        response.headers["Retry-After"] = str(retry_after)
        return response
    account = await request.app[accounts_key].authenticate(username, password)
    if account is None:
        log.info("failed sign-in for %r from %s", username, address)
        await throttle.failed(username, address, now)
        await _audit(request, username or "?", "login.failed", address)
        return await render_login(
            request,
            error=translate(lang, "login.failed"),
            username=username,
            extension=extension,
            status=401,
        )
    if account.role == Role.AGENT or (account.role == Role.SUPERVISOR and extension):
        # Agents always take calls; a supervisor does when they give an extension.
        extension = extension or (account.extension or "")
        if not extension.isdigit():
            return await render_login(
                request,
                error=translate(lang, "login.extension_needed"),
                username=username,
                extension=extension,
                status=422,
            )
        try:
            await request.app[extensions_key].bind(extension, account.username)
        except ExtensionTaken as taken:
            return await render_login(
                request,
                error=translate(
                    lang, "login.extension_taken", extension=extension, agent=taken.holder
                ),
                username=username,
                extension=extension,
                status=409,
            )
        try:
            backend = request.app.get(backend_key)
            if backend is None:
                raise StateRefused("the desk is not running in this process", why="no_desk")
            await backend.login(account.username, extension)
        except StateRefused as refused:
            await request.app[extensions_key].release(extension, account.username)
            log.info("sign-in of %s refused by the router: %s", account.username, refused)
            return await render_login(
                request,
                error=translate(lang, "login.refused", reason=refusal_text(lang, refused)),
                username=username,
                extension=extension,
                status=409,
            )
    else:
        extension = extension if extension.isdigit() else ""
    await throttle.succeeded(username)
    session = await request.app[sessions_key].create(
        user_id=account.id,
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        extension=extension or None,
    )
    await _audit(request, account.username, "login", address, {"extension": extension})
    response = web.HTTPFound(_safe_next(str(form.get("next", "")), account.role))
    set_cookie(
        request, response, COOKIE_NAME, session.id, samesite="Lax", max_age=SESSION_TTL_S, path="/"
    )
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    session = current_session(request)
    backend = request.app.get(backend_key)
    if backend is not None and (session.role == Role.AGENT or session.extension):
        try:
            await backend.logout(session.username)
        except StateRefused as refused:  # on a call: finish it first
            lang = language_of(request)
            log.info("sign-out of %s refused: %s", session.username, refused)
            return render(
                request,
                "notice.html",
                status=409,
                title=translate(lang, "logout.refused.title"),
                message=translate(lang, "logout.refused", reason=refusal_text(lang, refused)),
                detail=str(refused),
                back=("/desk", translate(lang, "logout.back")),
            )
    if session.extension:
        await request.app[extensions_key].release(session.extension, session.username)
    await request.app[sessions_key].delete(session.id)
    await _audit(request, session.username, "logout", client_address(request))
    response = web.HTTPFound("/login")
    response.del_cookie(COOKIE_NAME, path="/")
    raise response


async def _audit(
    request: web.Request,
    actor: str,
    action: str,
    address: str | None,
    details: dict[str, str] | None = None,
) -> None:
    sessions = request.app[accounts_key].sessions
    async with sessions.begin() as db:
        db.add(AuditEntry(actor=actor, action=action, address=address, details=details or {}))


__all__ = ["CSRF_FIELD", "login_page", "login_submit", "logout"]
