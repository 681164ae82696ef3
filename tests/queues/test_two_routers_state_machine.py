"""Two routers sharing one Redis under random arrivals, answers, no-answers, hang-ups, timers
and crashes: no double assignment, no lost call, every call ends answered/abandoned/diverted,
nobody waits while a qualified agent is free, the statistics add up and the match indexes are
exactly in step with the calls and agents."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from kck.clock import ManualClock
from queues.model import AgentState, EndCause
from queues.policy import requirement_at
from queues.router import AgentStateRefused, Router
from tests.queues.conftest import make_config, request
from tests.queues.indexes import actual_indexes, expected_indexes
from tests.redis_replies import stream_events

TEAM = {
    "ala": {"taxes": 5, "english": 3},
    "bob": {"taxes": 2, "roads": 4},
    "cyd": {"general": 4},
    "dan": {"roads": 5, "waste": 3},
}
SKILLSETS = st.sampled_from(
    [{"taxes": 1}, {"roads": 2}, {"taxes": 1, "english": 2}, {"waste": 1}, {}, {"roads": 1}]
)
ENDED = {"answered", "abandoned", "voicemail", "transferred", "callback"}
_prefixes = itertools.count()


class TwoRouters(RuleBasedStateMachine):
    redis_url = ""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = ManualClock()
        self.config = make_config(TEAM, wrap_up_s=20)
        self.prefix = f"sm{next(_prefixes)}"
        self.clients: list[aioredis.Redis] = []
        self.routers = [self._new_router(), self._new_router()]
        self.enqueued: set[str] = set()
        self.crashes = 0

    def _new_router(self) -> Router:
        client = aioredis.from_url(self.redis_url)
        self.clients.append(client)
        return Router(client, self.config, prefix=self.prefix, clock=self.clock)

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        async def close() -> None:
            client = self.clients[0]
            keys = await client.keys(f"{self.prefix}:*")
            if keys:
                await client.delete(*keys)
            for c in self.clients:
                await c.aclose()

        self.run(close())
        self.loop.close()

    # helpers --------------------------------------------------------------------------------
    async def _calls(self) -> dict[str, dict[str, str]]:
        r = self.routers[0]
        out = {}
        for call_id in await r.store.live_call_ids():
            call = await r.store.call(call_id)
            if call is not None:
                out[call_id] = call
        return out

    async def _agents(self) -> dict[str, dict[str, str]]:
        r = self.routers[0]
        return {a: (await r.store.agent(a)) or {} for a in await r.store.agents()}

    async def _events(self, stream: str) -> list[tuple[str, dict[str, Any]]]:
        events = await stream_events(self.clients[0], f"{self.prefix}:stream:{stream}")
        return [(e.type, e.data) for e in events]

    def _pick(self, data: st.DataObject, items: list[str]) -> str | None:
        return data.draw(st.sampled_from(sorted(items))) if items else None

    # rules ----------------------------------------------------------------------------------
    @initialize(logged_in=st.sets(st.sampled_from(sorted(TEAM))))
    def shift_starts(self, logged_in: set[str]) -> None:
        for agent in sorted(logged_in):
            self.run(self.routers[0].agent_login(agent))

    @rule(which=st.integers(0, 1), skills=SKILLSETS, priority=st.integers(0, 2))
    def arrive(self, which: int, skills: dict[str, int], priority: int) -> None:
        req = request(self.clock, skills, priority)
        self.enqueued.add(req.call_id)
        self.run(self.routers[which].enqueue(req))

    @rule(which=st.integers(0, 1), agent=st.sampled_from(sorted(TEAM)))
    def agent_available(self, which: int, agent: str) -> None:
        with contextlib.suppress(AgentStateRefused):
            self.run(self.routers[which].set_agent_state(agent, AgentState.AVAILABLE))

    @rule(which=st.integers(0, 1), agent=st.sampled_from(sorted(TEAM)))
    def agent_pauses(self, which: int, agent: str) -> None:
        try:
            self.run(self.routers[which].set_agent_state(agent, AgentState.PAUSED, "break"))
        except AgentStateRefused:
            pass
        except Exception as exc:  # not logged in yet
            assert "has not logged in" in str(exc)

    @rule(which=st.integers(0, 1), agent=st.sampled_from(sorted(TEAM)))
    def agent_logs_out(self, which: int, agent: str) -> None:
        try:
            self.run(self.routers[which].set_agent_state(agent, AgentState.LOGGED_OUT))
        except AgentStateRefused:
            pass
        except Exception as exc:  # not logged in yet
            assert "has not logged in" in str(exc)

    @rule(which=st.integers(0, 1), agent=st.sampled_from(sorted(TEAM)), paused=st.booleans())
    def agent_logs_in(self, which: int, agent: str, paused: bool) -> None:
        self.run(self.routers[which].agent_login(agent, paused=paused))

    @rule(
        which=st.integers(0, 1),
        data=st.data(),
        outcome=st.sampled_from(["answer", "no_answer", "busy"]),
    )
    def agent_phone(self, which: int, data: st.DataObject, outcome: str) -> None:
        calls = self.run(self._calls())
        offered = [c["offer"] for c in calls.values() if c["state"] == "offered"]
        offer_id = self._pick(data, offered)
        if offer_id is None:
            return
        router = self.routers[which]
        if outcome == "answer":
            assert self.run(router.offer_answered(offer_id))
        else:
            self.run(router.offer_not_answered(offer_id, outcome))
            agent_phone = [a for a in TEAM if a]  # the phone is free again at once
            for agent in agent_phone:
                self.run(router.device_state(self.config.agents[agent].dial_string, "NOT_INUSE"))

    @rule(which=st.integers(0, 1), data=st.data())
    def hang_up(self, which: int, data: st.DataObject) -> None:
        calls = self.run(self._calls())
        live = [cid for cid, c in calls.items() if c.get("kind") != "callback"]
        call_id = self._pick(data, live)
        if call_id is None:
            return
        cause = (
            EndCause.COMPLETED if calls[call_id]["state"] == "on_call" else EndCause.CALLER_HANGUP
        )
        self.run(self.routers[which].call_ended(call_id, cause))

    @rule(which=st.integers(0, 1), data=st.data(), voicemail=st.booleans())
    def max_wait(self, which: int, data: st.DataObject, voicemail: bool) -> None:
        calls = self.run(self._calls())
        waiting = [
            cid for cid, c in calls.items() if c["state"] == "waiting" and c["kind"] == "inbound"
        ]
        call_id = self._pick(data, waiting)
        if call_id is None:
            return
        router = self.routers[which]
        if voicemail:
            self.run(router.call_ended(call_id, EndCause.VOICEMAIL))
        else:
            assert self.run(router.request_callback(call_id, "+48600100200"))

    @rule(which=st.integers(0, 1), seconds=st.integers(1, 100))
    def time_passes(self, which: int, seconds: int) -> None:
        self.clock.advance(seconds)
        self.run(self.routers[which].tick())

    @rule(which=st.integers(0, 1), data=st.data())
    def process_crashes_and_resyncs(self, which: int, data: st.DataObject) -> None:
        """The process dies (its callers' channels may die with the AGI sessions' server) and a
        new one starts on the same Redis, reconciling with what Asterisk still has."""
        self.crashes += 1
        self.routers[which] = self._new_router()
        calls = self.run(self._calls())
        uids = [c["uid"] for c in calls.values()]
        gone = set(data.draw(st.lists(st.sampled_from(uids), unique=True)) if uids else [])
        alive = {u for u in uids if u not in gone}
        self.run(self.routers[which].reconcile(alive, {}, self.clock.now()))

    # invariants -----------------------------------------------------------------------------
    @invariant()
    def no_double_assignment(self) -> None:
        calls = self.run(self._calls())
        agents = self.run(self._agents())
        holders: dict[str, str] = {}
        for call_id, call in calls.items():
            if call["state"] in ("offered", "on_call"):
                agent = call["agent"]
                assert agent not in holders, f"{agent} holds {holders.get(agent)} and {call_id}"
                holders[agent] = call_id
                assert agents[agent]["call"] == call_id
                assert agents[agent]["state"] == call["state"]
        for name, agent in agents.items():
            if agent.get("state") in ("offered", "on_call"):
                assert holders.get(name) == agent["call"]

    @invariant()
    def no_lost_call_and_every_end_is_known(self) -> None:
        calls = self.run(self._calls())
        ended = {
            d["call_id"]: d["outcome"]
            for t, d in self.run(self._events("queues"))
            if t == "call_ended"
        }
        assert set(calls) | set(ended) == self.enqueued
        assert not set(calls) & set(ended)
        assert set(ended.values()) <= ENDED

    @invariant()
    def nobody_waits_while_a_qualified_agent_is_free(self) -> None:
        calls = self.run(self._calls())
        agents = self.run(self._agents())
        free = [a for a, d in agents.items() if d.get("state") == "available"]
        steps = self.config.queues["city"].escalation
        now_ms = self.clock.now().timestamp() * 1000
        for call_id, call in calls.items():
            if call["state"] != "waiting":
                continue
            skills = json.loads(call["request"])["skills"]
            req = requirement_at(skills, steps, (now_ms - int(call["qms"])) / 1000)
            for agent in free:
                assert not req.qualifies(TEAM[agent]), f"{call_id} waits while {agent} is free"

    @invariant()
    def match_indexes_are_in_step_with_calls_and_agents(self) -> None:
        now_ms = int(self.clock.now().timestamp() * 1000)
        redis = self.clients[0]
        expected = self.run(expected_indexes(redis, self.prefix, self.config, now_ms))
        assert self.run(actual_indexes(redis, self.prefix)) == expected

    @invariant()
    def statistics_add_up(self) -> None:
        day = datetime.fromisoformat(self.clock.now().isoformat()).astimezone(
            self.routers[0].store.tz
        )
        raw = self.run(self.clients[0].hgetall(f"{self.prefix}:q:st:d:{day:%Y-%m-%d}:q:city"))
        st_ = {k.decode(): int(v) for k, v in raw.items()}
        calls = self.run(self._calls())
        events = self.run(self._events("queues"))
        outcomes = [d["outcome"] for t, d in events if t == "call_ended"]
        unanswered_live = sum(
            1 for c in calls.values() if c["kind"] == "inbound" and c["state"] != "on_call"
        )
        answered_inbound = sum(
            1 for t, d in events if t == "call_answered" and d["kind"] == "inbound"
        )
        assert st_.get("entered", 0) == len(self.enqueued)
        assert st_.get("answered", 0) == answered_inbound
        assert st_.get("abandoned", 0) == outcomes.count("abandoned")
        assert st_.get("entered", 0) == (
            st_.get("answered", 0)
            + st_.get("abandoned", 0)
            + st_.get("voicemail", 0)
            + st_.get("transferred", 0)
            + st_.get("callbacks_requested", 0)
            + unanswered_live
        )


def test_two_routers_sharing_redis_keep_every_promise(redis_server_url: str) -> None:
    TwoRouters.redis_url = redis_server_url
    run_state_machine_as_test(
        TwoRouters, settings=settings(max_examples=25, stateful_step_count=30, deadline=None)
    )
