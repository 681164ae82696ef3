"""What changed between two menu versions, told as menu steps ("key 8 added → x"), not text lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivr.loader import MenuSet
from ivr.model import step_edges


@dataclass(frozen=True)
class MenuChange:
    kind: str  # "added", "removed", "changed"
    what: str  # "step", "prompt", "calendar", "menu"
    name: str
    detail: str

    def __str__(self) -> str:
        mark = {"added": "+", "removed": "-", "changed": "~"}[self.kind]
        return f"{mark} {self.what} {self.name}: {self.detail}"


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def _field_changes(
    old: dict[str, Any], new: dict[str, Any], skip: tuple[str, ...] = ()
) -> list[str]:
    out: list[str] = []
    for key in [*old, *(k for k in new if k not in old)]:
        if key in skip:
            continue
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            for sub in [*a, *(k for k in b if k not in a)]:
                if a.get(sub) != b.get(sub):
                    if sub not in a:
                        out.append(f"{key}.{sub} added: {_fmt(b[sub])}")
                    elif sub not in b:
                        out.append(f"{key}.{sub} removed (was {_fmt(a[sub])})")
                    else:
                        out.append(f"{key}.{sub}: {_fmt(a[sub])} → {_fmt(b[sub])}")
        else:
            out.append(f"{key}: {_fmt(a)} → {_fmt(b)}")
    return out


def diff_menus(old: MenuSet, new: MenuSet) -> list[MenuChange]:
    changes: list[MenuChange] = []
    header = _field_changes(old.header.model_dump(mode="json"), new.header.model_dump(mode="json"))
    changes.extend(MenuChange("changed", "menu", new.header.name, d) for d in header)
    for step_id in [*old.steps, *(s for s in new.steps if s not in old.steps)]:
        a, b = old.steps.get(step_id), new.steps.get(step_id)
        if a is None and b is not None:
            ways = ", ".join(f"{how} → {t}" for how, t in step_edges(b)) or "ends the call"
            changes.append(MenuChange("added", "step", step_id, f"{b.type} ({ways})"))
        elif b is None and a is not None:
            changes.append(MenuChange("removed", "step", step_id, f"was a {a.type}"))
        elif a is not None and b is not None and a != b:
            if a.type != b.type:
                changes.append(MenuChange("changed", "step", step_id, f"type {a.type} → {b.type}"))
                continue
            old_fields, new_fields = a.model_dump(mode="json"), b.model_dump(mode="json")
            old_choices, new_choices = (
                old_fields.pop("choices", None),
                new_fields.pop("choices", None),
            )
            if isinstance(old_choices, dict) and isinstance(new_choices, dict):
                for key in sorted(set(old_choices) | set(new_choices)):
                    if key not in old_choices:
                        changes.append(
                            MenuChange(
                                "changed", "step", step_id, f"key {key} added → {new_choices[key]}"
                            )
                        )
                    elif key not in new_choices:
                        changes.append(
                            MenuChange(
                                "changed",
                                "step",
                                step_id,
                                f"key {key} removed (went to {old_choices[key]})",
                            )
                        )
                    elif old_choices[key] != new_choices[key]:
                        changes.append(
                            MenuChange(
                                "changed",
                                "step",
                                step_id,
                                f"key {key}: {old_choices[key]} → {new_choices[key]}",
                            )
                        )
            changes.extend(
                MenuChange("changed", "step", step_id, d)
                for d in _field_changes(old_fields, new_fields)
            )
    for kind, a_map, b_map in (
        ("prompt", old.prompts, new.prompts),
        ("calendar", old.calendars, new.calendars),
    ):
        for name in [*a_map, *(n for n in b_map if n not in a_map)]:
            a_item, b_item = a_map.get(name), b_map.get(name)
            if a_item is None:
                changes.append(MenuChange("added", kind, name, "new"))
            elif b_item is None:
                changes.append(MenuChange("removed", kind, name, "no longer defined"))
            elif a_item != b_item:
                details = _field_changes(
                    a_item.model_dump(mode="json"), b_item.model_dump(mode="json")
                )
                changes.extend(MenuChange("changed", kind, name, d) for d in details)
    return changes
