"""Hostile or broken YAML: bounded work and one line naming file:line, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kck.cli import main
from kck.yamlsource import (
    MAX_YAML_ALIASES,
    MAX_YAML_BYTES,
    MAX_YAML_NODES,
    YAMLSourceError,
    load_yaml_file,
    parse_yaml,
)
from tests.ivr.support import SHIPPED


def _laughs(levels: int) -> str:
    """The "billion laughs": each level is nine aliases of the one before (9**levels values)."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [" + ",".join([f"*l{n - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


# (name, text, line of the error, what the message says)
HOSTILE = [
    ("control character", "a: b\nc: d\x01e\n", 2, "control character U+0001"),
    ("NUL", "a: 1\nb: x\x00y\n", 2, "control character U+0000"),
    ("flow nesting 1,000 deep", "a: " + "[" * 1000 + "]" * 1000 + "\n", 1, "levels deep"),
    ("block nesting", "".join("  " * i + f"k{i}:\n" for i in range(200)), 64, "levels deep"),
    ("5,000-digit integer", "a: 1\nb: " + "9" * 5000 + "\n", 2, "5000 digits"),
    ("impossible date", "a: 2026-02-30\n", 1, "not a valid timestamp"),
    ("billion laughs", _laughs(9), 1, f"more than {MAX_YAML_NODES} values"),
    ("too many aliases", "a: &a 1\nb: [" + ",".join(["*a"] * 200) + "]\n", 2, "aliases"),
    ("long list", "- 1\n" * (MAX_YAML_NODES + 10), MAX_YAML_NODES, f"than {MAX_YAML_NODES}"),
]


@pytest.mark.parametrize(
    ("text", "line", "says"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_hostile_yaml_is_refused_with_one_line_naming_file_and_line(
    text: str, line: int, says: str
) -> None:
    with pytest.raises(YAMLSourceError) as caught:
        parse_yaml(text, "menus/main.yaml")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"menus/main.yaml:{line}:"), message
    assert says in message


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "agents.yaml"
    big.write_text("- 1\n" * (MAX_YAML_BYTES // 4 + 1000))
    with pytest.raises(YAMLSourceError, match=r"agents.yaml:1:1: file of [\d,]+ bytes is larger"):
        load_yaml_file(big)
    with pytest.raises(YAMLSourceError, match="is larger than"):
        parse_yaml(big.read_text(), "agents.yaml")


def test_aliases_within_the_limit_still_work() -> None:
    text = "base: &b {a: 1}\n" + "".join(f"k{n}: *b\n" for n in range(MAX_YAML_ALIASES))
    assert parse_yaml(text, "x.yaml")["k0"] == {"a": 1}


@pytest.fixture
def menus(tmp_path: Path) -> Path:
    folder = tmp_path / "menus"
    shutil.copytree(SHIPPED, folder)
    return folder


@pytest.mark.parametrize(
    ("text", "says"), [(h[1], h[3]) for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_ivr_validate_reports_a_hostile_menu_file_in_one_line(
    menus: Path, text: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (menus / "departments.yaml").write_text(text)
    assert main(["ivr", "validate", "--menus", str(menus)]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    [problem] = [line for line in out.splitlines() if "departments.yaml:" in line]
    assert says in problem and "not valid YAML" in problem


def test_ivr_validate_refuses_an_oversized_menu_file_in_one_line(
    menus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (menus / "departments.yaml").write_text("# padding\n" * (MAX_YAML_BYTES // 10 + 1))
    assert main(["ivr", "validate", "--menus", str(menus)]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert err.count("\n") == 1 and "departments.yaml:1:1: file of" in err


def test_check_config_names_the_line_of_a_control_character_in_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text('http:\n  port: 8080\n  host: "127.0.0.1\x07"\n')
    assert main(["--config", str(settings), "check-config"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"{settings}:3:" in err and "U+0007" in err
