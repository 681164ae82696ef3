"""`kck asterisk config` as an operator runs it: settings + agents.yaml in, checked files out."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from kck.phone import TrunkDial
from kck.settings import load_settings

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


AMI = {"KCK_AMI_SECRET": "a-long-ami-secret-42"}
OPERATOR = {
    **AMI,
    "KCK_TRUNK_HOST": "sip.operator.pl:5060",
    "KCK_TRUNK_USERNAME": "48126165555",
    "KCK_TRUNK_PASSWORD": "op-pass-from-env",
    "KCK_TRUNK_REGISTER": "true",
    "KCK_TRUNK_MATCH": "192.0.2.0/28, 198.51.100.7",
}


def with_agent_line(home: Path, after: str, line: str) -> Path:
    """Add `line` to config/agents.yaml after the first line containing `after`."""
    agents = home / "config" / "agents.yaml"
    lines = agents.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(n for n, text in enumerate(lines) if after in text) + 1
    agents.write_text("".join([*lines[:at], line, *lines[at:]]), encoding="utf-8")
    return agents


def test_trunk_comes_from_the_settings_and_is_the_endpoint_kck_dials(tmp_path: Path) -> None:
    home = install(tmp_path)
    out = tmp_path / "asterisk"
    result = kck(["asterisk", "config", "--out", str(out)], home, OPERATOR)
    assert result.returncode == 0, result.stderr
    pjsip = (out / "pjsip.conf").read_text()
    # what the callback dialer and the IVR's transfer dial, with the same settings
    settings = load_settings(home / "config" / "settings.yaml", environ=OPERATOR)
    endpoint = TrunkDial.from_settings(settings)("+48600100200").split("@")[1]
    assert f"[{endpoint}]\ntype=endpoint\n" in pjsip
    assert "password=op-pass-from-env" in pjsip
    assert "match=192.0.2.0/28\nmatch=198.51.100.7\n" in pjsip
    assert "type=registration" in pjsip and "server_uri=sip:sip.operator.pl:5060" in pjsip
    # identify by address wins over user name: the operator is told to keep phones outside
    assert "trunk.match (192.0.2.0/28, 198.51.100.7)" in result.stderr
    assert "agent" in result.stderr and "match is empty" not in result.stderr


def test_without_operator_settings_the_cli_warns_and_writes_no_placeholder(tmp_path: Path) -> None:
    out = tmp_path / "asterisk"
    result = kck(["asterisk", "config", "--out", str(out)], install(tmp_path), AMI)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("kck: warning:")]
    assert any("trunk.match is empty" in w and "No matching endpoint found" in w for w in warnings)
    assert any("trunk.host is empty" in w for w in warnings)
    pjsip = (out / "pjsip.conf").read_text()
    assert "type=registration" not in pjsip and "operator.example" not in pjsip


def test_sip_port_is_a_setting(tmp_path: Path) -> None:
    out = tmp_path / "asterisk"
    env = {**AMI, "KCK_ASTERISK_SIP_PORT": "5260"}
    result = kck(["asterisk", "config", "--out", str(out)], install(tmp_path), env)
    assert result.returncode == 0, result.stderr
    assert "bind=0.0.0.0:5260\n" in (out / "pjsip.conf").read_text()


def test_static_contact_in_agents_yaml_reaches_the_phone_in_pjsip_conf(tmp_path: Path) -> None:
    home = install(tmp_path)
    with_agent_line(home, 'extension: "101"', "    static_contact: sip:101@10.0.0.21:5060\n")
    out = tmp_path / "asterisk"
    result = kck(["asterisk", "config", "--out", str(out)], home, AMI)
    assert result.returncode == 0, result.stderr
    pjsip = (out / "pjsip.conf").read_text()
    assert "[101]\ntype=aor\n" in pjsip
    assert "contact=sip:101@10.0.0.21:5060" in pjsip.split("[101]\ntype=aor\n")[1].split("\n\n")[0]


def test_static_contact_that_is_not_a_sip_uri_names_file_and_line(tmp_path: Path) -> None:
    home = install(tmp_path)
    agents = with_agent_line(home, 'extension: "101"', "    static_contact: 10.0.0.21:5060\n")
    line = (
        agents.read_text(encoding="utf-8").splitlines().index("    static_contact: 10.0.0.21:5060")
    )
    result = kck(["asterisk", "config", "--out", str(tmp_path / "out")], home, AMI)
    assert result.returncode == 1
    [message] = result.stderr.strip().splitlines()
    assert message.startswith(f"kck: error: {agents}:{line + 1}:"), message
    assert "static_contact" in message and "sip:" in message


def test_match_covering_a_desk_phone_is_refused(tmp_path: Path) -> None:
    home = install(tmp_path)
    with_agent_line(home, 'extension: "101"', "    static_contact: sip:101@10.0.0.21:5060\n")
    env = {**AMI, "KCK_TRUNK_MATCH": "10.0.0.0/16"}
    result = kck(["asterisk", "config", "--out", str(tmp_path / "out")], home, env)
    assert result.returncode == 1
    [message] = result.stderr.strip().splitlines()
    assert message.startswith("kck: error: trunk.match 10.0.0.0/16 covers agent 101's phone")


def test_controllers_urls_and_spread_are_settings(tmp_path: Path) -> None:
    home = install(tmp_path)
    out = tmp_path / "asterisk"
    urls = "agi://10.0.0.7:4573/ivr, agi://10.0.0.8:4573/ivr"
    env = {
        "KCK_AMI_SECRET": "a-long-ami-secret-42",
        "KCK_ASTERISK_AGI_URLS": urls,
        "KCK_ASTERISK_AGI_SPREAD": "true",
    }
    result = kck(["asterisk", "config", "--out", str(out)], home, env)
    assert result.returncode == 0, result.stderr
    dialplan = (out / "extensions.conf").read_text()
    assert "n(from0),AGI(agi://10.0.0.7:4573/ivr)" in dialplan
    assert "n(from1),AGI(agi://10.0.0.8:4573/ivr)" in dialplan
    assert "GLOBAL(KCK_AGI_NEXT)" in dialplan
