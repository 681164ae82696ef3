"""The menu as a graph: Graphviz DOT text with every branch, timeout and fallback; SVG via `dot`."""

from __future__ import annotations

import asyncio
import shutil

from ivr.loader import MenuSet
from ivr.model import MenuStep, QueueStep, Step, step_edges
from kck.errors import UserError

_SHAPES = {
    "say": ("note", "#ffffff"),
    "consent": ("note", "#fee2e2"),
    "menu": ("box", "#dbeafe"),
    "digits": ("box", "#e0e7ff"),
    "matter_status": ("note", "#e0f2fe"),
    "hours": ("diamond", "#fef3c7"),
    "language": ("box", "#ede9fe"),
    "queue": ("box3d", "#dcfce7"),
    "info": ("note", "#f1f5f9"),
    "callback": ("box3d", "#fce7f3"),
    "voicemail": ("box3d", "#fce7f3"),
    "transfer": ("cds", "#ffedd5"),
    "speech": ("ellipse", "#cffafe"),
    "set": ("component", "#ffffff"),
    "goto": ("cds", "#ffffff"),
    "hangup": ("doublecircle", "#fee2e2"),
}


class GraphvizMissing(UserError):
    """The `dot` program (Debian package graphviz) is not installed."""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _node_label(step_id: str, step: Step) -> str:
    label = step.label_in("pl", step_id)
    lines = [label if label != step_id else step_id, f"({step.type})"]
    if label != step_id:
        lines.insert(1, step_id)
    if isinstance(step, QueueStep):
        skills = ", ".join(f"{k}≥{v}" for k, v in step.skills.items())
        lines.append(f"queue {step.queue}: {skills}" if skills else f"queue {step.queue}")
        if step.ticket_category:
            lines.append(f"ticket: {step.ticket_category}")
        if step.priority:
            lines.append(f"priority {step.priority}")
    return "\n".join(lines)


def _edge_label(step: Step, how: str) -> str:
    if how.startswith("key "):
        return how.removeprefix("key ")
    if isinstance(step, MenuStep) and how == "fallback":
        return f"no key / wrong key ×{step.retries + 1}"
    return {"no_agent": "no agent", "failed": "not answered", "fallback": "fallback"}.get(how, how)


def menu_to_dot(menu: MenuSet, title: str | None = None) -> str:
    lines = [
        "digraph menu {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=10, style=filled];',
        '  edge [fontname="Helvetica", fontsize=9];',
        f"  label={_quote(title or menu.header.name)}; labelloc=t;",
        '  __start [shape=circle, label="", width=0.2, fillcolor=black];',
        f"  __start -> {_quote(menu.header.start)};",
    ]
    for step_id, step in menu.steps.items():
        shape, colour = _SHAPES[step.type]
        lines.append(
            f"  {_quote(step_id)} [shape={shape}, fillcolor={_quote(colour)}, "
            f"label={_quote(_node_label(step_id, step))}];"
        )
    for step_id, step in menu.steps.items():
        for how, target in step_edges(step):
            style = ", style=dashed" if how in ("fallback", "no_agent", "failed", "closed") else ""
            lines.append(
                f"  {_quote(step_id)} -> {_quote(target)} [label={_quote(_edge_label(step, how))}{style}];"
            )
    lines.append("}")
    return "\n".join(lines) + "\n"


async def dot_to_svg(dot: str) -> bytes:
    """Render with Graphviz `dot -Tsvg` in a subprocess (not on the event loop's thread)."""
    binary = shutil.which("dot")
    if binary is None:
        raise GraphvizMissing("`dot` not found: install Graphviz (apt-get install graphviz)")
    process = await asyncio.create_subprocess_exec(
        binary,
        "-Tsvg",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(dot.encode())
    if process.returncode != 0:
        raise GraphvizMissing(f"dot failed: {err.decode(errors='replace').strip()[:300]}")
    return out
