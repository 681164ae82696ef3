"""A citizen's call through the real Asterisk: the shipped menu by keys, the queue, the pop on the
desk, the agent's phone, the bridge, wrap-up — and every word the caller hears in their language."""

from __future__ import annotations

import re

from tests.real_asterisk.observer import agi_command, named
from tests.real_asterisk.sipp import SippCaller
from tests.real_asterisk.sites import Site


async def walk_to_id_cards(site: Site, caller: SippCaller, language_key: str = "1") -> None:
    """Language, then main menu 1: ID cards and passports (queue citizens_affairs)."""
    await site.answer_menu(caller, "choose_language", language_key)
    await site.answer_menu(caller, "main_menu", "1")


async def test_caller_walks_the_menu_by_keys_to_an_agent_who_is_free_again_after_wrap_up(
    site: Site,
) -> None:
    await site.phone("101", talk_ms=2000)
    desk = await site.agent("anowak")
    caller = await site.call()
    await walk_to_id_cards(site, caller)

    pop = await desk.wait_for(lambda m: m.kind == "pop", 30)
    ring = await site.observer.wait_for(
        named("DialBegin", DestChannel__startswith="PJSIP/101-"), 10
    )
    assert pop.at <= ring.at, "the pop must be on the desk before the phone rings (docs/desk.md)"
    assert pop.data["caller"]["e164"] == caller.number
    assert "Dowody osobiste" in pop.data["ivr_path"]
    await site.observer.wait_for(named("BridgeEnter", Channel__startswith="PJSIP/101-"), 10)
    await desk.wait_state("on_call", 10)

    assert await caller.ended(20) == "asterisk"  # the agent hung up; Asterisk ends the caller
    wrap_up = await desk.wait_state("wrap_up", 10)
    await desk.wait_state("available", 10, since=wrap_up.at)  # after wrap_up_s (2 s here)
    row = await site.call_row(caller, outcome="answered")
    assert row.queue == "citizens_affairs" and row.agent_id is not None
    assert await site.live_calls() == set()


def _channel_of(site: Site, caller: SippCaller) -> str:
    [created] = site.observer.find(named("Newchannel", CallerIDNum=caller.number))
    return created.get("Channel")


def _played(site: Site, channel: str) -> list[str]:
    """Every file Asterisk played on `channel` (its full.log: `Playing '<file>' (language …)`)."""
    pattern = re.compile(rf"<{re.escape(channel)}> ?Playing '([^']+)'")
    return [m[1] for m in pattern.finditer(site.pbx.log_text())]


async def test_polish_and_ukrainian_callers_hear_every_word_in_their_language(site: Site) -> None:
    # one answered call of history gives the queue an estimate to announce (2 min a place)
    await site.redis().lpush("kck:q:recent:citizens_affairs", "120000:1")
    first = await site.call()
    await walk_to_id_cards(site, first)
    second = await site.call()
    await walk_to_id_cards(site, second)
    ukrainian = await site.call()
    await walk_to_id_cards(site, ukrainian, language_key="3")
    for caller in (first, second, ukrainian):  # each heard a whole announcement
        await site.observer.wait_for(agi_command(caller.number, "/queue_press_1_callback "), 60)
    for caller in (first, second, ukrainian):
        caller.hang_up()
        await caller.ended(10)

    sounds = str(site.installation.sounds)
    for caller, language in ((first, "pl"), (second, "pl"), (ukrainian, "uk")):
        played = _played(site, _channel_of(site, caller))
        # before the caller chooses, the line speaks its default language; the choice itself
        # is offered in all three ("…wciśnij 1. For English, press 2. Українською — 3")
        chosen = next(i for i, f in enumerate(played) if "/choose_language." in f) + 1
        assert played[chosen:], f"nothing played to {caller.number} after the language choice"
        foreign = [f for f in played[chosen:] if not f.startswith(f"{sounds}/{language}/")]
        assert foreign == [], f"{caller.number} ({language}) heard other sounds: {foreign}"
    words = [_sound(f, sounds) for f in _played(site, _channel_of(site, first))]
    # first in line, 2 minutes: "…oczekiwania to" "dwie" "minuty" (feminine, plural of 2-4)
    assert "pl/queue_estimated_wait" in words
    assert words[words.index("pl/queue_estimated_wait") + 1 :][:2] == [
        "pl/num/2_f",
        "pl/num/minute_few",
    ]
    second_words = [_sound(f, sounds) for f in _played(site, _channel_of(site, second))]
    assert second_words[second_words.index("pl/queue_people_ahead") + 1] == "pl/num/1"


def _sound(played: str, sounds: str) -> str:
    """`pl/num/2_f` of `<sounds>/pl/num/2_f.slin` (Asterisk names the format it played)."""
    return played.removeprefix(sounds + "/").rsplit(".", 1)[0]
