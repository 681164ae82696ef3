"""A real Asterisk for the tests: found beside the checkout or named by KCK_TEST_ASTERISK, run in a
private folder with exactly the configuration `kck asterisk config` writes plus the test's own
additions (free ports, an observer AMI user), started and stopped through its own launcher."""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
LAUNCHER = "start-asterisk"
CLI = "asterisk-cli"
OBSERVER_USER = "kcktest"
OBSERVER_SECRET = "observer-secret-for-tests"


@dataclass(frozen=True)
class AsteriskInstall:
    """A folder with `start-asterisk RUNDIR CONFDIR` and `asterisk-cli RUNDIR "command"`."""

    folder: Path

    @property
    def launcher(self) -> Path:
        return self.folder / LAUNCHER

    @property
    def cli(self) -> Path:
        return self.folder / CLI


def find_asterisk() -> AsteriskInstall | str:
    """The install, or the one-line reason the real-Asterisk tests are skipped:
    KCK_TEST_ASTERISK, else the nearest `shared/asterisk` beside the checkout or beside a folder
    above it (a workplace keeps its test tools there; a clone may sit a level or two below)."""
    named = os.environ.get("KCK_TEST_ASTERISK")
    candidates = (
        [Path(named)]
        if named
        else [folder / "shared" / "asterisk" for folder in REPOSITORY.parents]
    )
    for folder in candidates:
        install = AsteriskInstall(folder)
        if install.launcher.is_file() and install.cli.is_file():
            return install
    where = named or "shared/asterisk beside the checkout or a folder above it"
    return (
        f"no real Asterisk at {where} (needs {LAUNCHER} and {CLI}; "
        "set KCK_TEST_ASTERISK to such a folder)"
    )


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class PBXPorts:
    sip: int
    ami: int
    rtp_start: int
    rtp_span: int = 198  # rtpend - rtpstart: 198 = 99 calls' RTP/RTCP pairs (the tests)

    @classmethod
    def free(cls, rtp_span: int = 198) -> PBXPorts:
        """Free SIP and AMI ports; an RTP range picked at random (Asterisk skips ports in use).
        A range wider than the tests' (a load test, up to 9,598 ports) starts at 10400: below
        the kernel's ephemeral ports (32768+, where SIPp's and the callers' sockets are) and
        apart from the tests' ranges (20000-29198) and the base configuration's (10000-10200)."""
        if rtp_span <= 198:
            start = random.randrange(20000, 29000, 200)
        elif rtp_span <= 9598:
            start = 10400
        else:
            raise ValueError(f"an RTP range of {rtp_span} ports does not fit below 20000")
        return cls(sip=free_udp_port(), ami=free_tcp_port(), rtp_start=start, rtp_span=rtp_span)

    @property
    def rtp_end(self) -> int:
        return self.rtp_start + self.rtp_span


def test_additions(ports: PBXPorts) -> dict[str, str]:
    """What the tests add to the generated files: RTP ports of their own and an AMI user who
    may read everything (the observer: DialBegin, AGIExec, Newstate...)."""
    return {
        "rtp.conf": f"[general]\nrtpstart={ports.rtp_start}\nrtpend={ports.rtp_end}\n",
        "manager.conf": (
            f"\n[{OBSERVER_USER}]\nsecret={OBSERVER_SECRET}\ndeny=0.0.0.0/0.0.0.0\n"
            "permit=127.0.0.1/255.255.255.255\nread=all\nwrite=all\n"
        ),
    }


class RealAsterisk:
    """One Asterisk process in `rundir`, configured from `confdir`. Blocking calls: a test runs
    them in a thread (`asyncio.to_thread`) when it restarts Asterisk under a running kck."""

    def __init__(self, install: AsteriskInstall, rundir: Path, confdir: Path, ports: PBXPorts):
        self.install = install
        self.rundir = rundir
        self.confdir = confdir
        self.ports = ports
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def sip(self) -> tuple[str, int]:
        return ("127.0.0.1", self.ports.sip)

    @property
    def full_log(self) -> Path:
        return self.rundir / "log" / "full.log"

    def start(self, timeout: float = 120.0) -> None:
        """Start and wait until fully booted (the first start may install Debian packages)."""
        self.rundir.mkdir(parents=True, exist_ok=True)
        with (self.rundir / f"console-{self.starts}.log").open("wb") as out:
            self.process = subprocess.Popen(
                [str(self.install.launcher), str(self.rundir), str(self.confdir)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"Asterisk exited with {self.process.returncode}: {self._console_tail()}"
                )
            if (self.rundir / "run" / "asterisk.ctl").exists():
                try:
                    self.cli("core waitfullybooted", timeout=max(1.0, deadline - time.monotonic()))
                    return
                except RuntimeError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"Asterisk did not boot within {timeout:.0f} s: {self._console_tail()}")

    def _console_tail(self) -> str:
        logs = sorted(self.rundir.glob("console-*.log"))
        return logs[-1].read_text(errors="replace")[-2000:] if logs else ""

    def cli(self, command: str, timeout: float = 15.0) -> str:
        try:
            result = subprocess.run(
                [str(self.install.cli), str(self.rundir), command],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"asterisk -rx {command!r} timed out") from None
        if result.returncode != 0:
            raise RuntimeError(f"asterisk -rx {command!r} failed: {result.stdout.strip()[:300]}")
        return result.stdout

    def channels(self) -> int:
        """Active channels now."""
        text = self.cli("core show channels count")
        for line in text.splitlines():
            if line.endswith("active channels") or line.endswith("active channel"):
                return int(line.split()[0])
        return 0

    def hang_up_everything(self, timeout: float = 10.0) -> None:
        """Between tests: no channel of one test may reach the next."""
        self.cli("channel request hangup all")
        deadline = time.monotonic() + timeout
        while self.channels() and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop(self, timeout: float = 20.0) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(RuntimeError):
            self.cli("core stop now", timeout=5)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self.process = None

    def log_text(self) -> str:
        return self.full_log.read_text(errors="replace") if self.full_log.exists() else ""
