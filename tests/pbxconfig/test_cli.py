"""`kck asterisk config` as an operator runs it: settings + agents.yaml in, checked files out."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[2]


def kck(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("KCK_")}
    full.update(env, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "kck.cli", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


def install(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "config", tmp_path / "config")
    return tmp_path


def test_config_for_every_agent_passes_asterisklint_and_keeps_phone_passwords(
    tmp_path: Path,
) -> None:
    home = install(tmp_path)
    out = tmp_path / "asterisk"
    env = {"KCK_AMI_SECRET": "a-long-ami-secret-42", "KCK_AGI_PORT": "4573"}
    first = kck(
        ["asterisk", "config", "--out", str(out), "--agi-url", "agi://10.0.0.7:4573/ivr"], home, env
    )
    assert first.returncode == 0, first.stderr
    dialplan = (out / "extensions.conf").read_text()
    assert "exten => 126165555,1," in dialplan
    assert "AGI(agi://10.0.0.7:4573/ivr)" in dialplan
    pjsip = (out / "pjsip.conf").read_text()
    assert "[101]" in pjsip and "Anna Nowak" in pjsip
    secrets_file = out / "phone-secrets.yaml"
    assert secrets_file.stat().st_mode & 0o077 == 0
    before = secrets_file.read_text()

    again = kck(["asterisk", "config", "--out", str(out)], home, env)
    assert again.returncode == 0, again.stderr
    assert secrets_file.read_text() == before  # re-running does not rotate the phones' passwords

    lint = shutil.which("asterisklint", path=str(Path(sys.executable).parent))
    assert lint is not None
    check = subprocess.run(
        [lint, "dialplan-check", str(out / "extensions.conf")], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_missing_ami_secret_is_one_clear_line(tmp_path: Path) -> None:
    result = kck(["asterisk", "config", "--out", str(tmp_path / "out")], install(tmp_path), {})
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "kck: error: ami.secret is empty: set KCK_AMI_SECRET (12+ characters) first"
    )
