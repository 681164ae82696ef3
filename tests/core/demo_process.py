"""`kck demo` as a process a test starts the way a newcomer does: its printed accounts, its log,
and the private redis-server it runs under its folder."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from agentdesk.accounts import DEMO_STAFF

REPO = Path(__file__).parents[2]
# How long a demo may take to print its accounts on a busy 2-core machine (migrations, password
# hashes of 16 accounts, the simulator): a bound against a hang, not a performance figure.
START_BOUND_S = 180.0
# How long a stopping demo may take: Runtime.stop's worst case (each of its 5 components given
# COMPONENT_STOP_S + COMPONENT_CANCEL_S, once more for the hand-back) is 36 s. Against a hang.
STOP_BOUND_S = 60.0
_ACCOUNT = re.compile(r"^  (\S+)\s+(\S+)\s+(\w+)(?: ext (\d+))?(\s+← for you)?$")


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    role: str
    extension: str | None
    for_you: bool


@dataclass
class Demo:
    process: asyncio.subprocess.Process
    folder: Path
    url: str = ""
    accounts: dict[str, Account] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    _logged: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def people(self) -> list[Account]:
        """The agents the demo leaves for people (marked "← for you")."""
        return [a for a in self.accounts.values() if a.for_you]

    async def read_accounts(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        staff = {username for username, _, _ in DEMO_STAFF}
        async with asyncio.timeout(START_BOUND_S):
            while not staff <= self.accounts.keys():
                line = (await stdout.readline()).decode()
                assert line, f"the demo stopped before printing its accounts:\n{self.log_text()}"
                if match := re.search(r"open (http://\S+)/ ", line):
                    self.url = match.group(1)
                if match := _ACCOUNT.match(line.rstrip("\n")):
                    name, password, role, extension, mark = match.groups()
                    self.accounts[name] = Account(name, password, role, extension, bool(mark))
        assert self.url, "the demo printed no URL"

    async def read_log(self) -> None:
        stderr = self.process.stderr
        assert stderr is not None
        while line := await stderr.readline():
            self.log.append(line.decode(errors="replace"))
            self._logged.set()

    async def wait_for_log(self, text: str, seconds: float = 30.0) -> None:
        """Until a line of the demo's log contains `text`."""
        async with asyncio.timeout(seconds):
            while not any(text in line for line in self.log):
                self._logged.clear()
                await self._logged.wait()

    def log_text(self) -> str:
        return "".join(self.log[-60:])

    async def exit_code(self, seconds: float = STOP_BOUND_S) -> int:
        """The demo's exit code; fails if it is still running `seconds` from now."""
        try:
            async with asyncio.timeout(seconds):
                return await self.process.wait()
        except TimeoutError:
            raise AssertionError(
                f"the demo still runs {seconds:.0f} s after being told to stop:\n{self.log_text()}"
            ) from None

    def redis_servers(self) -> list[int]:
        return redis_servers_under(self.folder)


def redis_servers_under(folder: Path) -> list[int]:
    """Pids of live redis-servers whose command line names a path under `folder` (zombies, which
    only wait to be reaped, do not count)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state = stat.rsplit(")", 1)[1].split()[0]
        if "(redis-server)" in stat and state != "Z" and str(folder) in cmdline:
            found.append(int(proc.name))
    return found


async def until_no_redis_under(folder: Path, seconds: float = 20.0) -> None:
    """Until no redis-server runs under `folder` (a parent-death signal is delivered, and the
    server stops, a moment after its parent died); fails naming the pids left after `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            while redis_servers_under(folder):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(
            f"redis-server left running under {folder}: {redis_servers_under(folder)}"
        ) from None


@contextlib.asynccontextmanager
async def running_demo(folder: Path, *options: str) -> AsyncIterator[Demo]:
    """`kck demo` started in `folder` (its var/demo goes there) on a free web port, once it has
    printed its accounts. Left running by the test, it is stopped with SIGINT, then killed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCK_")}
    env["PYTHONPATH"] = str(REPO)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kck.cli",
        "demo",
        "--http-port",
        "0",
        *options,
        cwd=folder,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    demo = Demo(process, folder)
    reader = asyncio.create_task(demo.read_log())
    try:
        await demo.read_accounts()
        yield demo
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                async with asyncio.timeout(STOP_BOUND_S):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        await asyncio.wait({reader}, timeout=5)
        reader.cancel()
        for pid in redis_servers_under(folder):  # what a failed test may have left behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
