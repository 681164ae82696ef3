"""Render the shipped Asterisk configuration (jinja2 templates in this package) into a folder."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2

from .inputs import AsteriskConfigInputs

FILES = (
    "extensions.conf",
    "manager.conf",
    "pjsip.conf",
    "queues.conf",
    "musiconhold.conf",
    "features.conf",
)
SECRET_FILES = {"manager.conf", "pjsip.conf"}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("asterisk.pbxconfig", "templates"),
        autoescape=False,  # Asterisk config, not HTML
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_asterisk_config_text(inputs: AsteriskConfigInputs) -> dict[str, str]:
    """File name -> content, without touching the disk."""
    env = _environment()
    return {name: env.get_template(f"{name}.j2").render(c=inputs) for name in FILES}


def render_asterisk_config(inputs: AsteriskConfigInputs, out_dir: Path) -> list[Path]:
    """Write the six files into `out_dir` (created if needed); returns their paths.

    Files holding secrets (manager.conf, pjsip.conf) are written mode 0640.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_asterisk_config_text(inputs).items():
        path = out_dir / name
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.chmod(tmp, 0o640 if name in SECRET_FILES else 0o644)
        tmp.replace(path)
        written.append(path)
    return written
