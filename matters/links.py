"""Signed, expiring links for a unit to one matter: the link is the credential (no account).

A token is `<matter>.<unit>.<expires>.<signature>` with an HMAC-SHA256 over the first three
parts, so it is scoped to one matter and one unit and cannot be stretched in time. The page's
form carries a second token derived from the link's, so a form posted from elsewhere is refused.

The same signer makes the resident's reply link (`purpose="reply"`: the matter and the unit whose
question it answers); a token of one purpose is refused as the other (`TAMPERED`).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

_SAFE = re.compile(r"^[A-Za-z0-9-]{1,40}$")


class LinkProblem(enum.StrEnum):
    MALFORMED = "malformed"
    TAMPERED = "tampered"
    EXPIRED = "expired"
    WRONG_MATTER = "wrong_matter"
    WRONG_UNIT = "wrong_unit"


class LinkRefused(Exception):
    def __init__(self, problem: LinkProblem, detail: str = "") -> None:
        self.problem = problem
        super().__init__(f"unit link refused: {problem.value}" + (f" ({detail})" if detail else ""))


@dataclass(frozen=True)
class UnitGrant:
    """What a valid link allows: this unit, on this matter, until then."""

    matter: str
    unit: str
    expires: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class LinkSigner:
    def __init__(self, secret: bytes, lifetime: timedelta) -> None:
        if len(secret) < 16:
            raise ValueError("the unit link secret must be at least 16 bytes")
        self._secret = secret
        self.lifetime = lifetime

    def _sign(self, message: str, purpose: str) -> str:
        mac = hmac.new(self._secret, f"{purpose}|{message}".encode(), hashlib.sha256)
        return _b64(mac.digest())

    def issue(self, matter: str, unit: str, now: datetime, *, purpose: str = "link") -> str:
        if not _SAFE.match(matter) or not _SAFE.match(unit):
            raise ValueError(f"matter {matter!r} / unit {unit!r}: letters, digits and '-' only")
        expires = int((now + self.lifetime).timestamp())
        body = f"{matter}.{unit}.{expires}"
        return f"{body}.{self._sign(body, purpose)}"

    def verify(
        self,
        token: str,
        now: datetime,
        *,
        matter: str | None = None,
        unit: str | None = None,
        purpose: str = "link",
    ) -> UnitGrant:
        """The grant of a genuine, unexpired token; `matter`/`unit`, when given, must match."""
        parts = token.split(".")
        if len(parts) != 4 or not parts[2].isdigit():
            raise LinkRefused(LinkProblem.MALFORMED)
        body = ".".join(parts[:3])
        if not hmac.compare_digest(parts[3], self._sign(body, purpose)):
            raise LinkRefused(LinkProblem.TAMPERED)
        expires = datetime.fromtimestamp(int(parts[2]), UTC)
        if now >= expires:
            raise LinkRefused(LinkProblem.EXPIRED, f"expired {expires.isoformat()}")
        if matter is not None and parts[0] != matter:
            raise LinkRefused(LinkProblem.WRONG_MATTER)
        if unit is not None and parts[1] != unit:
            raise LinkRefused(LinkProblem.WRONG_UNIT)
        return UnitGrant(parts[0], parts[1], expires)

    def form_token(self, link_token: str) -> str:
        """The token the unit page's form must send back with the link's own."""
        return self._sign(link_token, "form")

    def check_form_token(self, link_token: str, sent: str) -> bool:
        return bool(sent) and hmac.compare_digest(sent, self.form_token(link_token))


def load_or_create_secret(configured: str, var_dir: Path) -> bytes:
    """The configured secret, or one kept in `var/unit-links.secret` (made once, mode 0600), so
    links stay valid across restarts of an installation that set none."""
    if configured:
        return configured.encode()
    path = var_dir / "unit-links.secret"
    if path.exists():
        return path.read_bytes().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    secret = _b64(os.urandom(32)).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret)
    return secret
