"""`kck demo`: the controller on embedded defaults, with the simulated PBX, callers and agents."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from demo.component import demo_part
from kck.clock import ShiftedClock, business_day_offset
from kck.config_files import SHIPPED_CONFIG, missing_config_files
from kck.logs import configure_logging
from kck.runtime import Runtime
from kck.settings import Settings, settings_from


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser(
        "demo",
        help="run everything on embedded defaults with a simulated PBX, callers and agents",
        description=(
            "Start the controller, the desk and a simulated call stream with files under var/demo/. "
            "Needs no Asterisk, Redis or PostgreSQL."
        ),
    )
    demo.add_argument(
        "--http-port", type=int, default=8080, help="web port (default 8080; 0 = any free)"
    )
    demo.add_argument(
        "--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)"
    )
    demo.add_argument("--calls-per-hour", type=float, default=240.0, help="simulated arrival rate")
    demo.add_argument(
        "--real-time-of-day",
        action="store_true",
        help="use the real clock even outside office hours (default: a business-day clock, so callers find the offices open)",
    )
    demo.set_defaults(func=cmd_demo)


def demo_settings(args: argparse.Namespace) -> Settings:
    """Embedded defaults: everything local under var/demo, private Redis, SQLite, and the AMI
    client pointed at the simulator's AMI server on a free port with a one-off secret."""
    import secrets
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        ami_port = probe.getsockname()[1]
    overrides: dict[str, Any] = {
        "ami": {
            "host": "127.0.0.1",
            "port": ami_port,
            "username": "kck",
            "secret": secrets.token_urlsafe(16),
        },
        "paths": {
            "var": "var/demo",
            "sounds": "var/demo/sounds",
            "recordings": "var/demo/recordings",
        },
        "database": {"url": "sqlite+aiosqlite:///{var}/kck.db"},
        "redis": {"url": None},
        "http": {"host": "127.0.0.1", "port": args.http_port},
        "agi": {"host": "127.0.0.1", "port": 0},
        # the demo's mail goes to a folder: each message an .eml file a person can open
        "mail": {
            "gateway": "file",
            "folder": "var/demo/mail",
            "public_url": f"http://127.0.0.1:{args.http_port}",
        },
        # … and its SMS to residents too: each one a text file
        "sms": {"gateway": "file", "folder": "var/demo/sms"},
    }
    settings = settings_from(args, overrides)
    if missing_config_files(settings):
        # Run from anywhere: where the current folder has no complete config/, the demo runs on
        # the one we ship. This is the one place that chooses; every part reads `paths.*`.
        shipped = SHIPPED_CONFIG
        paths = {"config": str(shipped), "menus": str(shipped / "menus"), "kb": str(shipped / "kb")}
        settings = settings_from(args, {**overrides, "paths": {**overrides["paths"], **paths}})
    return settings


def cmd_demo(args: argparse.Namespace) -> int:
    settings = demo_settings(args)
    configure_logging(settings.log.level, settings.log.json_lines, settings.log.repeat_interval_s)
    offset = timedelta(0)
    if not args.real_time_of_day:
        offset = business_day_offset(datetime.now(UTC), settings.tz)
    runtime = Runtime(
        settings,
        mode="demo",
        migrate=True,
        clock=ShiftedClock(offset) if offset else None,
        extras=(demo_part(args.calls_per_hour),),
    )

    async def run() -> None:
        runtime.stop_on_signals()
        await runtime.start()
        assert runtime.controller is not None
        url = runtime.controller.web.url
        print(f"kck demo is running: open {url}  (Ctrl-C stops it)", flush=True)
        print(f"configuration: {settings.config_dir}", flush=True)
        mailbox = settings.path(settings.mail.folder)
        print(f"mail to units and residents: .eml files in {mailbox}", flush=True)
        phone = settings.path(settings.sms.folder)
        print(f"SMS to residents: .txt files in {phone}", flush=True)
        if offset:
            shown = (
                (datetime.now(UTC) + offset).astimezone(settings.tz).strftime("%a %Y-%m-%d %H:%M")
            )
            print(f"the demo runs on a business-day clock: it is {shown} in the centre", flush=True)
        for component in runtime.components:
            for line in getattr(component, "notes", []):
                print(line, flush=True)
        try:
            await runtime.wait_stopped(args.duration)
        finally:
            await runtime.stop()

    asyncio.run(run())
    return 0
