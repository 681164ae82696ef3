"""Small builders for IVR tests: menus from text, a fixed clock, a call run with scripted keys."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from asterisk.agi import FastAGIServer
from ivr.agi_route import create_ivr_route
from ivr.channel import DialStatus
from ivr.dialplan_gateway import DialplanQueueGateway
from ivr.interpreter import CallInfo, CallResult, Interpreter
from ivr.loader import MenuFiles, MenuSet, read_menu_files
from ivr.matter_port import MatterStatusSource
from ivr.memory_gateway import InMemoryQueueGateway
from ivr.played_prompts import QUEUE_ANNOUNCEMENT_PROMPTS
from ivr.scripted_channel import ScriptedChannel
from ivr.skills import SkillDirectory
from ivr.speech_port import IntentRecogniser
from ivr.validation import SoundExists, ValidatedMenu, validate_files
from ivr.versions import MenuLibrary
from kck.bus import EventBus
from kck.clock import ManualClock
from kck.phone import TrunkDial
from queues.model import QueueOutcome

WARSAW = ZoneInfo("Europe/Warsaw")
SHIPPED = Path(__file__).resolve().parents[2] / "config" / "menus"


def local(text: str) -> datetime:
    """'2026-12-24 18:00' in Warsaw → aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=WARSAW)


def announcement_prompts(*languages: str) -> str:
    """`prompts:` entries for the waiting loop's announcement, which a menu with a queue step needs."""
    texts = ", ".join(f"{language}: Tekst" for language in languages)
    return "".join(f"  {name}: {{text: {{{texts}}}}}\n" for name in QUEUE_ANNOUNCEMENT_PROMPTS)


def files(main: str, extra: dict[str, str] | None = None) -> MenuFiles:
    named = {"main.yaml": textwrap.dedent(main)}
    named.update({k: textwrap.dedent(v) for k, v in (extra or {}).items()})
    return MenuFiles(named)


def check(
    main: str,
    extra: dict[str, str] | None = None,
    *,
    skills: SkillDirectory | None = None,
    sound_exists: SoundExists | None = None,
) -> ValidatedMenu:
    return validate_files(files(main, extra), skills, sound_exists)


def menu_of(main: str, extra: dict[str, str] | None = None) -> MenuSet:
    checked = check(main, extra)
    assert checked.menu is not None and checked.ok, [str(p) for p in checked.problems]
    return checked.menu


def shipped_menu() -> MenuSet:
    checked = validate_files(read_menu_files(SHIPPED))
    assert checked.menu is not None and checked.ok, [str(p) for p in checked.problems]
    return checked.menu


async def run_call(
    menu: MenuSet,
    keys: Sequence[str] = (),
    *,
    at: str = "2026-11-24 10:00",
    caller: str | None = "+48600100200",
    hang_up_on: Sequence[str] = (),
    gateway: InMemoryQueueGateway | None = None,
    dial_status: DialStatus = DialStatus.ANSWER,
    speech: IntentRecogniser | None = None,
    language: str | None = None,
    press_during: dict[str, str] | None = None,
    matters: MatterStatusSource | None = None,
) -> tuple[CallResult, ScriptedChannel, InMemoryQueueGateway]:
    clock = ManualClock(local(at))
    gw = gateway or InMemoryQueueGateway(answer_at_once=QueueOutcome.ANSWERED)
    channel = ScriptedChannel(
        keys=list(keys),
        hang_up_on=frozenset(hang_up_on),
        dial_status=dial_status,
        press_during=press_during or {},
    )
    interp = Interpreter(menu, "v1@test", gateway=gw, clock=clock, speech=speech, matters=matters)
    call = CallInfo("call-1", "1700000000.1", "PJSIP/trunk-0001", caller, clock.now(), language)
    result = await interp.run(channel, call)
    return result, channel, gw


async def shipped_ivr_fastagi(
    sessions: async_sessionmaker[AsyncSession], bus: EventBus, tmp_path: Path
) -> FastAGIServer:
    """A started FastAGI server with the IVR route on a copy of the shipped menus (loaded into
    the database now), handing callers to queues over `bus`; the caller stops it."""
    menus = tmp_path / "menus"
    shutil.copytree(SHIPPED, menus)
    library = MenuLibrary(sessions, bus.redis, menus_dir=menus, key_prefix="t")
    await library.reload(by="test")
    route = create_ivr_route(
        library,
        DialplanQueueGateway(bus),
        bus,
        clock=ManualClock(local("2026-11-24 10:00")),
        sounds_dir=tmp_path / "sounds",
        recordings_dir=tmp_path / "rec",
        dial=TrunkDial(),
    )
    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    server.add_route("ivr", route)
    await server.start()
    return server
