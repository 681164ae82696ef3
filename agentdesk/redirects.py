"""Where a browser may be sent after signing in: only a path on this site, never another host."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit


def same_site_path(value: str) -> str | None:
    """`value` if it is a path on this site (`/reports?day=…`), else None.

    Browsers forgive a lot: they drop tabs and line breaks inside a URL, read `\\` as `/` and treat
    `//host` as another site, so `/<TAB>/evil.example/` is `//evil.example/` to them. Anything
    with a control or space character, a backslash, a scheme or a host is refused here.
    """
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(unicodedata.category(char)[0] in "CZ" for char in value):
        return None  # control, format, separator (space, tab, NBSP, U+2028…)
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value
