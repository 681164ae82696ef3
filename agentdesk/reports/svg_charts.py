"""Small server-side SVG charts (bars and a line with a target): no JavaScript, prints and scales."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad")
TARGET_COLOUR = "#d35400"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    colour: str = PALETTE[0]


@dataclass(frozen=True)
class Frame:
    """Plot geometry: the outer size and the margins the axes and legend need."""

    width: int = 760
    height: int = 300
    left: int = 56
    right: int = 16
    top: int = 40
    bottom: int = 64

    @property
    def plot_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom

    def y(self, value: float, top: float) -> float:
        return self.top + self.plot_height * (1 - (value / top if top else 0))


def nice_top(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 2.5, 5 × 10^n)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _number(value: float) -> str:
    return f"{value:g}"


def _open(frame: Frame, title: str, description: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {frame.width} {frame.height}" '
        f'width="{frame.width}" height="{frame.height}" role="img" class="chart" '
        f'font-family="system-ui, sans-serif" font-size="11">',
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>",
        f'<text x="{frame.left}" y="16" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]


def _axes(frame: Frame, top: float, labels: Sequence[str], unit: str) -> list[str]:
    parts = []
    for tick in range(5):
        value = top * tick / 4
        y = frame.y(value, top)
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#ddd"/><text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_number(value))}{escape(unit)}</text>"
        )
    count = max(1, len(labels))
    every = max(1, math.ceil(count / 24))
    slot = frame.plot_width / count
    base = frame.top + frame.plot_height
    for index, label in enumerate(labels):
        if index % every:
            continue
        x = frame.left + slot * (index + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{base + 12}" text-anchor="end" '
            f'transform="rotate(-45 {x:.1f} {base + 12})">{escape(label)}</text>'
        )
    parts.append(
        f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{base}" y2="{base}" '
        f'stroke="#333"/>'
    )
    return parts


def _legend(frame: Frame, entries: Sequence[tuple[str, str]]) -> list[str]:
    parts = []
    x = frame.width - frame.right
    for name, colour in reversed(entries):
        x -= 12 + 7 * len(name) + 16
        parts.append(
            f'<rect x="{x}" y="24" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="33">{escape(name)}</text>'
        )
    return parts


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    stacked: bool = False,
    unit: str = "",
    frame: Frame | None = None,
) -> str:
    """Vertical bars per label: side by side, or stacked (e.g. answered + abandoned per hour)."""
    frame = frame or Frame()
    values = [[v or 0.0 for v in s.values] for s in series]
    if stacked:
        peak = max((sum(col) for col in zip(*values, strict=True)), default=0.0)
    else:
        peak = max((max(v, default=0.0) for v in values), default=0.0)
    top = nice_top(peak)
    description = "; ".join(
        f"{s.name}: "
        + ", ".join(f"{label} {_number(v)}" for label, v in zip(labels, vals, strict=True))
        for s, vals in zip(series, values, strict=True)
    )
    parts = _open(frame, title, description)
    parts += _axes(frame, top, labels, unit)
    slot = frame.plot_width / max(1, len(labels))
    gap = slot * 0.15
    for index in range(len(labels)):
        x0 = frame.left + slot * index + gap / 2
        if stacked:
            running = 0.0
            for s, vals in zip(series, values, strict=True):
                value = vals[index]
                y_top, y_bottom = frame.y(running + value, top), frame.y(running, top)
                running += value
                if value > 0:
                    parts.append(
                        f'<rect x="{x0:.1f}" y="{y_top:.1f}" width="{slot - gap:.1f}" '
                        f'height="{y_bottom - y_top:.1f}" fill="{s.colour}">'
                        f"<title>{escape(labels[index])}: {escape(s.name)} {_number(value)}</title></rect>"
                    )
        else:
            width = (slot - gap) / max(1, len(series))
            for position, (s, vals) in enumerate(zip(series, values, strict=True)):
                value = vals[index]
                y_top = frame.y(value, top)
                if value > 0:
                    parts.append(
                        f'<rect x="{x0 + width * position:.1f}" y="{y_top:.1f}" width="{width:.1f}" '
                        f'height="{frame.top + frame.plot_height - y_top:.1f}" fill="{s.colour}">'
                        f"<title>{escape(labels[index])}: {escape(s.name)} {_number(value)}</title></rect>"
                    )
    parts += _legend(frame, [(s.name, s.colour) for s in series])
    parts.append("</svg>")
    return "\n".join(parts)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Series,
    *,
    target: float | None = None,
    target_name: str = "target",
    top: float | None = None,
    unit: str = "",
    frame: Frame | None = None,
) -> str:
    """A line through the points (gaps where a value is None) and a dashed target line."""
    frame = frame or Frame()
    known = [v for v in series.values if v is not None]
    top = top or nice_top(max([*known, target or 0.0], default=0.0))
    description = f"{series.name}: " + ", ".join(
        f"{label} {'—' if v is None else _number(round(v, 1))}"
        for label, v in zip(labels, series.values, strict=True)
    )
    parts = _open(frame, title, description)
    parts += _axes(frame, top, labels, unit)
    slot = frame.plot_width / max(1, len(labels))
    runs: list[list[tuple[float, float]]] = [[]]
    for index, value in enumerate(series.values):
        if value is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((frame.left + slot * (index + 0.5), frame.y(value, top)))
    for run in runs:
        if len(run) > 1:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{series.colour}" stroke-width="2"/>'
            )
        for x, y in run:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{series.colour}"/>')
    legend = [(series.name, series.colour)]
    if target is not None:
        y = frame.y(target, top)
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{TARGET_COLOUR}" stroke-dasharray="6 4" stroke-width="1.5" class="target"/>'
        )
        legend.append((f"{target_name} {_number(target)}{unit}", TARGET_COLOUR))
    parts += _legend(frame, legend)
    parts.append("</svg>")
    return "\n".join(parts)
