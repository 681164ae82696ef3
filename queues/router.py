"""The router's public face: enqueue calls, agent states, offer outcomes, timers, live reads."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

from kck.bus import LiveSubscription
from kck.clock import Clock, SystemClock
from kck.inbox import Inbox
from kck.lease import holder_name
from kck.live_channels import LiveChannels
from kck.stopping import TASK_STOP_S, stop_task
from queues.config import QueueConfig, QueueConfigError, RoutingConfig
from queues.estimate import estimated_wait_s
from queues.events import RouterEvent, decode_event
from queues.model import (
    AgentState,
    AgentStatus,
    EndCause,
    Offer,
    RoutingRequest,
    TransferKind,
    TransferTarget,
)
from queues.policy import ANY_SKILL, requirement_at
from queues.store import RouterStore

log = logging.getLogger(__name__)


# A process holding callers renews its key well within this (queues.presence beats every second)
NODE_TTL_S = 5


class AgentStateRefused(Exception):
    """The agent cannot change state now (e.g. pausing while a call rings or is connected);
    `busy` names the agent's state that stands in the way (`offered`, `on_call`), if that is why."""

    def __init__(self, message: str, busy: str | None = None) -> None:
        super().__init__(message)
        self.busy = busy


class UnknownAgent(Exception):
    """No agent with this username is configured or logged in."""


class TransferRefused(Exception):
    """The router would not transfer the call; `reason` is a code the desk words:
    `not_on_call`, `agent_unavailable`, `same_agent`, `unknown_target`."""

    def __init__(self, reason: str, message: str, state: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.state = state  # agent_unavailable: the target agent's state


def _offers(raw: list[str]) -> list[Offer]:
    return [Offer.from_dict(json.loads(item)) for item in raw]


class CallWaiters:
    """One live subscription per process (on the process's shared pub/sub connection when the
    composition root gives `live`); hands call events (decoded: `queues.events`) to the local
    waiting loops.

    A loop may also be told at once (`on_event`, called in the listener) — e.g. to cut short
    the music or announcement its caller hears when an offer comes."""

    def __init__(
        self, redis: aioredis.Redis, channel: str, live: LiveChannels | None = None
    ) -> None:
        self.redis = redis
        self.channel = channel
        self.live = live if live is not None else LiveChannels(redis)
        self._queues: dict[str, Inbox[RouterEvent]] = {}
        self._hooks: dict[str, Callable[[RouterEvent], None]] = {}
        self._subscription: LiveSubscription | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Return once subscribed, so no event published after start is missed."""
        if self._task is None:
            self._subscription = await self.live.subscription([self.channel]).open()
            self._task = asyncio.create_task(
                self._listen(self._subscription), name="queue-call-waiters"
            )

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None
        if self._task is not None:
            await stop_task(self._task, within=TASK_STOP_S, what="queue call subscription")
            self._task = None

    def register(
        self, call_id: str, on_event: Callable[[RouterEvent], None] | None = None
    ) -> Inbox[RouterEvent]:
        if on_event is not None:
            self._hooks[call_id] = on_event
        inbox = self._queues.get(call_id)
        if inbox is None:
            inbox = self._queues[call_id] = Inbox()
        return inbox

    def unregister(self, call_id: str) -> None:
        self._queues.pop(call_id, None)
        self._hooks.pop(call_id, None)

    def deliver(self, kind: str, data: dict[str, Any]) -> None:
        """Hand one call event to the loop holding that call in this process, if any."""
        queue = self._queues.get(str(data.get("call_id")))
        if queue is None:
            return
        try:
            event = decode_event(kind, data)
        except ValueError as bad:
            log.warning("%s; ignored", bad)
            return
        queue.put_nowait(event)
        hook = self._hooks.get(str(data.get("call_id")))
        if hook is not None:
            try:
                hook(event)
            except Exception:
                log.exception("call %s: event hook failed", data.get("call_id"))

    async def _listen(self, live: LiveSubscription) -> None:
        # After a lost connection the subscription's RESUBSCRIBED names no call and is passed
        # over: the waiting loops re-read Redis on every announcement, so a gap loses nothing.
        async for kind, data in live:
            self.deliver(kind, data)


class Router:
    """Skill-based routing on a shared Redis; safe to run in several processes at once."""

    def __init__(
        self,
        redis: aioredis.Redis,
        config: RoutingConfig,
        *,
        prefix: str = "kck",
        clock: Clock | None = None,
        tz: ZoneInfo | None = None,
        node: str | None = None,
        live: LiveChannels | None = None,
    ) -> None:
        """`live`: the process's shared pub/sub connection (`EventBus.live`); without it the
        router's waiting loops get a connection of their own."""
        self.config = config
        self.clock = clock or SystemClock()
        # this process as a holder of callers (see `node_alive`): unique per start, so a
        # restarted process never inherits the calls its predecessor held
        self.node = node or f"{holder_name()}-{secrets.token_hex(3)}"
        self.node_ttl_s = NODE_TTL_S
        self.store = RouterStore(redis, prefix=prefix, clock=self.clock, tz=tz)
        self.waiters = CallWaiters(redis, f"{prefix}:live:queue_calls", live)
        self.on_next_due: Callable[[int | None], None] | None = None

    async def _run(self, op: str, *args: str | int | float) -> tuple[str, list[Offer]]:
        status, due, raw = await self.store.run(op, *args)
        if self.on_next_due is not None:
            self.on_next_due(due)
        offers = _offers(raw)
        for offer in offers:
            log.info("offered call %s to %s (%s)", offer.call_id, offer.agent, offer.offer_id)
        return status, offers

    # calls ----------------------------------------------------------------------------------
    async def enqueue(
        self,
        request: RoutingRequest,
        *,
        node: str | None = None,
        callback_number: str | None = None,
    ) -> Offer | None:
        """Put a call in its queue; returns the offer when an agent was free at once.

        `node`: the controller process whose waiting loop holds the caller; the call is offered
        only while that process renews its heartbeat (`node_alive`). `callback_number`: the call
        joins as a callback request (nobody on the line; an agent is offered a callback)."""
        queue = self.config.queue(request.queue)
        for skill in request.skills:
            if skill not in self.config.skills:
                raise QueueConfigError(
                    f"routing request {request.call_id}: unknown skill {skill!r}"
                )
        if not -99 <= request.priority <= 99:
            raise ValueError(f"routing request {request.call_id}: priority must be -99…99")
        fields: dict[str, str | int | float] = {  # by name: ENQUEUE_FIELDS in router.lua
            "call_id": request.call_id,
            "request": json.dumps(request.to_dict(), ensure_ascii=False),
            "queue": request.queue,
            "priority": request.priority,
            **_routing_fields(request.skills, queue),
            "short_abandon_s": self.config.short_abandon_s,
            "uniqueid": request.uniqueid,
            "node": node or "",
            "node_ttl_s": self.node_ttl_s,
            "callback_number": callback_number or "",
            "callback_attempts": queue.callback_attempts,
            "callback_retry_s": queue.callback_retry_s,
        }
        status, offers = await self._run("enqueue", *itertools.chain(*fields.items()))
        if status == "duplicate":
            log.warning("call %s is already queued; enqueue ignored", request.call_id)
        return next((o for o in offers if o.call_id == request.call_id), None)

    async def transfer(
        self,
        call_id: str,
        agent: str,
        target: TransferTarget,
        handover: Mapping[str, Any] | None = None,
    ) -> None:
        """`agent`, talking on `call_id`, sends the caller to `target` (docs/desk.md): the agent
        goes to wrap-up, the caller's waiting loop drops the agent's leg and goes on with the
        call. `handover` (the agent's notes, the ticket draft) travels with the call to the next
        desk's pop. Raises `TransferRefused`."""
        request = await self._handed_over(call_id, agent, handover)
        fields: dict[str, str | int | float] = {
            "call_id": call_id,
            "agent": agent,
            "kind": target.kind.value,
            "to": target.to,
        }
        if target.kind is TransferKind.AGENT and target.to not in self.config.agents:
            raise TransferRefused("unknown_target", f"transfer: no agent {target.to!r}")
        if target.kind is TransferKind.NUMBER and target.to not in self.config.second_line:
            raise TransferRefused(
                "unknown_target", f"transfer: {target.to!r} is not a second-line number"
            )
        if target.kind in (TransferKind.QUEUE, TransferKind.SKILL):
            fields.update(self._requeue_fields(request, target))
        fields["request"] = json.dumps(request, ensure_ascii=False)
        status, _ = await self._run("transfer", *itertools.chain(*fields.items()))
        _refuse_unless_ok(status, f"call {call_id}: transfer by {agent} to {target}")
        log.info("call %s transferred by %s to %s", call_id, agent, target)

    async def _handed_over(
        self, call_id: str, agent: str, handover: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """The call's routing request with what `agent` hands over to the next agent."""
        call = await self.store.call(call_id)
        if call is None:
            raise TransferRefused("not_on_call", f"call {call_id}: not in the router")
        request: dict[str, Any] = json.loads(call.get("request") or "{}")
        request["handover"] = {
            "from": agent,
            "at": self.clock.now().isoformat(),
            **(handover or {}),
        }
        return request

    async def consult(
        self,
        call_id: str,
        agent: str,
        to: str,
        leg: str,
        handover: Mapping[str, Any] | None = None,
    ) -> None:
        """`agent` consults agent `to` while the caller is on hold (the PBX's attended transfer
        of the agent's channel `leg`): `to` is reserved (offered, reason `consult`) and their desk
        pops the call with the handover. Raises `TransferRefused` as `transfer` does (and
        `consulting` when a consult is already going on)."""
        if to not in self.config.agents:
            raise TransferRefused("unknown_target", f"consult: no agent {to!r}")
        request = await self._handed_over(call_id, agent, handover)
        body = json.dumps(request, ensure_ascii=False)
        status, _ = await self._run("consult", call_id, agent, to, body, leg)
        _refuse_unless_ok(status, f"call {call_id}: consult by {agent} with {to}")
        log.info("call %s: %s consults %s, the caller on hold", call_id, agent, to)

    async def consult_end(self, call_id: str, agent: str, *, complete: bool) -> str:
        """The consult is over: the consulted agent takes the caller (`complete`; the first agent
        goes to wrap-up) or is free again; returns the first agent's channel (the PBX's
        transferer). Raises `TransferRefused` (`not_consulting`)."""
        call = await self.store.call(call_id) or {}
        how = "complete" if complete else "cancel"
        status, _ = await self._run("consult_end", call_id, agent, how)
        _refuse_unless_ok(status, f"call {call_id}: consult {how} by {agent}")
        log.info("call %s: consult %s by %s", call_id, how, agent)
        return call.get("xchan", "")

    def _requeue_fields(
        self, request: dict[str, Any], target: TransferTarget
    ) -> dict[str, str | int | float]:
        """The routing fields of a call sent to a queue (any agent may take it there, with that
        queue's times and statistics) or to a skill (its queue kept, only agents with that skill
        from now on); the priority is always kept."""
        skills: dict[str, int] = {}
        queue_id = str(request.get("queue") or "")
        if target.kind is TransferKind.QUEUE:
            if target.to not in self.config.queues:
                raise TransferRefused("unknown_target", f"transfer: no queue {target.to!r}")
            queue_id = target.to
        else:
            if target.to not in self.config.skills:
                raise TransferRefused("unknown_target", f"transfer: no skill {target.to!r}")
            skills = {target.to: 1}
        queue = self.config.queue(queue_id)
        request["queue"], request["skills"] = queue_id, skills
        return {
            "queue": queue_id,
            "priority": int(request.get("priority") or 0),
            **_routing_fields(skills, queue),
        }

    async def node_alive(self, node: str, ttl_s: int = NODE_TTL_S) -> bool:
        """The controller process `node` is alive for `ttl_s` more seconds; True when it had
        lapsed (or is new), and its waiting callers were matched again."""
        status, _ = await self._run("node", node, ttl_s)
        return status == "returned"

    async def node_gone(self, node: str) -> None:
        """`node` stops holding callers now (a clean stop): none of its calls is offered."""
        await self._run("node_gone", node)

    async def sweep(self, ghost_after_s: int) -> tuple[int, int]:
        """Match what events should have matched, end calls of processes gone longer than
        `ghost_after_s`; returns (matches made, calls ended) — both 0 when all is well."""
        status, _ = await self._run("sweep", ghost_after_s)
        _, matched, ghosts = status.split(":")
        return int(matched), int(ghosts)

    async def offer_answered(self, offer_id: str, at: datetime | None = None) -> bool:
        """The agent answered (`at`: when, if reported late); False if already known/stale."""
        at_ms = "" if at is None else str(int(at.timestamp() * 1000))
        status, _ = await self._run("answered", offer_id, at_ms)
        return status == "ok"

    async def offer_not_answered(self, offer_id: str, why: str = "no_answer") -> list[Offer]:
        """The agent's phone rang out (`no_answer`: agent paused) or was `busy`/`failed`
        (agent stays available but is not offered until the phone is free); caller to the head."""
        _, offers = await self._run("not_answered", offer_id, why)
        return offers

    async def call_ended(self, call_id: str, cause: EndCause | str) -> list[Offer]:
        _, offers = await self._run("call_ended", call_id, str(cause))
        return offers

    async def request_callback(self, call_id: str, number: str) -> bool:
        """The caller asked to be called back at `number`; the call keeps its place."""
        status, _ = await self._run("callback", call_id, number)
        return status == "ok"

    async def fallback_event(self, uniqueid: str, stage: str, agent: str | None = None) -> bool:
        """The dialplan's fallback queue took (`joined`), connected (`answered`) or lost
        (`abandoned`) the caller of channel `uniqueid`: a call kck held leaves the router as
        `fallback`; the outcome is counted and published (`call_fallback`). False when another
        node reported it first."""
        if stage not in ("joined", "answered", "abandoned"):
            raise ValueError(f"fallback stage must be joined, answered or abandoned: {stage!r}")
        status, _ = await self._run("fallback", uniqueid, stage, agent or "")
        return status == "ok"

    async def callback_attempt(self, call_id: str, result: str, why: str = "") -> str:
        """The citizen's leg of a callback: `reached`, or `failed` (`why`: BUSY, NOANSWER,
        CHANUNAVAIL…, originate_failed, not_dialled) — which uses one of the queue's
        `callback_attempts` and schedules the next after `callback_retry_s`, or ends the
        callback as failed when none is left."""
        if result not in ("reached", "failed"):
            raise ValueError(f"callback attempt result must be reached or failed: {result!r}")
        status, _ = await self._run("callback_attempt", call_id, result, why)
        return status

    async def tick(self) -> list[Offer]:
        """Apply due escalation steps and ended wrap-ups, then match what they enable."""
        _, offers = await self._run("tick")
        return offers

    async def next_due_ms(self) -> int | None:
        _, due, _ = await self.store.run("noop")
        return due

    # agents ---------------------------------------------------------------------------------
    async def agent_login(
        self, username: str, *, paused: bool = False, extension: str | None = None
    ) -> list[Offer]:
        """Log an agent in (available, or paused with reason `login`); `extension`: the phone
        the agent sits at today when it is not the one in agents.yaml (hot desk)."""
        try:
            agent = self.config.agents[username]
        except KeyError:
            raise UnknownAgent(f"agent {username!r} is not in agents.yaml") from None
        if extension and extension != agent.extension:
            ext, dial = extension, f"PJSIP/{extension}"
        else:
            ext, dial = agent.extension, agent.dial_string
        _, offers = await self._run(
            "agent_login",
            username,
            ext,
            dial,
            json.dumps(agent.skills),
            (AgentState.PAUSED if paused else AgentState.AVAILABLE).value,
        )
        return offers

    async def set_agent_state(
        self, username: str, state: AgentState, reason: str | None = None
    ) -> list[Offer]:
        if state not in (AgentState.AVAILABLE, AgentState.PAUSED, AgentState.LOGGED_OUT):
            raise AgentStateRefused(f"agent {username}: {state} is set by the router only")
        if state is AgentState.PAUSED and not reason:
            raise AgentStateRefused(f"agent {username}: a pause needs a reason code")
        status, offers = await self._run("agent_state", username, state.value, reason or "")
        if status == "unknown_agent":
            if state is AgentState.AVAILABLE:
                return await self.agent_login(username)
            raise UnknownAgent(f"agent {username!r} has not logged in")
        if status.startswith("busy:"):
            raise AgentStateRefused(
                f"agent {username}: cannot become {state} while {status[5:]}", busy=status[5:]
            )
        return offers

    async def device_state(self, device: str, state: str) -> list[Offer]:
        """An AMI device state (`PJSIP/101`, `NOT_INUSE`); busy phones are never offered."""
        phone: Any = await self.store.redis.hget(self.store.key("phones"), device.lower())
        if phone is not None:
            username: str | None = phone.decode() if isinstance(phone, bytes) else str(phone)
        else:
            username = self.agent_for_device(device)
        if username is None:
            return []
        _, offers = await self._run("device", username, state.upper())
        return offers

    def agent_for_device(self, device: str) -> str | None:
        """The configured agent whose phone is `device` (hot-desk logins: see `device_state`)."""
        for agent in self.config.agents.values():
            if agent.dial_string.lower() == device.lower():
                return agent.username
        return None

    async def wrap_up_ends_at(self, username: str) -> datetime | None:
        score = await self.store.redis.zscore(self.store.key("timers"), f"w:{username}")
        return None if score is None else datetime.fromtimestamp(float(score) / 1000, UTC)

    # the agent's desk ------------------------------------------------------------------------
    async def desk_open(self, username: str, ttl_s: float) -> None:
        """The agent's desk is open (offers made now carry `desk`: the caller's side waits for
        the pop to be shown before ringing). Renewed by the desk within `ttl_s`."""
        await self.store.redis.set(self.store.key("desk", username), "1", px=int(ttl_s * 1000))

    async def desk_closed(self, username: str) -> None:
        await self.store.redis.delete(self.store.key("desk", username))

    async def pop_shown(self, username: str, offer_id: str, call_id: str) -> None:
        """The agent's desk shows the pop: the waiting loop holding the caller rings the phone."""
        body = {"call_id": call_id, "offer_id": offer_id, "agent": username}
        await self.store.redis.publish(
            self.waiters.channel, json.dumps({"type": "shown", "data": body})
        )

    # reads ----------------------------------------------------------------------------------
    async def agent_status(self, username: str) -> AgentStatus | None:
        data = await self.store.agent(username)
        if data is None:
            return None
        return AgentStatus(
            username=username,
            state=AgentState(data.get("state", "logged_out")),
            reason=data.get("reason") or None,
            since=data.get("since_iso", ""),
            extension=data.get("ext", ""),
            device_state=await self.phone_state(username),
            call_id=data.get("call") or None,
            offer_id=data.get("offer") or None,
        )

    async def phone_state(self, username: str) -> str:
        value = await self.store.redis.hget(self.store.key("devices"), username)
        if value is None:
            return "UNKNOWN"
        return value.decode() if isinstance(value, bytes) else str(value)

    async def current_offer(self, username: str) -> Offer | None:
        data = await self.store.agent(username)
        if not data or data.get("state") != AgentState.OFFERED or not data.get("offer"):
            return None
        body = await self.store.offer_json(data["offer"])
        return None if body is None else Offer.from_dict(body)

    async def current_call(self, username: str) -> dict[str, Any] | None:
        """The call the agent is offered, talking on or wrapping up: request and times."""
        data = await self.store.agent(username)
        if not data or not data.get("call"):
            return None
        call = await self.store.call(data["call"])
        if call is None:
            return {"call_id": data["call"], "state": "ended"}
        return {
            "call_id": data["call"],
            "state": call.get("state"),
            "kind": call.get("kind"),
            "request": json.loads(call.get("request", "{}")),
        }

    async def call_state(self, call_id: str) -> dict[str, str] | None:
        return await self.store.call(call_id)

    async def call_offer_state(self, call_id: str) -> dict[str, str] | None:
        """`call_state` reduced to `state` and `offer`: what a waiting loop checks every few
        seconds (thousands of callers: not the whole hash each time)."""
        return await self.store.call_fields(call_id, "state", "offer")

    async def position(self, call_id: str) -> int | None:
        call = await self.store.call(call_id)
        if call is None or call.get("state") != "waiting":
            return None
        return await self.store.position(call["queue"], call_id)

    async def estimated_wait(self, call_id: str) -> float | None:
        call = await self.store.call(call_id)
        if call is None:
            return None
        position = await self.store.position(call["queue"], call_id)
        if position is None:
            return None
        return estimated_wait_s(position, await self.store.recent_answered(call["queue"]))

    async def announcement_figures(
        self, call_id: str, queue: str
    ) -> tuple[int, float | None] | None:
        """A waiting call's place and estimated wait (None: not waiting), as `position` and
        `estimated_wait` give them: one round trip when the call is in `queue` (where its
        waiting loop put it), two more if it has moved since."""
        state, in_queue, position, recent = await self.store.place_in(call_id, queue)
        if state != "waiting" or in_queue is None:
            return None
        if in_queue != queue:
            position = await self.store.position(in_queue, call_id)
            recent = await self.store.recent_answered(in_queue)
        if position is None:
            return None
        return position, estimated_wait_s(position, recent)

    # restart safety -------------------------------------------------------------------------
    async def reconcile(
        self,
        live_uniqueids: Collection[str],
        device_states: Mapping[str, str],
        taken_at: datetime,
        in_fallback: Collection[str] = (),
    ) -> list[str]:
        """After an AMI (re)login, with what Asterisk has now: a call whose channel is in the
        dialplan's fallback queue has left kck (`fallback`); a call whose channel is gone ended
        while nobody watched: an abandon if a live process held its caller, else `fallback`
        (its process died and the dialplan took the caller: not the caller's doing). Agents on
        live calls stay on them; device states are taken as they are. Returns the closed ids."""
        closed: list[str] = []
        live = set(live_uniqueids)
        fallback = set(in_fallback)
        taken_ms = int(taken_at.timestamp() * 1000)
        for call_id in await self.store.live_call_ids():
            call = await self.store.call(call_id)
            if call is None or int(call.get("qms", "0")) > taken_ms:
                continue  # queued after the snapshot: it cannot be in it
            if call.get("kind") == "callback" and call.get("state") != "on_call":
                continue  # the caller hung up on purpose; the callback keeps its place
            uniqueid = call.get("uid", "")
            if call.get("kind") == "callback":
                uniqueid = callback_channel_id(call_id)
            if uniqueid in fallback:
                await self.fallback_event(uniqueid, "joined")
            elif uniqueid in live:
                continue
            elif call.get("state") != "on_call" and not await self._node_alive(call.get("node")):
                await self.call_ended(call_id, EndCause.FALLBACK)
            else:
                await self.call_ended(call_id, EndCause.CHANNEL_GONE)
            closed.append(call_id)
        for device, state in device_states.items():
            await self.device_state(device, state)
        if closed:
            log.warning("resync closed %d calls that left kck while it did not see", len(closed))
        return closed

    async def _node_alive(self, node: str | None) -> bool:
        if not node:
            return True
        return bool(await self.store.redis.exists(self.store.key("node", node)))


def _refuse_unless_ok(status: str, what: str) -> None:
    """The router script's refusal (`reason[:state]`) as `TransferRefused`."""
    if status == "ok":
        return
    reason, _, state = status.partition(":")
    raise TransferRefused(reason, f"{what} refused ({status})", state or None)


def _routing_fields(skills: Mapping[str, int], queue: QueueConfig) -> dict[str, str | int | float]:
    """What the router script matches a call in `queue` with `skills` on (its first requirement
    and escalation schedule) and the queue's times it keeps on the call."""
    schedule = []
    for step in queue.escalation:
        req = requirement_at(skills, queue.escalation, step.after_s)
        schedule.append([step.after_s, req.primary_level, dict(req.alternatives)])
    first = requirement_at(skills, queue.escalation, 0)
    return {
        "primary": first.primary if first.primary else ANY_SKILL,
        "others": json.dumps(dict(first.others)),
        "schedule": json.dumps(schedule),
        "ring_timeout_s": queue.ring_timeout_s,
        "wrap_up_s": queue.wrap_up_s,
        "sl_within_s": queue.service_level.within_s,
    }


def callback_channel_id(call_id: str) -> str:
    """The Uniqueid we give the channel of a callback we originate (so its Hangup finds us)."""
    return f"kck-cb-{call_id}"
