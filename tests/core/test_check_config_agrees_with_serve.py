"""`kck check-config` runs every check of the configuration `kck serve` runs at start: on each
broken configuration both refuse (naming the same file), or both go ahead with the same warning."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kck.cli import main
from kck.config_check import check_configuration
from kck.config_files import SHIPPED_CONFIG
from kck.errors import USER_ERRORS
from kck.runtime import Runtime
from kck.settings import load_settings


def _replace(name: str, old: str, new: str) -> Callable[[Path], str]:
    def mutate(config: Path) -> str:
        path = config / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return name

    return mutate


def _write(name: str, text: str) -> Callable[[Path], str]:
    def mutate(config: Path) -> str:
        (config / name).write_text(text, encoding="utf-8")
        return name.rsplit("/", 1)[-1]

    return mutate


def _first_line(name: str) -> str:
    return (SHIPPED_CONFIG / name).read_text(encoding="utf-8").splitlines()[0]


# each: what it breaks, and how (returns the file whose name the verdict must carry)
REFUSED = {
    "agent with an unknown skill": _replace("agents.yaml", "general:", "no_such_skill:"),
    "queues.yaml not YAML": _write("queues.yaml", "queues: [\n"),
    "control character in skills.yaml": _replace("skills.yaml", "general", "gen\x01eral"),
    "duplicate key in agents.yaml": _write("agents.yaml", "agents: []\nagents: []\n"),
    "units.yaml without units": _write("units.yaml", "unit: []\n"),
    "unit without a code": _write("units.yaml", "units:\n  - name: Wydział\n"),
    "5,000-digit number in queues.yaml": _replace(
        "queues.yaml", _first_line("queues.yaml"), _first_line("queues.yaml") + "\nx: " + "9" * 5000
    ),
    "billion laughs in units.yaml": _write(
        "units.yaml",
        'a: &a ["l","l","l","l","l","l","l","l","l"]\n'
        + "".join(
            f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]\n"
            for p, n in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ),
    "service-level target not a number": _replace(
        "queues.yaml", "short_abandon_s: 5", "short_abandon_s: pięć"
    ),
}


@pytest.fixture
def installation(tmp_path: Path, redis_server_url: str, sqlite_url: str) -> Path:
    """A copy of the shipped config/ and a settings file naming it (SQLite, the test Redis)."""
    shutil.copytree(SHIPPED_CONFIG, tmp_path / "config")
    (tmp_path / "settings.yaml").write_text(
        f"database: {{url: '{sqlite_url}'}}\n"
        f"redis: {{url: '{redis_server_url}', key_prefix: agree}}\n"
        "ami: {enabled: false}\nagi: {port: 0}\nhttp: {port: 0}\n"
        f"paths: {{var: '{tmp_path / 'var'}', config: '{tmp_path / 'config'}', "
        f"menus: '{tmp_path / 'config' / 'menus'}'}}\n",
        encoding="utf-8",
    )
    return tmp_path


async def _serve_verdict(installation: Path) -> str | None:
    """What `kck serve` says at start: the error that stops it, or None once it is running."""
    settings = load_settings(installation / "settings.yaml", environ={})
    runtime = Runtime(settings, component_stop_s=2.0)
    try:
        await runtime.start()
    except USER_ERRORS as exc:
        return str(exc)
    finally:
        await runtime.stop()
    return None


@pytest.mark.parametrize("mutate", REFUSED.values(), ids=REFUSED.keys())
async def test_check_config_refuses_what_serve_refuses(
    installation: Path,
    mutate: Callable[[Path], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = mutate(installation / "config")
    code = main(["--config", str(installation / "settings.yaml"), "check-config"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("kck: error:")]
    assert errors and all(broken in line for line in errors), err
    assert "`kck serve` would refuse this configuration" in err
    served = await _serve_verdict(installation)
    assert served is not None and broken in served, served


async def test_a_menu_that_would_be_rejected_is_a_warning_for_both(
    installation: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _replace("menus/main.yaml", "next: check_hours", "next: check_hour")(installation / "config")
    settings = load_settings(installation / "settings.yaml", environ={})
    report = check_configuration(settings)
    assert report.ok and any("check_hour" in w for w in report.warnings), report
    config = ["--config", str(installation / "settings.yaml"), "check-config"]
    assert main(config) == 0
    assert "check_hour" in capsys.readouterr().err
    assert main([*config, "--strict"]) == 1
    # (after check-config: the desk's stemmer silences sys.stderr while it loads in a thread)
    assert await _serve_verdict(installation) is None  # serve starts; calls go to the fallback
