"""The desk's consult: the agent talks to another agent while the caller is on hold, then hands
the caller over or goes back to them — the router's reservation plus Asterisk's attended
transfer of the agent's channel, driven over AMI (docs/desk.md, "Consulting first")."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from queues.router import Router, TransferRefused

log = logging.getLogger(__name__)


class ConsultAMI(Protocol):
    """What a consult needs of `asterisk.ami.AMIClient`."""

    async def getvar(self, variable: str, channel: str | None = None) -> str | None: ...
    async def setvar(self, variable: str, value: str, channel: str | None = None) -> None: ...
    async def atxfer(self, channel: str, exten: str, context: str) -> None: ...
    async def cancel_atxfer(self, channel: str) -> None: ...
    async def play_dtmf(self, channel: str, digit: str, *, receive: bool = False) -> None: ...
    async def hangup(self, channel: str, cause: int | None = None) -> None: ...
    def add_event_handler(self, handler: Any, *event_types: Any) -> None: ...


# Atxfer sends the extension as DTMF while Asterisk plays its transfer prompt, and digits after
# the first are lost (seen on Asterisk 22.10.1): the consult extension is one digit, and what it
# dials travels in an inherited channel variable (asterisk/pbxconfig: `consult_context`). Even
# that one digit is sometimes lost ("Dialed no digits"): it is sent again until the dial begins
# (`DigitResend`); the dialplan's extension 11 is the same consult, for the digit heard twice.
CONSULT_EXTEN = "1"
CONSULT_DIAL = "__KCK_CONSULT_DIAL"


@dataclass(frozen=True)
class DigitResend:
    """How long a consult waits for its dial to begin before sending the extension's digit
    again, and how many times. Inside Asterisk's first attempt at reading the extension
    (features.conf transferdigittimeout 3 s after the ~1 s prompt), so a digit sent again is
    heard; after the last wait the consult is given up (`consult_not_started`)."""

    wait_s: float = 1.0
    times: int = 3

    def __post_init__(self) -> None:
        if self.wait_s <= 0 or self.times < 0:
            raise ValueError(f"DigitResend: wait_s > 0 and times >= 0, got {self}")


class ConsultCalls:
    """Start, complete and cancel consults. `consult_context`: the dialplan context whose
    extension 1 dials `KCK_CONSULT_DIAL` (`kck asterisk config`: kck-consult). Listens to the
    AMI client's `DialBegin` events: one instance per client (`RouterComponent.consults`)."""

    def __init__(
        self,
        router: Router,
        ami: ConsultAMI,
        consult_context: str = "kck-consult",
        resend: DigitResend | None = None,
    ) -> None:
        self.router = router
        self.ami = ami
        self.consult_context = consult_context
        self.resend = resend or DigitResend()
        # the consulted agent's dial string → set when the consult leg dials it
        self._ringing: dict[str, asyncio.Event] = {}
        ami.add_event_handler(self._on_dial_begin, "DialBegin")

    async def _on_dial_begin(self, event: Any) -> None:
        """The consult leg (a Local channel in `consult_context`) dials the consulted phone:
        DestChannel `PJSIP/102-00000002` for dial string `PJSIP/102`."""
        if event.get("Context") != self.consult_context:
            return
        dest = event.get("DestChannel") or ""
        for dial_string, ringing in self._ringing.items():
            if dest.startswith(f"{dial_string}-"):
                ringing.set()

    async def start(
        self, call_id: str, agent: str, to: str, handover: Mapping[str, Any] | None = None
    ) -> None:
        """The caller goes on hold (music), `to`'s desk pops the call and their phone rings;
        `agent` talks to `to`. Returns once `to`'s phone is dialled (about a second on
        Asterisk 22). Raises `TransferRefused`; the caller is never dropped by it."""
        target = self.router.config.agents.get(to)
        call = await self.router.call_state(call_id)
        if target is None or call is None:
            raise TransferRefused("unknown_target", f"consult of call {call_id} with {to!r}")
        caller_channel = str(json.loads(call.get("request") or "{}").get("channel") or "")
        leg = await self.ami.getvar("BRIDGEPEER", channel=caller_channel) or ""
        if not leg:
            raise TransferRefused(
                "not_on_call", f"call {call_id}: the caller is bridged with nobody"
            )
        await self.router.consult(call_id, agent, to, leg, handover)
        dial = target.dial_string
        ringing = self._ringing[dial] = asyncio.Event()  # the router reserved `to`: one at a time
        try:
            try:
                await self.ami.setvar(CONSULT_DIAL, dial, channel=leg)
                await self.ami.atxfer(leg, CONSULT_EXTEN, self.consult_context)
            except Exception as failed:
                log.exception("call %s: Atxfer of %s to %s failed", call_id, leg, dial)
                await self.router.consult_end(call_id, agent, complete=False)
                raise TransferRefused(
                    "pbx_refused", f"call {call_id}: the PBX refused the consult ({failed})"
                ) from None
            if not await self._until_dialled(call_id, leg, ringing):
                await self._give_up(call_id, agent, leg)
        finally:
            if self._ringing.get(dial) is ringing:
                del self._ringing[dial]

    async def _until_dialled(self, call_id: str, leg: str, ringing: asyncio.Event) -> bool:
        """Waits for the consult leg's dial; sends the extension's digit again (as if the agent
        pressed it) after each `resend.wait_s` without it. False when it never began."""
        for sent in range(self.resend.times + 1):
            try:
                await asyncio.wait_for(ringing.wait(), self.resend.wait_s)
                return True
            except TimeoutError:
                pass
            if sent == self.resend.times:
                break
            log.info(
                "call %s: the consult's dial has not begun; digit %s sent again on %s (%d)",
                call_id,
                CONSULT_EXTEN,
                leg,
                sent + 1,
            )
            try:
                await self.ami.play_dtmf(leg, CONSULT_EXTEN, receive=True)
            except Exception as failed:  # the leg is gone or the PBX refuses: no use waiting
                log.warning("call %s: PlayDTMF on %s failed: %s", call_id, leg, failed)
                return ringing.is_set()
        return ringing.is_set()

    async def _give_up(self, call_id: str, agent: str, leg: str) -> None:
        """The consulted phone was never dialled: the transfer is cancelled (Asterisk then ends
        its own attempt and the agent is back with the caller) and the router's consult ends."""
        log.warning("call %s: the consult of %s never dialled the consulted agent", call_id, leg)
        try:
            await self.ami.cancel_atxfer(leg)
        except Exception as failed:  # no transfer in progress any more: nothing to cancel
            log.info("call %s: CancelAtxfer on %s: %s", call_id, leg, failed)
        try:
            await self.router.consult_end(call_id, agent, complete=False)
        except TransferRefused as over:  # the caller hung up meanwhile: the call already ended
            log.info("call %s: consult ended already: %s", call_id, over)
        raise TransferRefused(
            "consult_not_started",
            f"call {call_id}: the PBX did not dial the consulted agent from {leg}",
        )

    async def complete(self, call_id: str, agent: str) -> None:
        """`to` takes the caller; `agent`'s leg is hung up, which completes the PBX's transfer."""
        leg = await self.router.consult_end(call_id, agent, complete=True)
        if leg:
            await self.ami.hangup(leg)

    async def cancel(self, call_id: str, agent: str) -> None:
        """Back to the caller: the consulted agent's leg ends, the caller is taken off hold."""
        call = await self.router.call_state(call_id) or {}
        leg = call.get("xchan", "")
        if call.get("consult") and leg:
            await self.ami.cancel_atxfer(leg)
        await self.router.consult_end(call_id, agent, complete=False)
