"""What every response tells the browser about itself: the security headers (CSP and friends)
and the attributes of kck's cookies (`Secure` when `http.secure_cookies` says TLS is in front).

The pages load scripts and styles from /static only (no inline script, style or event handler;
the desk's start-up data is a `<script type="application/json">`, which is data, not script), so
the policy allows 'self' and nothing else, and no site may frame kck (clickjacking).
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web

from agentdesk.keys import services_key

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",  # the desk's and the board's WebSockets are same-origin
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


async def _add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def install_browser_policy(app: web.Application) -> None:
    """Every response of `app` — pages, JSON, static files, errors, redirects — gets the headers."""
    app.on_response_prepare.append(_add_security_headers)


def set_cookie(
    request: web.Request,
    response: web.StreamResponse,
    name: str,
    value: str,
    *,
    path: str,
    samesite: Literal["Strict", "Lax"],
    max_age: int | None = None,
) -> None:
    """An HttpOnly cookie of kck, `Secure` when the deployment is behind TLS."""
    response.set_cookie(
        name,
        value,
        path=path,
        max_age=max_age,
        httponly=True,
        samesite=samesite,
        secure=request.app[services_key].settings.http.secure_cookies,
    )
