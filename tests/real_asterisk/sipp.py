"""SIPp as the citizens' and the agents' phones: scenario files written per test, one process each.

- `SippCaller`: a citizen calling the hotline from the operator's address; its SDP names a
  `CallerMedia` port (keys are pressed from Python when the IVR asks); hangs up when the test
  says so (a NOTIFY to its own port is the cue, so SIPp keeps the dialog) or answers Asterisk's BYE.
- `SippPhone`: a phone that answers (after a delay, talking for a while), never answers (rings
  until cancelled) or is busy (486); it registers with its digest password first, like a desk
  phone does, or is reached at a static contact. It serves calls one after another.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import shutil
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.polling import until
from tests.real_asterisk.media import CallerMedia

OPERATOR_HOST = "127.0.0.2"  # the trunk's `match`: INVITEs from here are the operator's
PHONES_HOST = "127.0.0.1"  # agent phones register from here (never inside `match`)


def sipp_binary() -> str | None:
    return shutil.which("sipp")


def free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


_XML_HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
"""

_OPTIONS_ANSWER = """
  <label id="options"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]opt[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
"""

_OK_FOR_REQUEST = """
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
"""


def _sdp(media_port: str, host: str = "[local_ip]") -> str:
    return f"""v=0
      o=kck 1 1 IN IP4 {host}
      s=-
      c=IN IP4 {host}
      t=0 0
      m=audio {media_port} RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
      a=ptime:20
      a=sendrecv"""


def caller_scenario(
    *, number: str, call_id: str, media_port: int, answered_file: Path, ended_file: Path
) -> str:
    """INVITE the hotline; on 200 write Asterisk's media address and the dialog's tags to
    `answered_file`; then either answer Asterisk's BYE or, cued by a NOTIFY, send our own."""
    sdp = _sdp(str(media_port))
    return (
        _XML_HEAD
        + f"""<scenario name="kck caller {number}">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{number}" <sip:{number}@[local_ip]:[local_port]>;tag=kck{call_id[:8]}
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      User-Agent: kck-test-caller
      Content-Type: application/sdp
      Content-Length: [len]

      {sdp}

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true">
    <action>
      <ereg regexp="c=IN IP4 ([0-9.]+)" search_in="body" check_it="true" assign_to="d1,rip"/>
      <ereg regexp="m=audio ([0-9]+)" search_in="body" check_it="true" assign_to="d2,rport"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{number}" <sip:{number}@[local_ip]:[local_port]>;tag=kck{call_id[:8]}
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <nop>
    <action>
      <log message="answered: [$d1] [$d2]"/>
      <exec command="echo [$rip] [$rport] > {answered_file}"/>
    </action>
  </nop>
  <recv request="NOTIFY" optional="true" next="we_hang_up"/>
  <recv request="BYE" timeout="3600000" ontimeout="we_hang_up"/>
{_OK_FOR_REQUEST}
  <nop next="done"><action><exec command="echo asterisk > {ended_file}"/></action></nop>
  <label id="we_hang_up"/>
  <send retrans="500">
    <![CDATA[

      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{number}" <sip:{number}@[local_ip]:[local_port]>;tag=kck{call_id[:8]}
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" timeout="5000" ontimeout="done"/>
  <nop><action><exec command="echo caller > {ended_file}"/></action></nop>
  <label id="done"/>
</scenario>
"""
    )


class PhoneBehaviour(enum.Enum):
    ANSWERS = "answers"
    NO_ANSWER = "no_answer"  # rings until the caller side cancels (RONA)
    BUSY = "busy"  # 486 at once


def phone_scenario(
    behaviour: PhoneBehaviour, *, answer_ms: int, talk_ms: int, voice: Path | None = None
) -> str:
    """An agent's (or a citizen's) phone serving one call per scenario run; OPTIONS answered.
    `voice`: a pcap of RTP the phone plays once answered (what the agent says)."""
    speak = f'  <nop><action><exec play_pcap_audio="{voice}"/></action></nop>\n' if voice else ""
    invite = """
  <recv request="OPTIONS" optional="true" next="options"/>
  <recv request="INVITE" crlf="true" rrs="true"/>
"""
    if behaviour is PhoneBehaviour.BUSY:
        body = """
  <send>
    <![CDATA[

      SIP/2.0 486 Busy Here
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]ph[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK" timeout="10000" ontimeout="end"/>
  <nop next="end"/>
"""
    elif behaviour is PhoneBehaviour.NO_ANSWER:
        body = """
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]ph[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="CANCEL" timeout="600000" ontimeout="end"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]ph[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <send>
    <![CDATA[

      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]ph[call_number]
      [last_Call-ID:]
      CSeq: [cseq] INVITE
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK" timeout="10000" ontimeout="end"/>
  <nop next="end"/>
"""
    else:
        # keep the caller's From to address our own BYE when the talk time is over
        invite = """
  <recv request="OPTIONS" optional="true" next="options"/>
  <recv request="INVITE" crlf="true" rrs="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="remote_from"/>
    </action>
  </recv>
"""
        body = f"""
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]ph[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:phone@[local_ip]:[local_port]>
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="{answer_ms}"/>
  <send retrans="500">
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]ph[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:phone@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      {_sdp("[media_port]")}

    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
{speak}  <recv request="BYE" timeout="{talk_ms}" ontimeout="hang_up"/>
{_OK_FOR_REQUEST}
  <nop next="end"/>
  <label id="hang_up"/>
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:phone@[local_ip]:[local_port]>;tag=[pid]ph[call_number]
      To: [$remote_from]
      [last_Call-ID:]
      CSeq: 2 BYE
      Contact: <sip:phone@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" timeout="5000" ontimeout="end"/>
  <nop next="end"/>
"""
    return (
        _XML_HEAD
        + f"""<scenario name="kck phone ({behaviour.value})">{invite}{body}{_OPTIONS_ANSWER}
  <label id="end"/>
</scenario>
"""
    )


def register_scenario() -> str:
    """REGISTER with digest (answering the 401 challenge), as a desk phone does at power-on."""
    return (
        _XML_HEAD
        + """<scenario name="kck phone registration">
  <send retrans="500">
    <![CDATA[

      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[service]@[remote_ip]>;tag=[pid]reg[call_number]
      To: <sip:[service]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[service]@[local_ip]:[local_port]>
      Expires: 3600
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="401" auth="true"/>
  <send retrans="500">
    <![CDATA[

      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[service]@[remote_ip]>;tag=[pid]reg[call_number]
      To: <sip:[service]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 2 REGISTER
      Contact: <sip:[service]@[local_ip]:[local_port]>
      Expires: 3600
      [authentication]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
"""
    )


@dataclass
class SippRun:
    """One SIPp process; its output and errors are kept in `folder` for the failure report."""

    name: str
    folder: Path
    process: asyncio.subprocess.Process

    async def wait(self, timeout: float) -> int:
        async with asyncio.timeout(timeout):
            return await self.process.wait()

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()

    def errors(self) -> str:
        texts = []
        for path in sorted(self.folder.glob(f"{self.name}*")):
            if path.suffix in (".log", ".out") and path.stat().st_size:
                texts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-2000:]}")
        return "\n".join(texts)


def _write_scenario(folder: Path, name: str, scenario: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    xml = folder / f"{name}.xml"
    xml.write_text(scenario, encoding="ascii")
    return xml


async def run_sipp(
    name: str,
    folder: Path,
    scenario: str,
    args: list[str],
) -> SippRun:
    xml = await asyncio.to_thread(_write_scenario, folder, name, scenario)
    binary = sipp_binary()
    if binary is None:
        raise RuntimeError("sipp is not installed (Debian package sip-tester)")
    out = await asyncio.to_thread((folder / f"{name}.out").open, "wb")
    process = await asyncio.create_subprocess_exec(
        binary,
        *args,
        "-sf",
        str(xml),
        "-trace_err",
        "-error_file",
        str(folder / f"{name}-errors.log"),
        "-trace_msg",
        "-message_file",
        str(folder / f"{name}-messages.txt"),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=out,
        stderr=asyncio.subprocess.STDOUT,
        cwd=folder,
    )
    out.close()
    return SippRun(name, folder, process)


class SippCaller:
    """A citizen's call to the hotline: SIP by SIPp, audio and keys by `CallerMedia`."""

    def __init__(self, number: str, folder: Path) -> None:
        self.number = number
        self.folder = folder
        # SIPp maps messages to calls by its own Call-ID: `-cid_str` makes it one we know
        self._cid_prefix = f"kck{uuid.uuid4().hex[:16]}"
        self.call_id = f"{self._cid_prefix}-1@{OPERATOR_HOST}"
        self.media = CallerMedia(OPERATOR_HOST)
        self.sip_port = 0
        self.run: SippRun | None = None
        self._answered = folder / f"caller-{number}.answered"
        self._ended = folder / f"caller-{number}.ended"

    async def dial(self, pbx_sip: tuple[str, int], hotline: str) -> None:
        media_port = await self.media.open()
        self.sip_port = free_udp_port(OPERATOR_HOST)
        scenario = caller_scenario(
            number=self.number,
            call_id=self.call_id,
            media_port=media_port,
            answered_file=self._answered,
            ended_file=self._ended,
        )
        self.run = await run_sipp(
            f"caller-{self.number}",
            self.folder,
            scenario,
            [
                f"{pbx_sip[0]}:{pbx_sip[1]}",
                "-s",
                hotline,
                "-i",
                OPERATOR_HOST,
                "-p",
                str(self.sip_port),
                "-mp",
                str(free_udp_port(OPERATOR_HOST)),
                "-m",
                "1",
                "-l",
                "1",
                "-cid_str",
                f"{self._cid_prefix}-%u@%s",
            ],
        )

    async def answered(self, timeout: float = 10.0) -> None:
        """Wait for Asterisk's 200 OK; then the audio flows both ways."""

        def answered_or_gone() -> bool:
            if self._answered.exists() and self._answered.read_text().strip():
                return True
            if self.run is not None and self.run.process.returncode is not None:
                raise AssertionError(f"caller {self.number} ended before 200 OK:\n{self.errors()}")
            return False

        await until(answered_or_gone, timeout)
        host, port = self._answered.read_text().split()
        self.media.set_remote(host, int(port))

    def press(self, keys: str) -> None:
        self.media.press(keys)

    def hang_up(self) -> None:
        """The caller hangs up now (SIPp sends the BYE)."""
        cue = (
            f"NOTIFY sip:caller@{OPERATOR_HOST}:{self.sip_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {OPERATOR_HOST}:9;branch=z9hG4bK{uuid.uuid4().hex[:12]}\r\n"
            f"From: <sip:cue@{OPERATOR_HOST}>;tag=cue\r\n"
            f"To: <sip:caller@{OPERATOR_HOST}>\r\n"
            f"Call-ID: {self.call_id}\r\n"
            "CSeq: 1 NOTIFY\r\nEvent: kck-hangup\r\nContent-Length: 0\r\n\r\n"
        )
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(cue.encode(), (OPERATOR_HOST, self.sip_port))

    @property
    def ended_by(self) -> str | None:
        """'asterisk' (it sent BYE), 'caller' (we did), None while the call lasts."""
        if self._ended.exists():
            return self._ended.read_text().strip() or None
        return None

    async def ended(self, timeout: float) -> str:
        """Who ended the call ('asterisk' or 'caller'), once SIPp has written it."""
        await until(lambda: self.ended_by is not None, timeout)
        assert self.ended_by is not None
        return self.ended_by

    def errors(self) -> str:
        return self.run.errors() if self.run else ""

    async def close(self) -> None:
        if self.run is not None:
            await self.run.stop()
        await self.media.close()


class SippPhone:
    """An agent's desk phone (or a citizen's, for callbacks) at `host`:`port`."""

    def __init__(
        self,
        extension: str,
        folder: Path,
        behaviour: PhoneBehaviour = PhoneBehaviour.ANSWERS,
        *,
        host: str = PHONES_HOST,
        answer_ms: int = 500,
        talk_ms: int = 3000,
        voice: Path | None = None,
    ) -> None:
        self.voice = voice
        self.extension = extension
        self.folder = folder
        self.behaviour = behaviour
        self.host = host
        self.answer_ms = answer_ms
        self.talk_ms = talk_ms
        self.port = free_udp_port(host)
        self.run: SippRun | None = None

    async def register(self, pbx_sip: tuple[str, int], password: str) -> None:
        """REGISTER from the phone's own port with its digest password (must succeed)."""
        run = await run_sipp(
            f"register-{self.extension}",
            self.folder,
            register_scenario(),
            [
                f"{pbx_sip[0]}:{pbx_sip[1]}",
                "-s",
                self.extension,
                "-au",
                self.extension,
                "-ap",
                password,
                "-i",
                self.host,
                "-p",
                str(self.port),
                "-m",
                "1",
            ],
        )
        code = await run.wait(15)
        if code != 0:
            raise AssertionError(f"phone {self.extension} did not register:\n{run.errors()}")

    async def serve(self) -> None:
        """Answer calls (one scenario run per call) until stopped."""
        self.run = await run_sipp(
            f"phone-{self.extension}",
            self.folder,
            phone_scenario(
                self.behaviour, answer_ms=self.answer_ms, talk_ms=self.talk_ms, voice=self.voice
            ),
            ["-i", self.host, "-p", str(self.port), "-mp", str(free_udp_port(self.host))],
        )

    def errors(self) -> str:
        return self.run.errors() if self.run else ""

    async def close(self) -> None:
        if self.run is not None:
            await self.run.stop()
