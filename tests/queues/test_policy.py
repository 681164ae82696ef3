"""The routing rules as pure code: escalation, call order, agent choice, wait estimate."""

from __future__ import annotations

from queues.config import EscalationStep
from queues.estimate import estimated_wait_s
from queues.policy import (
    ANY_SKILL,
    IdleAgent,
    Requirement,
    WaitingCall,
    match_all,
    next_escalation_s,
    pick_agent,
    pick_match,
    requirement_at,
)

STEPS = (
    EscalationStep(after_s=0, min_level=3),
    EscalationStep(after_s=30, min_level=1),
    EscalationStep(after_s=90, add_skills={"general": 1}),
)


def call(
    call_id: str, queued_at: float, skills: dict[str, int], priority: int = 0, at_head: bool = False
) -> WaitingCall:
    return WaitingCall(call_id, priority, queued_at, skills, STEPS, at_head)


def agent(name: str, idle_since: float, **skills: int) -> IdleAgent:
    return IdleAgent(name, skills, idle_since)


def test_first_step_requires_the_steps_minimum_level_on_the_primary_skill() -> None:
    req = requirement_at({"taxes": 1, "english": 2}, STEPS, 0)
    assert req == Requirement("taxes", 3, {"english": 2}, {})


def test_requirement_relaxes_to_level_one_after_thirty_seconds() -> None:
    assert requirement_at({"taxes": 1}, STEPS, 29.9).primary_level == 3
    assert requirement_at({"taxes": 1}, STEPS, 30).primary_level == 1


def test_general_skill_is_added_after_ninety_seconds_and_stays_added() -> None:
    assert requirement_at({"taxes": 1}, STEPS, 89).alternatives == {}
    assert requirement_at({"taxes": 1}, STEPS, 90).alternatives == {"general": 1}
    assert requirement_at({"taxes": 1}, STEPS, 5000).alternatives == {"general": 1}


def test_step_without_min_level_keeps_the_level_the_ivr_asked_for() -> None:
    steps = (EscalationStep(after_s=0),)
    assert requirement_at({"roads": 4}, steps, 100).primary_level == 4


def test_call_without_skills_may_go_to_any_agent() -> None:
    req = requirement_at({}, STEPS, 0)
    assert req.primary == ANY_SKILL
    assert req.qualifies({"waste": 1})


def test_next_escalation_is_the_start_of_the_following_step() -> None:
    assert next_escalation_s(STEPS, 0) == 30
    assert next_escalation_s(STEPS, 30) == 90
    assert next_escalation_s(STEPS, 90) is None


def test_agent_below_the_level_does_not_qualify_until_escalation() -> None:
    junior = agent("junior", 0, taxes=1)
    assert pick_agent(requirement_at({"taxes": 1}, STEPS, 10), [junior]) is None
    assert pick_agent(requirement_at({"taxes": 1}, STEPS, 31), [junior]) is junior


def test_secondary_skills_must_all_be_met() -> None:
    req = requirement_at({"taxes": 1, "english": 3}, STEPS, 40)
    assert pick_agent(req, [agent("pl_only", 0, taxes=5)]) is None
    assert pick_agent(req, [agent("bilingual", 0, taxes=1, english=3)]) is not None


def test_best_level_on_the_primary_skill_wins_over_longer_idle() -> None:
    req = requirement_at({"taxes": 1}, STEPS, 40)
    expert = agent("expert", idle_since=100, taxes=5)
    long_idle = agent("long_idle", idle_since=0, taxes=3)
    assert pick_agent(req, [long_idle, expert]) is expert


def test_longest_idle_wins_between_equal_levels() -> None:
    req = requirement_at({"taxes": 1}, STEPS, 40)
    a = agent("a", idle_since=50, taxes=4)
    b = agent("b", idle_since=10, taxes=4)
    assert pick_agent(req, [a, b]) is b


def test_agents_by_the_main_rule_come_before_agents_added_by_escalation() -> None:
    req = requirement_at({"taxes": 1}, STEPS, 100)
    generalist = agent("generalist", idle_since=0, general=5)
    specialist = agent("specialist", idle_since=90, taxes=1)
    assert pick_agent(req, [generalist, specialist]) is specialist
    assert pick_agent(req, [generalist]) is generalist


def test_higher_priority_call_goes_first_even_if_younger() -> None:
    old = call("old", 0, {"taxes": 1})
    urgent = call("urgent", 50, {"taxes": 1}, priority=5)
    found = pick_match([old, urgent], [agent("a", 0, taxes=5)], now=60)
    assert found is not None and found[0] is urgent


def test_longest_waiting_call_goes_first_within_a_priority() -> None:
    first = call("first", 0, {"taxes": 1})
    second = call("second", 10, {"taxes": 1})
    found = pick_match([second, first], [agent("a", 0, taxes=5)], now=20)
    assert found is not None and found[0] is first


def test_caller_sent_back_to_the_head_goes_before_older_callers() -> None:
    older = call("older", 0, {"taxes": 1})
    returned = call("returned", 20, {"taxes": 1}, at_head=True)
    found = pick_match([older, returned], [agent("a", 0, taxes=5)], now=30)
    assert found is not None and found[0] is returned


def test_call_nobody_can_take_yet_is_skipped_for_a_younger_one() -> None:
    hard = call("hard", 0, {"taxes": 1, "ukrainian": 3})
    easy = call("easy", 10, {"taxes": 1})
    assert match_all([hard, easy], [agent("a", 0, taxes=4)], now=20) == [("easy", "a")]


def test_match_all_pairs_each_agent_and_call_once() -> None:
    calls = [call(f"c{i}", i, {"taxes": 1}) for i in range(3)]
    agents = [agent("x", 0, taxes=3), agent("y", 5, taxes=5)]
    assert match_all(calls, agents, now=10) == [("c0", "y"), ("c1", "x")]


def test_estimate_scales_recent_seconds_per_place_by_position() -> None:
    recent = [(120.0, 4), (60.0, 2)]  # 30 s per place each
    assert estimated_wait_s(3, recent) == 90.0


def test_no_estimate_without_recent_answered_calls() -> None:
    assert estimated_wait_s(3, []) is None
