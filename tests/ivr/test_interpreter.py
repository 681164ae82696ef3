"""The interpreter over a scripted caller: every step type, hang-ups, timeouts, wrong keys, bugs."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ivr.channel import Channel, DialStatus
from ivr.interpreter import CallInfo, Interpreter, IVROutcome
from ivr.loader import MenuSet, parse_menu_files
from ivr.memory_gateway import InMemoryQueueGateway
from ivr.scripted_channel import ScriptedChannel
from ivr.speech_port import IntentResult, SpeechRequest
from kck.clock import ManualClock
from queues.model import CallbackRequest, QueueOutcome, RoutingRequest
from tests.ivr.support import announcement_prompts, files, local, menu_of, run_call

PROMPTS = [
    "lang_p",
    "say_p",
    "main_p",
    "invalid_p",
    "timeout_p",
    "bye_p",
    "digits_p",
    "info_p",
    "cb_confirm",
    "cb_enter",
    "cb_done",
    "vm_p",
    "vm_done",
    "tr_p",
    "speech_p",
    "q_p",
    "closed_p",
]
ALL = (
    "menu: {name: All, start: lang, languages: [pl, en], goodbye: bye_p, invalid: invalid_p}\n"
    "prompts:\n"
    + "".join(f"  {p}: {{text: {{pl: 'PL {p}', en: 'EN {p}'}}}}\n" for p in PROMPTS)
    + announcement_prompts("pl", "en")
    + """\
calendars:
  office: {weekly: {mon: "08:00-16:00", tue: "08:00-16:00", wed: "08:00-16:00", thu: "08:00-16:00", fri: "08:00-16:00"}}
steps:
  lang: {type: language, prompt: lang_p, choices: {1: pl, 2: en}, next: greet, label: Język}
  greet: {type: say, prompt: say_p, next: tag}
  tag: {type: set, variables: {campaign: winter, vip: false}, next: hours}
  hours: {type: hours, calendar: office, open: main, closed: closed}
  closed: {type: info, prompt: closed_p}
  main:
    type: menu
    label: {pl: Menu, en: Menu}
    prompt: main_p
    choices: {1: queue, 2: digits, 3: info, 4: callback, 5: voicemail, 6: transfer, 7: speech, 8: jump, 9: bye}
    timeout_prompt: timeout_p
    retries: 1
    fallback: queue
  queue:
    type: queue
    label: {pl: Ogólne, en: General}
    prompt: q_p
    queue: general
    skills: {general: 2}
    priority: 3
    ticket_category: roads
    kb_topic: kb-roads
    no_agent: bye
  digits: {type: digits, prompt: digits_p, variable: ticket, min_digits: 6, max_digits: 6, pattern: "[0-9]{6}", next: queue, fallback: bye}
  info: {type: info, prompt: info_p}
  callback: {type: callback, confirm_prompt: cb_confirm, enter_prompt: cb_enter, done_prompt: cb_done, queue: callbacks, skills: {general: 1}, fallback: bye}
  voicemail: {type: voicemail, prompt: vm_p, box: general, done_prompt: vm_done}
  transfer: {type: transfer, prompt: tr_p, number: "+48126167000", failed: queue}
  speech: {type: speech, prompt: speech_p, intents: intents.yaml, routes: {roads: queue}, fallback: main, confidence: 0.7}
  jump: {type: goto, target: info}
  bye: {type: hangup, prompt: bye_p}
"""
)
INTENTS = {"intents.yaml": "intents:\n  roads: {pl: [dziura w drodze]}\n"}


@pytest.fixture(scope="module")
def menu() -> MenuSet:
    return menu_of(ALL, INTENTS)


def played(channel: ScriptedChannel) -> list[str]:
    return [p.prompt_id for p in channel.heard]


async def test_language_choice_switches_prompts_and_channel_language(menu: MenuSet) -> None:
    result, channel, _ = await run_call(menu, ["2", "3"])
    assert result.language == "en" and result.variables["language"] == "en"
    assert channel.variables["CHANNEL(language)"] == "en"
    assert channel.heard[1].text == "EN say_p" and channel.heard[1].sound == "en/say_p"
    assert result.outcome is IVROutcome.SELF_SERVICE


async def test_language_timeout_takes_the_default(menu: MenuSet) -> None:
    result, channel, _ = await run_call(menu, ["timeout", "timeout", "3"], language="en")
    assert result.language == "pl"
    assert channel.heard[-2].text == "PL info_p"


async def test_say_and_set_steps(menu: MenuSet) -> None:
    result, channel, _ = await run_call(menu, ["1", "9"])
    assert played(channel)[:3] == ["lang_p", "say_p", "main_p"]
    assert result.variables["campaign"] == "winter" and result.variables["vip"] == "false"
    assert [s.step_id for s in result.path] == ["lang", "greet", "tag", "hours", "main", "bye"]


async def test_queue_step_hands_a_complete_routing_request_to_the_gateway(menu: MenuSet) -> None:
    result, _, gateway = await run_call(menu, ["1", "1"])
    assert result.outcome is IVROutcome.QUEUED and result.queue_outcome is QueueOutcome.ANSWERED
    [request] = gateway.handed_over
    assert request == result.routing
    assert request.queue == "general" and request.skills == {"general": 2} and request.priority == 3
    assert request.ticket_category == "roads" and request.kb_topic == "kb-roads"
    assert request.caller == "+48600100200" and request.language == "pl"
    assert request.menu_version == "v1@test" and request.call_id == "call-1"
    assert request.ivr_path_text == "Język → Menu → Ogólne"
    assert [(s.step_id, s.digits) for s in request.ivr_path if s.digits] == [
        ("lang", "1"),
        ("main", "1"),
    ]
    assert request.variables["campaign"] == "winter"
    assert RoutingRequest.from_dict(request.to_dict()) == request


async def test_no_agent_goes_to_the_no_agent_step(menu: MenuSet) -> None:
    gateway = InMemoryQueueGateway(answer_at_once=QueueOutcome.NO_AGENT)
    result, channel, _ = await run_call(menu, ["1", "1"], gateway=gateway)
    assert result.queue_outcome is QueueOutcome.NO_AGENT
    assert result.outcome is IVROutcome.SELF_SERVICE and played(channel)[-1] == "bye_p"


async def test_menu_timeout_plays_the_timeout_prompt_then_takes_the_fallback(menu: MenuSet) -> None:
    result, channel, _ = await run_call(menu, ["1"])
    assert played(channel)[-4:] == ["main_p", "timeout_p", "main_p", "q_p"]
    assert result.outcome is IVROutcome.QUEUED
    assert [s.digits for s in result.path if s.step_id == "main"] == ["timeout"]


async def test_wrong_keys_play_the_invalid_prompt_then_the_fallback(menu: MenuSet) -> None:
    result, channel, _ = await run_call(menu, ["1", "*", "#"])
    assert played(channel)[-5:] == ["main_p", "invalid_p", "main_p", "invalid_p", "q_p"]
    assert result.routing is not None and result.routing.queue == "general"


async def test_wrong_key_then_right_key(menu: MenuSet) -> None:
    result, _, _ = await run_call(menu, ["1", "0", "3"])
    assert result.outcome is IVROutcome.SELF_SERVICE and result.last_step == "info"


async def test_digits_are_collected_into_a_variable_and_checked(menu: MenuSet) -> None:
    result, channel, _ = await run_call(menu, ["1", "2", "12", "654321#"])
    assert result.variables["ticket"] == "654321"
    assert "invalid_p" in played(channel)
    assert result.routing is not None and result.routing.variables["ticket"] == "654321"


async def test_digits_that_never_match_go_to_the_fallback(menu: MenuSet) -> None:
    result, _, _ = await run_call(menu, ["1", "2", "abc123", "1"])
    assert "ticket" not in result.variables and result.last_step == "bye"


async def test_closed_hours_on_a_holiday(menu: MenuSet) -> None:
    for moment in ("2026-12-24 10:00", "2026-12-25 10:00", "2026-12-26 10:00", "2026-11-11 10:00"):
        result, channel, _ = await run_call(menu, ["1"], at=moment)
        assert result.outcome is IVROutcome.CLOSED_HOURS, moment
        assert played(channel)[-2:] == ["closed_p", "bye_p"]
        assert result.variables["office_open"] == "no"


async def test_closed_in_the_evening_open_in_the_morning(menu: MenuSet) -> None:
    evening, _, _ = await run_call(menu, ["1"], at="2026-12-23 18:00")
    morning, _, _ = await run_call(menu, ["1", "3"], at="2026-12-23 09:00")
    assert evening.outcome is IVROutcome.CLOSED_HOURS
    assert morning.outcome is IVROutcome.SELF_SERVICE


async def test_dst_edge_uses_wall_clock_time(menu: MenuSet) -> None:
    # Monday after the spring change: 08:00 CEST is open, 07:59 closed.
    opened, _, _ = await run_call(menu, ["1", "3"], at="2026-03-30 08:00")
    early, _, _ = await run_call(menu, ["1"], at="2026-03-30 07:59")
    assert opened.outcome is IVROutcome.SELF_SERVICE and early.outcome is IVROutcome.CLOSED_HOURS


async def test_info_plays_then_says_goodbye_and_hangs_up(menu: MenuSet) -> None:
    result, channel, _ = await run_call(menu, ["1", "3"])
    assert played(channel)[-2:] == ["info_p", "bye_p"]
    assert channel.events[-1] == "hang up" and result.outcome is IVROutcome.SELF_SERVICE


async def test_goto_jumps(menu: MenuSet) -> None:
    result, _, _ = await run_call(menu, ["1", "8"])
    assert [s.step_id for s in result.path][-2:] == ["jump", "info"]


async def test_callback_on_the_callers_own_number(menu: MenuSet) -> None:
    result, channel, gateway = await run_call(menu, ["1", "4", "1"])
    assert "say digits 600100200" in channel.events
    assert result.outcome is IVROutcome.CALLBACK
    [callback] = gateway.callbacks
    assert callback == CallbackRequest(callback.request, "+48600100200", True)
    assert callback.request.queue == "callbacks"


async def test_callback_on_another_number(menu: MenuSet) -> None:
    result, _, gateway = await run_call(menu, ["1", "4", "2", "12345", "0126165555#"])
    assert (
        gateway.callbacks[0].number == "+48126165555"
        and not gateway.callbacks[0].confirmed_caller_id
    )
    assert result.variables["callback_number"] == "+48126165555"


async def test_callback_from_a_withheld_number_asks_for_one_and_gives_up_to_the_fallback(
    menu: MenuSet,
) -> None:
    result, channel, gateway = await run_call(menu, ["1", "4"], caller=None)
    assert "cb_confirm" not in played(channel) and played(channel).count("cb_enter") == 2
    assert gateway.callbacks == [] and result.last_step == "bye"


async def test_voicemail_records_a_message(menu: MenuSet) -> None:
    result, channel, _ = await run_call(menu, ["1", "5"])
    assert result.outcome is IVROutcome.VOICEMAIL
    assert result.recording is not None and result.recording.path == "voicemail/general/call-1"
    assert played(channel)[-2:] == ["vm_done", "bye_p"]


async def test_transfer_answered_and_transfer_failed(menu: MenuSet) -> None:
    done, channel, _ = await run_call(menu, ["1", "6"])
    assert done.outcome is IVROutcome.TRANSFERRED and "dial +48126167000: ANSWER" in channel.events
    busy, _, _ = await run_call(menu, ["1", "6"], dial_status=DialStatus.BUSY)
    assert busy.outcome is IVROutcome.QUEUED and busy.variables["transfer_status"] == "BUSY"


class IntentsHeard:
    """A recogniser that 'hears' a fixed intent (the speech package provides the real one)."""

    def __init__(self, intent: str | None, confidence: float) -> None:
        self.intent, self.confidence = intent, confidence
        self.requests: list[SpeechRequest] = []

    async def recognise_intent(self, channel: Channel, request: SpeechRequest) -> IntentResult:
        self.requests.append(request)
        await channel.play(request.prompt)
        return IntentResult(self.intent, self.confidence, "dziura w drodze na Grodzkiej")


async def test_speech_without_a_recogniser_uses_the_dtmf_fallback(
    menu: MenuSet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ivr")
    result, channel, _ = await run_call(menu, ["1", "7", "3"])
    assert "speech_p" not in played(channel) and result.last_step == "info"
    assert "no speech recogniser installed" in caplog.text and "DTMF fallback main" in caplog.text


async def test_speech_routes_a_confident_intent(menu: MenuSet) -> None:
    heard = IntentsHeard("roads", 0.9)
    result, _, _ = await run_call(menu, ["1", "7"], speech=heard)
    assert result.intent == "roads" and result.routing is not None
    assert (
        result.routing.intent == "roads"
        and result.routing.transcript == "dziura w drodze na Grodzkiej"
    )
    [request] = heard.requests
    assert request.intents == ("roads",) and request.confidence == 0.7
    assert request.intents_text is not None and "dziura" in request.intents_text


async def test_speech_below_the_threshold_falls_back(menu: MenuSet) -> None:
    result, _, _ = await run_call(menu, ["1", "7", "3"], speech=IntentsHeard("roads", 0.5))
    assert result.intent is None and result.last_step == "info"


@pytest.mark.parametrize(
    ("keys", "prompt", "step"),
    [
        ([], "lang_p", "lang"),
        (["1"], "say_p", "greet"),
        (["1"], "main_p", "main"),
        (["1", "1"], "q_p", "queue"),
        (["1", "2"], "digits_p", "digits"),
        (["1", "3"], "info_p", "info"),
        (["1", "4"], "cb_confirm", "callback"),
        (["1", "5"], "vm_p", "voicemail"),
        (["1", "6"], "tr_p", "transfer"),
        (["1", "8"], "info_p", "info"),
    ],
)
async def test_caller_hanging_up_in_any_step_ends_cleanly_and_is_recorded(
    menu: MenuSet, keys: list[str], prompt: str, step: str
) -> None:
    result, channel, gateway = await run_call(menu, keys, hang_up_on=[prompt])
    assert result.outcome is IVROutcome.HUNG_UP_IN_IVR
    assert result.hung_up_at == step and result.error is None
    assert gateway.handed_over == [] and channel.events[-1].startswith("caller hangs up")


async def test_caller_hanging_up_during_the_goodbye_has_been_served(menu: MenuSet) -> None:
    result, _, _ = await run_call(menu, ["1", "9"], hang_up_on=["bye_p"])
    assert result.outcome is IVROutcome.SELF_SERVICE and result.hung_up_at == "bye"


async def test_caller_hanging_up_instead_of_pressing_a_key(menu: MenuSet) -> None:
    result, _, _ = await run_call(menu, ["1", "hangup"])
    assert result.outcome is IVROutcome.HUNG_UP_IN_IVR and result.hung_up_at == "main"


async def test_caller_hanging_up_while_speech_listens(menu: MenuSet) -> None:
    result, _, _ = await run_call(
        menu, ["1", "7"], hang_up_on=["speech_p"], speech=IntentsHeard("roads", 1)
    )
    assert result.outcome is IVROutcome.HUNG_UP_IN_IVR and result.hung_up_at == "speech"


async def test_caller_hanging_up_while_waiting_in_the_queue_is_abandoned(menu: MenuSet) -> None:
    gateway = InMemoryQueueGateway()
    result, _, _ = await run_call(menu, ["1", "1"], hang_up_on=["@music"], gateway=gateway)
    assert result.outcome is IVROutcome.QUEUED and result.queue_outcome is QueueOutcome.ABANDONED
    assert gateway.waiting == []


async def test_waiting_call_ends_when_the_queue_answers(menu: MenuSet) -> None:
    gateway = InMemoryQueueGateway()
    task = asyncio.create_task(run_call(menu, ["1", "1"], gateway=gateway))
    await gateway.until_waiting("call-1")
    assert [r.call_id for r in gateway.waiting] == ["call-1"]
    assert gateway.finish("call-1", QueueOutcome.ANSWERED)
    result, channel, _ = await task
    assert result.queue_outcome is QueueOutcome.ANSWERED and channel.music_on


class BrokenGateway(InMemoryQueueGateway):
    async def enqueue(self, request: RoutingRequest) -> None:
        raise RuntimeError("redis exploded")


async def test_a_bug_in_our_code_is_returned_not_swallowed(menu: MenuSet) -> None:
    result, _, _ = await run_call(menu, ["1", "1"], gateway=BrokenGateway())
    assert result.outcome is IVROutcome.FAILED
    assert isinstance(result.error, RuntimeError) and result.last_step == "queue"


async def test_an_endless_menu_that_slipped_past_validation_is_stopped() -> None:
    text = """\
menu: {name: L, start: a}
prompts: {p: {text: {pl: x}}}
steps:
  a: {type: goto, target: b}
  b: {type: goto, target: a}
"""
    menu, _ = parse_menu_files(files(text))
    assert menu is not None
    interp = Interpreter(
        menu,
        "v0",
        gateway=InMemoryQueueGateway(),
        clock=ManualClock(local("2026-11-24 10:00")),
        max_steps=50,
    )
    result = await interp.run(
        ScriptedChannel(), CallInfo("c", "u", "ch", None, local("2026-11-24 10:00"))
    )
    assert result.outcome is IVROutcome.FAILED and "more than 50 steps" in str(result.error)


class Heard:
    """A recogniser returning a fixed IntentResult."""

    def __init__(self, result: IntentResult) -> None:
        self.result = result

    async def recognise_intent(self, channel: Channel, request: SpeechRequest) -> IntentResult:
        return self.result


async def test_speech_intent_not_routed_by_the_step_follows_its_own_next_step(
    menu: MenuSet,
) -> None:
    heard = Heard(IntentResult("documents", 1.0, "dowód", next_step="voicemail"))
    result, _, _ = await run_call(menu, ["1", "7"], speech=heard)
    assert result.intent == "documents" and result.outcome is IVROutcome.VOICEMAIL


async def test_speech_intent_the_caller_confirmed_is_routed_below_the_threshold(
    menu: MenuSet,
) -> None:
    heard = Heard(IntentResult("roads", 0.5, "dziura", confirmed=True))
    result, _, _ = await run_call(menu, ["1", "7"], speech=heard)
    assert result.intent == "roads" and result.routing is not None


async def test_key_pressed_during_speech_is_a_choice_in_the_fallback_menu(menu: MenuSet) -> None:
    result, _, _ = await run_call(
        menu, ["1", "7"], speech=Heard(IntentResult(None, 0.0, None, digit="3"))
    )
    assert result.last_step == "info" and result.outcome is IVROutcome.SELF_SERVICE
    assert [s.digits for s in result.path if s.step_id == "speech"] == ["3"]
