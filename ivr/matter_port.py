"""How the IVR asks for a matter's state: the port the composition root fills (the desk's
matters); the IVR knows only the state's name (`matters.lifecycle.MatterStatus`)."""

from __future__ import annotations

from typing import Protocol


class MatterStatusSource(Protocol):
    async def status_of(self, keys: str) -> str | None:
        """The state of the matter the caller keyed in (its number's digits), None if unknown."""
        ...
