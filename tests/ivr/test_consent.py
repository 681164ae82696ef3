"""The recording announcement: a caller who presses the decline key is not recorded, and the
answer travels with the call (routing request, channel variable, call row)."""

from __future__ import annotations

from ivr.interpreter import IVROutcome
from queues.model import RoutingRequest
from tests.ivr.support import announcement_prompts, check, menu_of, run_call, shipped_menu

MENU = (
    "menu: {name: Consent, start: notice, languages: [pl, en]}\n"
    "prompts:\n"
    "  notice_p: {text: {pl: 'Rozmowy są nagrywane; wciśnij 7, jeśli się nie zgadzasz', en: N}}\n"
    "  declined_p: {text: {pl: 'Ta rozmowa nie będzie nagrywana', en: D}}\n"
    "  main_p: {text: {pl: M, en: M}}\n"
    + announcement_prompts("pl", "en")
    + """\
steps:
  notice:
    type: consent
    prompt: notice_p
    decline_key: 7
    declined_prompt: declined_p
    next: main
  main: {type: menu, prompt: main_p, choices: {1: queue}, fallback: queue}
  queue: {type: queue, queue: general, skills: {general: 1}}
"""
)
WITHOUT = MENU.replace(
    "    type: consent\n    prompt: notice_p\n    decline_key: 7\n    declined_prompt: declined_p\n",
    "    type: say\n    prompt: notice_p\n",
)


async def test_caller_who_does_not_press_the_key_consents_and_the_request_says_so() -> None:
    result, channel, gateway = await run_call(menu_of(MENU), ["1"])
    assert result.outcome is IVROutcome.QUEUED
    assert result.recording_consent is True and result.variables["recording"] == "yes"
    [request] = gateway.handed_over
    assert request.recording_consent is True
    assert RoutingRequest.from_dict(request.to_dict()) == request
    assert [p.prompt_id for p in channel.heard][:2] == ["notice_p", "main_p"]


async def test_caller_who_presses_the_decline_key_is_not_recorded() -> None:
    result, channel, gateway = await run_call(menu_of(MENU), ["1"], press_during={"notice_p": "7"})
    assert result.recording_consent is False and result.variables["recording"] == "no"
    [request] = gateway.handed_over
    assert request.recording_consent is False
    assert [p.prompt_id for p in channel.heard][:3] == ["notice_p", "declined_p", "main_p"]
    assert (result.path[0].step_id, result.path[0].digits) == ("notice", "7")


async def test_another_key_during_the_announcement_is_not_a_refusal() -> None:
    result, _, _ = await run_call(menu_of(MENU), ["1"], press_during={"notice_p": "1"})
    assert result.recording_consent is True


async def test_a_menu_without_an_announcement_leaves_consent_unknown_so_nothing_is_recorded() -> (
    None
):
    result, _, gateway = await run_call(menu_of(WITHOUT), ["1"])
    assert result.recording_consent is None
    assert gateway.handed_over[0].recording_consent is None


def test_the_decline_key_must_be_a_phone_key() -> None:
    checked = check(MENU.replace("decline_key: 7", "decline_key: 77"))
    assert not checked.ok
    assert any("decline_key" in str(p) and "phone key" in str(p) for p in checked.problems)


async def test_the_shipped_welcome_announces_recording_and_9_declines_it() -> None:
    menu = shipped_menu()
    step = menu.steps["welcome"]
    assert step.type == "consent" and step.decline_key == "9"
    declined, channel, _ = await run_call(menu, ["1", "1"], press_during={"welcome": "9"})
    assert declined.recording_consent is False
    assert "recording_declined" in [p.prompt_id for p in channel.heard]
    agreed, _, _ = await run_call(menu, ["1", "1"])
    assert agreed.recording_consent is True
    assert "9" in menu.prompts["welcome"].text["pl"]  # the announcement names the key
