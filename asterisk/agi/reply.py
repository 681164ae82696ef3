"""One Asterisk reply to an AGI command, parsed from its line(s)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from asterisk.agi.errors import AGIProtocolError

# Greedy data group: a variable value may itself contain ") endpos=..." and parentheses.
_PAREN_DATA = re.compile(r"\((?P<data>.*)\)(?: endpos=(?P<endpos>-?\d+))?", re.DOTALL)
_ENDPOS_ONLY = re.compile(r"endpos=(?P<endpos>-?\d+)")


@dataclass(frozen=True)
class AGIReply:
    """``code`` 200/510/511/520; ``result`` text after ``result=`` ('' for ``result=``);
    ``data`` the text in parentheses (or the usage text for 520); ``endpos`` if given."""

    code: int
    result: str
    data: str | None
    endpos: int | None
    raw: str

    @property
    def result_int(self) -> int | None:
        try:
            return int(self.result)
        except ValueError:
            return None


def parse_reply(raw: str) -> AGIReply:
    """Parse a complete reply (for 520 the whole multi-line block, newline-joined)."""
    first, _, rest_lines = raw.partition("\n")
    code_text = first[:3]
    if len(first) < 3 or not code_text.isdigit():
        raise AGIProtocolError(f"AGI reply does not start with a 3-digit code: {first[:80]!r}")
    code = int(code_text)
    if code == 520:
        usage = rest_lines.rsplit("\n", 1)[0] if "\n" in rest_lines else ""
        return AGIReply(code=code, result="", data=usage or None, endpos=None, raw=raw)
    body = first[4:] if len(first) > 3 else ""
    if code != 200 or not body.startswith("result="):
        return AGIReply(code=code, result="", data=body or None, endpos=None, raw=raw)
    value, _, extra = body[len("result=") :].partition(" ")
    data: str | None = None
    endpos: int | None = None
    if extra:
        match = _PAREN_DATA.fullmatch(extra)
        if match:
            data = match["data"]
            endpos = int(match["endpos"]) if match["endpos"] is not None else None
        else:
            only = _ENDPOS_ONLY.fullmatch(extra)
            if only:
                endpos = int(only["endpos"])
            else:
                data = extra
    return AGIReply(code=code, result=value, data=data, endpos=endpos, raw=raw)
