"""The shipped Asterisk configuration: rendered files, fallback dialplan, asterisklint checks."""

from __future__ import annotations

import dataclasses
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from asterisk.pbxconfig import (
    FILES,
    AgentPhone,
    AsteriskConfigInputs,
    ConfigInputError,
    OperatorTrunk,
    derive_sip_password,
    render_asterisk_config,
    render_asterisk_config_text,
)

AGENTS = (
    AgentPhone("101", "Anna Kowalska", "pass-101-xyz"),
    AgentPhone("102", "Łukasz Żółć", "pass-102-xyz", static_contact="sip:102@10.0.0.22"),
)
OPERATOR = OperatorTrunk(
    host="sip.operator.pl:5060",
    username="48126165555",
    password="op-pass-42",
    register=True,
    match=("192.0.2.0/28", "198.51.100.7"),
)


def section(text: str, header: str) -> str:
    """The lines of `[header]` up to the next section (the first such section)."""
    start = text.index(f"[{header}]\n")
    end = text.find("\n[", start + 1)
    return text[start : end if end != -1 else len(text)]


BASE_INPUTS = AsteriskConfigInputs(
    ami_secret="s3cret-s3cret-s3cret", agi_urls=("agi://10.0.0.5:4573/ivr",), agents=AGENTS
)


def inputs(**overrides: Any) -> AsteriskConfigInputs:
    """The base inputs with some fields changed (checked again, as a new instance is)."""
    return dataclasses.replace(BASE_INPUTS, **overrides)


def asterisklint(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("asterisklint", path=str(Path(sys.executable).parent))
    assert exe is not None, "asterisklint is in the dev dependency group"
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, check=False)


def config_messages(path: Path) -> str:
    """asterisklint's generic config parser (it has no checker for manager/pjsip/queues/moh
    semantics, only the file syntax); run in a subprocess because it keeps global state."""
    code = (
        "import sys\n"
        "from asterisklint import FileConfigParser\n"
        "from asterisklint.defines import MessageDefManager\n"
        "p = FileConfigParser(); p.include(sys.argv[1]); list(p)\n"
        "print(sorted(MessageDefManager.raised))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.strip() + out.stderr.strip()


def test_render_writes_the_five_files_with_secrets_not_world_readable(tmp_path: Path) -> None:
    paths = render_asterisk_config(inputs(), tmp_path / "asterisk")
    assert sorted(p.name for p in paths) == sorted(FILES)
    for p in paths:
        mode = stat.S_IMODE(p.stat().st_mode)
        if p.name in ("manager.conf", "pjsip.conf"):
            assert mode & 0o007 == 0, p
    assert "s3cret-s3cret-s3cret" in (tmp_path / "asterisk" / "manager.conf").read_text()


TWO_NODES = ("agi://10.0.0.5:4573/ivr", "agi://10.0.0.6:4573/ivr")
THREE_NODES = (*TWO_NODES, "agi://10.0.0.7:4573/ivr")


@pytest.mark.parametrize(
    ("urls", "spread"),
    [
        (("agi://10.0.0.5:4573/ivr",), False),
        (("agi://10.0.0.5:4573/ivr",), True),
        (TWO_NODES, False),
        (TWO_NODES, True),
        (THREE_NODES, True),
    ],
)
def test_generated_dialplan_passes_asterisklint(
    tmp_path: Path, urls: tuple[str, ...], spread: bool
) -> None:
    render_asterisk_config(inputs(agi_urls=urls, agi_spread=spread), tmp_path)
    result = asterisklint("dialplan-check", str(tmp_path / "extensions.conf"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_asterisklint_does_fail_on_a_broken_dialplan(tmp_path: Path) -> None:
    render_asterisk_config(inputs(), tmp_path)
    conf = tmp_path / "extensions.conf"
    conf.write_text(conf.read_text().replace("?done)", "?nowhere)"))
    result = asterisklint("dialplan-check", str(conf))
    assert result.returncode == 1


@pytest.mark.parametrize("trunk", [OperatorTrunk(), OPERATOR], ids=["no-operator", "operator"])
@pytest.mark.parametrize("name", ["manager.conf", "pjsip.conf", "queues.conf", "musiconhold.conf"])
def test_other_files_pass_asterisklint_config_syntax(
    tmp_path: Path, name: str, trunk: OperatorTrunk
) -> None:
    render_asterisk_config(inputs(trunk=trunk), tmp_path)
    assert config_messages(tmp_path / name) == "[]"


def test_hotline_runs_agi_then_falls_back_to_the_queue_with_every_agent(tmp_path: Path) -> None:
    render_asterisk_config(inputs(), tmp_path)
    dialplan = (tmp_path / "extensions.conf").read_text()
    hotline = dialplan[dialplan.index("exten => 126165555,1") :]
    order = [
        "Answer()",
        "AGI(agi://10.0.0.5:4573/ivr)",
        '"${AGISTATUS}" = "HANGUP"',
        '"${KCK_AGI_FAILURE}" != ""]?fallback',
        '"${KCK_DONE}" = "1"]?done',
        "n(fallback)",
        "Queue(${KCK_FALLBACK_QUEUE}",
        "n(done),Hangup",
    ]
    positions = [hotline.index(s) for s in order]
    assert positions == sorted(positions)
    queues = (tmp_path / "queues.conf").read_text()
    assert "[kck-fallback]" in queues and "strategy=ringall" in queues
    assert "member => PJSIP/101,0,Anna Kowalska,PJSIP/101" in queues
    assert "member => PJSIP/102,0,Łukasz Żółć,PJSIP/102" in queues


def _hotline_steps(dialplan: str) -> list[str]:
    """The hotline's priorities (`same => ...` lines), comments left out."""
    hotline = dialplan[dialplan.index("exten => 126165555,1") :]
    hotline = hotline[: hotline.index("\n\n")]
    return [line.strip() for line in hotline.splitlines()[1:] if line.strip().startswith("same")]


def _agi_blocks(steps: list[str]) -> list[list[str]]:
    """The AGI() URLs in the order the dialplan tries them, one list per `Goto(fallback)`-ended
    block; checks that every AGI after the first of a block runs only on AGISTATUS=FAILURE."""
    blocks: list[list[str]] = [[]]
    for before, step in zip(["", *steps], steps, strict=False):
        if ",AGI(" in step:
            if blocks[-1]:
                assert before == 'same => n,GotoIf($["${AGISTATUS}" != "FAILURE"]?fallback)'
            blocks[-1].append(step[step.index(",AGI(") + 5 : -1])
        elif step == "same => n,Goto(fallback)":
            blocks.append([])
    return blocks


def test_several_controllers_are_tried_in_order_only_while_unreachable(tmp_path: Path) -> None:
    render_asterisk_config(inputs(agi_urls=TWO_NODES), tmp_path)
    dialplan = (tmp_path / "extensions.conf").read_text()
    assert _agi_blocks(_hotline_steps(dialplan)) == [list(TWO_NODES)]
    assert "KCK_AGI_NEXT" not in dialplan


def test_spread_starts_each_call_with_the_next_controller_then_fails_over(tmp_path: Path) -> None:
    render_asterisk_config(inputs(agi_urls=THREE_NODES, agi_spread=True), tmp_path)
    dialplan = (tmp_path / "extensions.conf").read_text()
    assert "\nKCK_AGI_NEXT=0\n" in section(dialplan, "globals")
    steps = _hotline_steps(dialplan)
    a, b, c = THREE_NODES
    assert _agi_blocks(steps) == [[a, b, c], [b, c, a], [c, a, b]]
    # the counter moves on for every call, and the start picks the block
    assert "same => n,Set(KCK_AGI_FIRST=$[${KCK_AGI_NEXT} % 3])" in steps
    assert "same => n,Set(GLOBAL(KCK_AGI_NEXT)=$[(${KCK_AGI_FIRST} + 1) % 3])" in steps
    for start, url in ((1, b), (2, c)):
        assert f"same => n,GotoIf($[${{KCK_AGI_FIRST}} = {start}]?from{start})" in steps
        assert f"same => n(from{start}),AGI({url})" in steps
    assert steps.index("same => n(from1),AGI(agi://10.0.0.6:4573/ivr)") > steps.index(
        "same => n,GotoIf($[${KCK_AGI_FIRST} = 2]?from2)"
    )


def test_spread_with_one_controller_is_the_plain_dialplan(tmp_path: Path) -> None:
    render_asterisk_config(inputs(agi_spread=True), tmp_path)
    spread = (tmp_path / "extensions.conf").read_text()
    render_asterisk_config(inputs(), tmp_path)
    assert spread == (tmp_path / "extensions.conf").read_text()


def test_ami_user_gets_least_privileges_and_only_permitted_addresses(tmp_path: Path) -> None:
    render_asterisk_config(inputs(ami_permit=("10.0.0.5/255.255.255.255",)), tmp_path)
    manager = (tmp_path / "manager.conf").read_text()
    section = manager[manager.index("[kck]") :]
    assert "deny=0.0.0.0/0.0.0.0" in section
    assert "permit=10.0.0.5/255.255.255.255" in section
    assert "read=system,call,dialplan,agent\n" in section
    assert "write=system,call,originate,reporting\n" in section  # no "command" by default
    assert "all" not in section.split("read=")[1].split("\n")[0].split(",")


def test_ami_write_class_call_covers_control_playback_and_says_so(tmp_path: Path) -> None:
    render_asterisk_config(inputs(), tmp_path)
    manager = (tmp_path / "manager.conf").read_text()
    # Asterisk 22: `manager show command ControlPlayback` → Privilege: call,all
    assert "call" in manager.split("write=")[1].split("\n")[0].split(",")
    comment = manager[: manager.index("[kck]")]
    assert "ControlPlayback" in comment.split("write:")[1]


def test_music_on_hold_is_shuffled_with_sort_random_not_the_deprecated_random_option(
    tmp_path: Path,
) -> None:
    render_asterisk_config(inputs(), tmp_path)
    moh = section((tmp_path / "musiconhold.conf").read_text(), "default")
    assert "sort=random" in moh.splitlines() and "random=yes" not in moh


def test_agent_phones_register_or_use_a_static_contact(tmp_path: Path) -> None:
    render_asterisk_config(inputs(), tmp_path)
    pjsip = (tmp_path / "pjsip.conf").read_text()
    assert "password=pass-101-xyz" in pjsip
    registering = pjsip.split("[101]\ntype=aor\n")[1].split("\n\n")[0]
    assert "max_contacts=1" in registering and "contact=" not in registering
    desk = pjsip.split("[102]\ntype=aor\n")[1].split("\n\n")[0]
    assert "contact=sip:102@10.0.0.22" in desk and "max_contacts" not in desk


def test_without_operator_settings_there_is_no_placeholder_and_no_registration(
    tmp_path: Path,
) -> None:
    render_asterisk_config(inputs(), tmp_path)
    pjsip = (tmp_path / "pjsip.conf").read_text()
    assert "operator.example" not in pjsip and "CHANGE-ME" not in pjsip
    assert "type=registration" not in pjsip and "type=identify" not in pjsip
    assert "type=endpoint" in section(pjsip, "kck-trunk")  # PJSIP/<n>@kck-trunk finds it
    assert "outbound_auth" not in section(pjsip, "kck-trunk")  # no credentials, no auth


def test_operator_trunk_is_rendered_from_its_settings(tmp_path: Path) -> None:
    render_asterisk_config(inputs(trunk=OPERATOR), tmp_path)
    pjsip = (tmp_path / "pjsip.conf").read_text()
    endpoint = section(pjsip, "kck-trunk")
    assert "context=kck-inbound" in endpoint and "outbound_auth=kck-trunk-auth" in endpoint
    assert "password=op-pass-42" in section(pjsip, "kck-trunk-auth")
    assert "contact=sip:sip.operator.pl:5060" in pjsip.split("[kck-trunk]\ntype=aor\n")[1]
    identify = section(pjsip, "kck-trunk-identify").splitlines()
    assert "type=identify" in identify and "endpoint=kck-trunk" in identify
    assert [line for line in identify if line.startswith("match=")] == [
        "match=192.0.2.0/28",
        "match=198.51.100.7",
    ]
    registration = section(pjsip, "kck-trunk-registration").splitlines()
    assert "server_uri=sip:sip.operator.pl:5060" in registration
    assert "client_uri=sip:48126165555@sip.operator.pl:5060" in registration
    assert "contact_user=126165555" in registration  # the operator's INVITE reaches the hotline


@pytest.mark.parametrize(
    "trunk",
    [
        OperatorTrunk(register=True, username="u", password="p"),  # nowhere to register
        OperatorTrunk(host="sip.operator.pl", username="u", password="p"),  # register: false
    ],
)
def test_registration_needs_register_and_a_host(tmp_path: Path, trunk: OperatorTrunk) -> None:
    render_asterisk_config(inputs(trunk=trunk), tmp_path)
    assert "type=registration" not in (tmp_path / "pjsip.conf").read_text()


def test_operator_match_covering_a_desk_phone_is_refused() -> None:
    trunk = OperatorTrunk(match=("10.0.0.0/24",))
    with pytest.raises(ConfigInputError, match=r"trunk.match 10.0.0.0/24 covers agent 102"):
        inputs(trunk=trunk)
    inputs(trunk=OperatorTrunk(match=("10.0.1.0/24",)))  # the phones' network is left out: fine


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: OperatorTrunk(match=("operator",)), "trunk.match='operator'"),
        (lambda: OperatorTrunk(host="sip.op.pl;x"), "trunk.host"),
        (lambda: OperatorTrunk(password="p"), "trunk.username"),
        (lambda: AgentPhone("103", "Ola", "pass-103-xyz", static_contact="10.0.0.23"), "sip:"),
        (
            lambda: AgentPhone(
                "103", "Ola", "pass-103-xyz", static_contact="sip:1@h;transport=tcp"
            ),
            "agent 103: static_contact",
        ),
    ],
)
def test_bad_trunk_or_contact_is_refused_naming_the_field(
    make: Callable[[], object], needle: str
) -> None:
    with pytest.raises(ConfigInputError, match=needle):
        make()


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("hotline", "12616;5555", "hotline"),
        ("ami_secret", "short", "ami_secret"),
        ("ami_secret", "line\nbreak-secret", "ami_secret"),
        ("agi_urls", ("http://x/ivr",), "agi_urls"),
        ("agi_urls", (), "agi_urls"),
        ("ami_permit", ("any",), "ami_permit"),
    ],
)
def test_bad_inputs_are_refused_naming_the_field(field: str, value: object, needle: str) -> None:
    with pytest.raises(ConfigInputError, match=needle):
        inputs(**{field: value})


def test_agent_with_injected_section_is_refused() -> None:
    with pytest.raises(ConfigInputError, match="agent 101: password"):
        AgentPhone("101", "Anna", "x]\n[evil")
    with pytest.raises(ConfigInputError, match="appears twice"):
        inputs(agents=(AGENTS[0], AGENTS[0]))


def test_sip_passwords_derive_from_one_secret_per_extension() -> None:
    first = derive_sip_password("master-secret-123", "101")
    assert first == derive_sip_password("master-secret-123", "101")
    assert first != derive_sip_password("master-secret-123", "102")
    assert first != derive_sip_password("other-secret-456", "101")
    assert len(first) == 24
    AgentPhone("101", "Anna", first)  # acceptable as a phone password
    with pytest.raises(ConfigInputError, match="master secret"):
        derive_sip_password("short", "101")


@pytest.mark.parametrize(
    ("qualify_s", "line"), [(60, "qualify_frequency=60"), (0, "qualify_frequency=0")]
)
def test_trunk_qualify_interval_is_a_setting_and_can_be_switched_off(
    qualify_s: int, line: str
) -> None:
    """An operator that ignores OPTIONS leaves the trunk Unreachable and Asterisk dials nothing
    through it (seen on Asterisk 22: every callback failed "No route to destination")."""
    inputs = AsteriskConfigInputs(
        ami_secret="a-long-ami-secret",
        trunk=OperatorTrunk(host="sip.operator.pl", qualify_s=qualify_s),
    )
    pjsip = render_asterisk_config_text(inputs)["pjsip.conf"]
    trunk_aor = pjsip.split("[kck-trunk]\ntype=aor", 1)[1].split("\n[", 1)[0]
    assert line in trunk_aor
