"""The routing rules as pure code: escalation over time, call order, agent choice (no Redis).

The Lua script in `queues/lua/router.lua` implements the same rules on Redis indexes; the
tests in tests/queues/ check both against each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from queues.config import EscalationStep

ANY_SKILL = "__any__"  # a call without skills may be taken by any agent


@dataclass(frozen=True)
class Requirement:
    """Who may take a call right now.

    An agent qualifies *by the main rule* when their level in `primary` is at least
    `primary_level` and they meet every one of `others`; or *by escalation* when they have any
    skill in `alternatives` at the level given there.
    """

    primary: str
    primary_level: int
    others: Mapping[str, int] = field(default_factory=dict)
    alternatives: Mapping[str, int] = field(default_factory=dict)

    def by_main_rule(self, skills: Mapping[str, int]) -> bool:
        if self.primary != ANY_SKILL and skills.get(self.primary, 0) < self.primary_level:
            return False
        return all(skills.get(s, 0) >= lvl for s, lvl in self.others.items())

    def by_escalation(self, skills: Mapping[str, int]) -> int:
        """The best level among matched escalation skills (0 = none match)."""
        best = 0
        for skill, level in self.alternatives.items():
            have = skills.get(skill, 0)
            if have >= level:
                best = max(best, have)
        return best

    def qualifies(self, skills: Mapping[str, int]) -> bool:
        return self.by_main_rule(skills) or self.by_escalation(skills) > 0


def step_index(steps: Sequence[EscalationStep], waited_s: float) -> int:
    """The escalation step in force after `waited_s` seconds of waiting."""
    index = 0
    for n, step in enumerate(steps):
        if waited_s >= step.after_s:
            index = n
    return index


def requirement_at(
    skills: Mapping[str, int], steps: Sequence[EscalationStep], waited_s: float
) -> Requirement:
    """The requirement of a call that asked for `skills` (first = primary) after `waited_s`."""
    step_no = step_index(steps, waited_s)
    step = steps[step_no]
    alternatives: dict[str, int] = {}
    for earlier in steps[: step_no + 1]:  # added skills stay added
        for skill, level in earlier.add_skills.items():
            alternatives[skill] = min(level, alternatives.get(skill, level))
    if not skills:
        return Requirement(ANY_SKILL, 1, {}, alternatives)
    primary, requested = next(iter(skills.items()))
    level = step.min_level if step.min_level is not None else requested
    others = {s: lvl for s, lvl in skills.items() if s != primary}
    return Requirement(primary, max(1, level), others, alternatives)


def next_escalation_s(steps: Sequence[EscalationStep], waited_s: float) -> int | None:
    """Seconds of waiting at which the next step starts (None: the last step is in force)."""
    for step in steps:
        if step.after_s > waited_s:
            return step.after_s
    return None


@dataclass(frozen=True)
class WaitingCall:
    """A call in the queue as the policy sees it (times in seconds on one clock)."""

    call_id: str
    priority: int
    queued_at: float
    skills: Mapping[str, int]
    steps: Sequence[EscalationStep]
    at_head: bool = False  # came back after an agent did not answer

    def requirement(self, now: float) -> Requirement:
        return requirement_at(self.skills, self.steps, now - self.queued_at)


@dataclass(frozen=True)
class IdleAgent:
    """An agent who is available with a phone that is free."""

    username: str
    skills: Mapping[str, int]
    idle_since: float


def call_order_key(call: WaitingCall) -> tuple[int, int, float, str]:
    """Highest priority first; within a priority, callers sent back to the head, then the
    longest wait; the call id breaks exact ties so the order is total."""
    return (-call.priority, 0 if call.at_head else 1, call.queued_at, call.call_id)


def agent_rank_key(req: Requirement, agent: IdleAgent) -> tuple[int, int, float, str] | None:
    """None when the agent does not qualify; else smaller is better: agents qualifying by the
    main rule before those qualifying only by escalation; then the best level (primary skill,
    or the added skill for escalation), then the longest idle."""
    if req.by_main_rule(agent.skills):
        level = 5 if req.primary == ANY_SKILL else agent.skills.get(req.primary, 0)
        return (0, -level, agent.idle_since, agent.username)
    alt = req.by_escalation(agent.skills)
    if alt:
        return (1, -alt, agent.idle_since, agent.username)
    return None


def pick_agent(req: Requirement, agents: Iterable[IdleAgent]) -> IdleAgent | None:
    best: tuple[tuple[int, int, float, str], IdleAgent] | None = None
    for agent in agents:
        key = agent_rank_key(req, agent)
        if key is not None and (best is None or key < best[0]):
            best = (key, agent)
    return None if best is None else best[1]


def pick_match(
    calls: Iterable[WaitingCall], agents: Sequence[IdleAgent], now: float
) -> tuple[WaitingCall, IdleAgent] | None:
    """The next match: the first call in call order that any idle agent may take, with the
    best of those agents."""
    for call in sorted(calls, key=call_order_key):
        agent = pick_agent(call.requirement(now), agents)
        if agent is not None:
            return call, agent
    return None


def match_all(
    calls: Iterable[WaitingCall], agents: Sequence[IdleAgent], now: float
) -> list[tuple[str, str]]:
    """Repeat `pick_match` until nothing more matches: [(call_id, username), …] in order."""
    waiting = list(calls)
    idle = list(agents)
    out: list[tuple[str, str]] = []
    while (found := pick_match(waiting, idle, now)) is not None:
        call, agent = found
        out.append((call.call_id, agent.username))
        waiting.remove(call)
        idle.remove(agent)
    return out
