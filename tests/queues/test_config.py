"""skills/queues/agents YAML: valid files load; mistakes are named with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from queues.config import QueueConfigError, load_routing_config

SKILLS = "skills:\n  - {id: taxes, name_pl: Podatki, name_en: Taxes}\n  - {id: general, name_pl: Ogólne, name_en: General}\n"
QUEUES = """queues:
  - id: city
    name_pl: Miasto
    name_en: City
    escalation:
      - {after_s: 0, min_level: 3}
      - {after_s: 30, add_skills: {general: 1}}
"""
AGENTS = 'agents:\n  - {username: ala, name: Ala, extension: "101", skills: {taxes: 4}}\n'


def write(tmp_path: Path, skills: str = SKILLS, queues: str = QUEUES, agents: str = AGENTS) -> Path:
    (tmp_path / "skills.yaml").write_text(skills, encoding="utf-8")
    (tmp_path / "queues.yaml").write_text(queues, encoding="utf-8")
    (tmp_path / "agents.yaml").write_text(agents, encoding="utf-8")
    return tmp_path


def test_valid_files_give_defaults_for_what_they_leave_out(tmp_path: Path) -> None:
    config = load_routing_config(write(tmp_path))
    queue = config.queues["city"]
    assert queue.service_level.target_pct == 80 and queue.service_level.within_s == 20
    assert queue.ring_timeout_s == 20 and queue.on_max_wait == "callback"
    assert config.agents["ala"].dial_string == "PJSIP/101"


def test_level_out_of_range_names_file_line_and_field(tmp_path: Path) -> None:
    bad = QUEUES.replace("min_level: 3", "min_level: 7")
    with pytest.raises(QueueConfigError) as err:
        load_routing_config(write(tmp_path, queues=bad))
    message = str(err.value)
    assert "queues.yaml:6:" in message and "queues.0.escalation.0.min_level" in message


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    bad = QUEUES.replace("    name_en: City\n", "    name_en: City\n    ring_timout_s: 5\n")
    with pytest.raises(QueueConfigError, match=r"queues.yaml:5:.*ring_timout_s: no such field"):
        load_routing_config(write(tmp_path, queues=bad))


def test_escalation_must_start_at_zero(tmp_path: Path) -> None:
    bad = QUEUES.replace("{after_s: 0, min_level: 3}", "{after_s: 10, min_level: 3}")
    with pytest.raises(QueueConfigError, match="after_s: 0"):
        load_routing_config(write(tmp_path, queues=bad))


def test_agent_with_an_unknown_skill_is_refused(tmp_path: Path) -> None:
    bad = AGENTS.replace("taxes: 4", "taxes: 4, roads: 2")
    with pytest.raises(QueueConfigError, match="agent 'ala': unknown skill 'roads'"):
        load_routing_config(write(tmp_path, agents=bad))


def test_two_agents_on_one_extension_are_refused(tmp_path: Path) -> None:
    bad = AGENTS + '  - {username: bob, name: Bob, extension: "101", skills: {taxes: 1}}\n'
    with pytest.raises(QueueConfigError, match="extension '101' is defined twice"):
        load_routing_config(write(tmp_path, agents=bad))


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(QueueConfigError, match=r"skills\.yaml:3:1: expected"):
        load_routing_config(write(tmp_path, skills="skills:\n  - {id: taxes\n"))


def test_missing_file_is_named(tmp_path: Path) -> None:
    write(tmp_path)
    (tmp_path / "agents.yaml").unlink()
    with pytest.raises(QueueConfigError, match=r"agents\.yaml: file not found"):
        load_routing_config(tmp_path)


def test_desk_phone_with_a_static_contact_is_accepted(tmp_path: Path) -> None:
    desk = AGENTS.replace(
        'extension: "101",', 'extension: "101", static_contact: "sip:101@10.0.0.21:5060",'
    )
    config = load_routing_config(write(tmp_path, agents=desk))
    assert config.agents["ala"].static_contact == "sip:101@10.0.0.21:5060"
    assert load_routing_config(write(tmp_path)).agents["ala"].static_contact is None


@pytest.mark.parametrize("contact", ["10.0.0.21:5060", "sip:101@10.0.0.21;transport=tcp", "sips:x"])
def test_static_contact_that_is_not_a_sip_uri_names_file_line_and_field(
    tmp_path: Path, contact: str
) -> None:
    bad = 'agents:\n  - username: ala\n    name: Ala\n    extension: "101"\n'
    bad += f'    static_contact: "{contact}"\n    skills: {{taxes: 4}}\n'
    with pytest.raises(QueueConfigError) as err:
        load_routing_config(write(tmp_path, agents=bad))
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'agents.yaml'}:5:")
    assert "agents.0.static_contact" in message and "sip:[user@]host[:port]" in message
