"""The one reader of what a browser sends: cookies and request bodies, refused with a 400 naming
what is wrong (never a 500) before any route or the security check looks at them.

`body_reading_middleware` runs first on every request: it checks kck's cookies, and for a POST
(PUT, PATCH, DELETE) reads the whole body once — a form is parsed (aiohttp keeps it for
`request.post()`), anything else must be UTF-8, and a JSON body must parse, hold no lone
surrogate and nest at most `MAX_JSON_DEPTH` deep. Handlers take JSON through `json_object`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from agentdesk.refusals import refusal

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MAX_JSON_DEPTH = 32  # the deepest body the screens send is 3
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
OUR_COOKIES = "kck_"  # the prefix of every cookie kck sets

# RFC 6265 cookie-value: cookie-octets, optionally in one pair of double quotes
_COOKIE_VALUE = re.compile(
    r'^(?:[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*|"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")$'
)
_UNREADABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\udc80-\udcff]")  # controls, bytes not UTF-8
_json_key: web.RequestKey[Any] = web.RequestKey("json_body")


class MalformedInput(ValueError):
    """What a request carries cannot be read; the text names the part and what is wrong."""


@web.middleware
async def body_reading_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        _check_cookies(request.headers.getall("Cookie", []))
        if request.method in BODY_METHODS and request.body_exists:
            await _read_body(request)
    except MalformedInput as bad:
        return refusal(request, 400, "input.malformed", detail=str(bad))
    return await handler(request)


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request's JSON object (whatever content type it was sent with); a 400 otherwise."""
    if _json_key not in request:
        try:
            request[_json_key] = parse_json(await request.read())
        except MalformedInput as bad:
            raise _bad_request(request, str(bad)) from None
    body = request[_json_key]
    if not isinstance(body, dict):
        raise _bad_request(request, f"request body: expected a JSON object, got {_kind(body)}")
    return body


def _bad_request(request: web.Request, detail: str) -> web.HTTPBadRequest:
    shown = refusal(request, 400, "input.malformed", detail=detail)
    return web.HTTPBadRequest(text=shown.text, content_type=shown.content_type)


def _check_cookies(headers: list[str]) -> None:
    for header in headers:
        for piece in header.split(";"):
            name, _, value = piece.strip().partition("=")
            if _UNREADABLE.search(piece):
                raise MalformedInput(
                    f"cookie {_shown(name)} holds a control character or bytes that are not "
                    "UTF-8; clear this site's cookies"
                )
            if name.startswith(OUR_COOKIES) and not _COOKIE_VALUE.match(value):
                raise MalformedInput(
                    f"cookie {_shown(name)} cannot be read (only ASCII letters, digits and "
                    "-._~ are allowed); clear this site's cookies"
                )


def _shown(name: str) -> str:
    return repr(_UNREADABLE.sub("?", name)[:40])


async def _read_body(request: web.Request) -> None:
    if request.content_type == "multipart/form-data":
        try:
            await request.post()  # parsed once; aiohttp keeps it for later request.post()
        except (ValueError, AssertionError) as bad:
            raise MalformedInput(f"multipart form cannot be read: {bad}") from None
        return
    raw = await request.read()
    text = _utf8(raw, "request body")
    if request.content_type == "application/x-www-form-urlencoded":
        try:
            parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
        except UnicodeDecodeError as bad:
            raise MalformedInput(
                f"form field is not UTF-8 once %-decoded (byte 0x{bad.object[bad.start]:02x})"
            ) from None
    elif request.content_type == "application/json":
        request[_json_key] = parse_json(raw)


def _utf8(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        raise MalformedInput(
            f"{what} is not UTF-8 (byte 0x{raw[bad.start]:02x} at position {bad.start})"
        ) from None


def parse_json(raw: bytes) -> Any:
    """A JSON document from a request: UTF-8, no lone surrogate, at most MAX_JSON_DEPTH deep."""
    text = _utf8(raw, "request body")
    try:
        value = json.loads(text)
    except RecursionError:
        raise MalformedInput(
            f"request body: JSON nested deeper than {MAX_JSON_DEPTH} levels"
        ) from None
    except ValueError as bad:
        raise MalformedInput(f"request body is not JSON: {bad}") from None
    _check_json(value)
    return value


def _check_json(value: Any) -> None:
    # iterative: a recursive walk is what a deep document is built to break
    pending: list[tuple[Any, str, int]] = [(value, "$", 1)]
    while pending:
        item, where, depth = pending.pop()
        if isinstance(item, str):
            _no_surrogate(item, where)
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            raise MalformedInput(
                f"request body: JSON nested deeper than {MAX_JSON_DEPTH} levels (at {where})"
            )
        if isinstance(item, dict):
            for key, child in item.items():
                _no_surrogate(key, f"{where} (a key)")
                pending.append((child, f"{where}.{key}", depth + 1))
        else:
            pending.extend((child, f"{where}[{i}]", depth + 1) for i, child in enumerate(item))


def _no_surrogate(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as bad:
        raise MalformedInput(
            f"request body: JSON string at {where[:80]} holds a lone surrogate "
            f"(\\u{ord(text[bad.start]):04x}), which is not a character"
        ) from None


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )
