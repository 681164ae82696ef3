"""The menu's step labels in each language, for screens that name a caller's IVR steps."""

from __future__ import annotations

from collections.abc import Mapping

from ivr.loader import MenuSet
from ivr.versions import MenuLibrary, NoMenuVersion

LABEL_LANGUAGES = ("pl", "en")


def labels_of(menu: MenuSet) -> dict[str, dict[str, str]]:
    """Step id → {language: label} (a step without a label is named by its id)."""
    return {
        step_id: {language: step.label_in(language, step_id) for language in LABEL_LANGUAGES}
        for step_id, step in menu.steps.items()
    }


class MenuStepLabels:
    """The labels of one parsed menu (a folder read once)."""

    def __init__(self, menu: MenuSet) -> None:
        self._labels = labels_of(menu)

    async def step_labels(self) -> Mapping[str, Mapping[str, str]]:
        return self._labels


class LiveStepLabels:
    """The labels of the menu version that is live now (none before a version is live)."""

    def __init__(self, library: MenuLibrary) -> None:
        self.library = library

    async def step_labels(self) -> Mapping[str, Mapping[str, str]]:
        try:
            loaded = await self.library.live()
        except NoMenuVersion:
            return {}
        return labels_of(loaded.menu)
