"""Two `kck serve` nodes behind one real Asterisk, one Redis, one PostgreSQL (issue 21).

The dialplan spreads the calls over both nodes' FastAGI addresses and fails over when one cannot
be reached (`asterisk.agi_urls`, `asterisk.agi_spread`). What must hold: a call held by either
node is offered to an agent whose desk is on the other and pops there, once; a node killed with
-9 loses no caller (its callers go to the fallback queue, new calls to the other node), the
call-history writer's lease moves, every call has exactly one row; the node comes back without
a restart of the other. The figures they print are in docs/deployment.md.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest
from sqlalchemy import select

from kck.db import create_engine, session_factory
from kck.db.models import Call
from tests.polling import until_true
from tests.real_asterisk.nodes import Nodes, board, comparable, supervisor_get
from tests.real_asterisk.observer import agi_command, named
from tests.real_asterisk.sipp import SippCaller
from tests.real_asterisk.sites import PREFIX, Site
from tests.real_asterisk.test_call_path import walk_to_id_cards

# the first asterisk test of a run also starts Asterisk and builds the prompts (~100 s)


async def _rows_by_number(nodes: Nodes) -> Counter[str]:
    engine = create_engine(nodes.database_url)
    try:
        async with session_factory(engine)() as db:
            return Counter(str(n) for n in await db.scalars(select(Call.caller_number)))
    finally:
        await engine.dispose()


async def _outcomes(nodes: Nodes) -> dict[str, str]:
    engine = create_engine(nodes.database_url)
    try:
        async with session_factory(engine)() as db:
            rows = (await db.execute(select(Call.caller_number, Call.outcome))).all()
            return {str(n): str(o) for n, o in rows}
    finally:
        await engine.dispose()


async def test_calls_on_either_node_pop_once_on_a_desk_of_the_other_and_boards_and_reports_agree(
    two_nodes: Nodes,
) -> None:
    first, second = two_nodes.nodes
    await first.phone("101", talk_ms=15000)
    await second.phone("107", talk_ms=15000)
    desks = {
        id(first): await first.agent("anowak", available=False),
        id(second): await second.agent("mzielinska", available=False),
    }
    served: list[tuple[SippCaller, Site]] = []
    for _ in range(2):
        caller = await first.call()
        node = await two_nodes.node_of(caller)
        other = second if node is first else first
        desk = desks[id(other)]
        await desk.set_state("available")  # only the other node's desk can take this call
        await walk_to_id_cards(first, caller)
        pop = await desk.wait_for(lambda m: m.kind == "pop", 30)
        assert pop.data["caller"]["e164"] == caller.number
        await first.observer.wait_for(
            named("BridgeEnter", Channel__startswith=f"PJSIP/{desk.extension}-"), 20
        )
        served.append((caller, node))
        # back from wrap-up this desk would be free for the next call too (the router may pick
        # it over the other node's desk): each desk takes one call here, so it pauses after it
        await desk.wait_state("wrap_up", 40)
        await desk.set_state("paused", "break")
    # the spread put one call on each node
    assert {id(node) for _, node in served} == {id(first), id(second)}
    for desk in desks.values():  # no call offered twice, no agent given two
        assert len(desk.pops()) == 1, [p.data for p in desk.pops()]
    for caller, _ in served:
        assert await caller.ended(30) == "asterisk"

    async def boards_agree() -> bool:
        one, two = await board(first), await board(second)
        answered = [q for q in one["queues"] if q.get("answered")]
        return comparable(one) == comparable(two) and sum(q["answered"] for q in answered) == 2

    await until_true(boards_agree, 20)
    for table in ("daily", "hourly", "waits"):  # and the reports
        path = f"/reports/{table}.csv"
        assert await supervisor_get(first, path) == await supervisor_get(second, path), table
    await until_true(
        lambda: _outcomes_are(two_nodes, {c.number: "answered" for c, _ in served}), 20
    )


async def _outcomes_are(nodes: Nodes, expected: dict[str, str]) -> bool:
    return await _outcomes(nodes) == expected


async def test_kill_9_of_a_node_loses_no_caller_and_no_row_and_it_joins_again(
    two_nodes: Nodes,
) -> None:
    # `first`: the node to be killed, the one writing the call history
    first = await two_nodes.writer_node()
    second = next(n for n in two_nodes.nodes if n is not first)
    made = [await first.call() for _ in range(4)]  # spread: two on each node
    held: dict[int, list[SippCaller]] = {id(first): [], id(second): []}
    for caller in made:
        held[id(await two_nodes.node_of(caller))].append(caller)
    assert len(held[id(first)]) == len(held[id(second)]) == 2
    in_ivr = held[id(first)][1]  # stays in the menu; the others wait in the queue

    async def into_place(caller: SippCaller) -> None:
        await first.answer_menu(caller, "choose_language", "1")
        if caller is in_ivr:
            await first.observer.wait_for(agi_command(caller.number, "/main_menu "), 30)
        else:
            await first.answer_menu(caller, "main_menu", "1")
            await first.observer.wait_for(agi_command(caller.number, "/queue_"), 60)

    await asyncio.gather(*(into_place(c) for c in made))

    killed = time.time()
    await first.serve.kill9()
    for caller in held[id(first)]:  # in the IVR and in the queue: to the fallback queue
        await first.observer.wait_for(
            named("QueueCallerJoin", CallerIDNum=caller.number, Queue="kck-fallback"), 10, killed
        )
        assert caller.ended_by is None, f"{caller.number} was dropped"

    async def writer_moved() -> bool:
        return await two_nodes.writer() == two_nodes.holder_of(second)

    await until_true(writer_moved, 20)
    print(f"\nkill -9: the call-history writer moved after {time.time() - killed:.1f} s")

    # new calls: all to the surviving node, the one that started with the dead node failing over
    fresh = [await second.call() for _ in range(2)]
    made += fresh
    for caller in fresh:
        assert await two_nodes.node_of(caller) is second
    await asyncio.gather(*(second.answer_menu(c, "choose_language", "1") for c in fresh))
    assert [two_nodes.agi_attempts(c) for c in made[-2:]].count([first, second]) == 1
    for caller in held[id(second)] + made[-2:]:
        assert not first.observer.find(
            named("QueueCallerJoin", CallerIDNum=caller.number, Queue="kck-fallback")
        ), f"{caller.number} of the live node went to the fallback queue"

    second_pid = two_nodes.pid_of(second)
    await first.serve.start()  # joins again; the other node is not restarted
    assert second.serve.running and two_nodes.pid_of(second) == second_pid
    joined = await first.call()
    made.append(joined)
    if await two_nodes.node_of(joined) is not first:  # the spread's turn: the next one is first's
        joined = await first.call()
        made.append(joined)
        assert await two_nodes.node_of(joined) is first
    await first.answer_menu(joined, "choose_language", "1")

    for caller in made:
        caller.hang_up()
    for caller in made:
        await caller.ended(20)

    async def every_call_once_and_closed() -> bool:
        rows = await _rows_by_number(two_nodes)
        outcomes = await _outcomes(two_nodes)
        return rows == Counter(c.number for c in made) and "in_progress" not in outcomes.values()

    try:
        await until_true(every_call_once_and_closed, 30)
    except TimeoutError:
        raise AssertionError(
            f"rows {await _rows_by_number(two_nodes)} outcomes {await _outcomes(two_nodes)} "
            f"for calls {[c.number for c in made]}"
        ) from None
    outcomes = await _outcomes(two_nodes)
    for caller in held[id(first)]:
        assert outcomes[caller.number] == "fallback_abandoned", outcomes
    print(f"kill -9: {len(made)} calls, {len(held[id(first)])} callers of the killed node, "
          f"0 dropped, rows {sum((await _rows_by_number(two_nodes)).values())}")  # fmt: skip


@pytest.mark.parametrize("two_nodes", [True, False], indirect=True, ids=["aof", "no-persistence"])
async def test_redis_killed_and_restarted_under_two_nodes(two_nodes: Nodes) -> None:
    """docs/deployment.md, "Redis restarts": with AOF the live state comes back and calls are
    routed as before; without persistence the agents are signed out of routing (the desk says
    so: their web sessions lived in Redis too) and take calls again once they have signed in
    again; both nodes carry on unrestarted, and the call-history writer too."""
    persistent = two_nodes.redis_server.appendonly
    first, second = two_nodes.nodes
    await first.phone("101", talk_ms=1000)
    desk = await second.agent("anowak")  # desk on one node, the call on either
    pids = [two_nodes.pid_of(n) for n in two_nodes.nodes]
    restarted = time.time()
    await asyncio.to_thread(two_nodes.redis_server.kill)
    await asyncio.to_thread(two_nodes.redis_server.start_again)
    for node in two_nodes.nodes:
        await node.serve.wait_healthy(30)
    assert [two_nodes.pid_of(n) for n in two_nodes.nodes] == pids

    async def writer_held() -> bool:
        return await two_nodes.writer() is not None

    await until_true(writer_held, 20)
    agent = await first.redis().hgetall(f"{PREFIX}:q:agent:anowak")
    if persistent:
        assert agent.get("state") == "available"
        assert "logged_out" not in desk.states()
    else:
        assert not agent  # the live state is gone with the server
        await desk.wait_state("logged_out", 20, since=restarted)
        desk = await second.agent("anowak")  # signs in again
    caller = await first.call()
    await walk_to_id_cards(first, caller)
    pop = await desk.wait_for(lambda m: m.kind == "pop", 40)
    assert pop.data["caller"]["e164"] == caller.number
    await first.observer.wait_for(named("BridgeEnter", Channel__startswith="PJSIP/101-"), 20)
    assert await caller.ended(20) == "asterisk"
    await until_true(lambda: _outcomes_are(two_nodes, {caller.number: "answered"}), 20)
