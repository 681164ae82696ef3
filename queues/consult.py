"""The desk's consult: the agent talks to another agent while the caller is on hold, then hands
the caller over or goes back to them — the router's reservation plus Asterisk's attended
transfer of the agent's channel, driven over AMI (docs/desk.md, "Consulting first")."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from queues.router import Router, TransferRefused

log = logging.getLogger(__name__)


class ConsultAMI(Protocol):
    """What a consult needs of `asterisk.ami.AMIClient`."""

    async def getvar(self, variable: str, channel: str | None = None) -> str | None: ...
    async def setvar(self, variable: str, value: str, channel: str | None = None) -> None: ...
    async def atxfer(self, channel: str, exten: str, context: str) -> None: ...
    async def cancel_atxfer(self, channel: str) -> None: ...
    async def hangup(self, channel: str, cause: int | None = None) -> None: ...


# Atxfer sends the extension as DTMF while Asterisk plays its transfer prompt, and digits after
# the first are lost (seen on Asterisk 22.10.1): the consult extension is one digit, and what it
# dials travels in an inherited channel variable (asterisk/pbxconfig: `consult_context`)
CONSULT_EXTEN = "1"
CONSULT_DIAL = "__KCK_CONSULT_DIAL"


class ConsultCalls:
    """Start, complete and cancel consults. `consult_context`: the dialplan context whose
    extension 1 dials `KCK_CONSULT_DIAL` (`kck asterisk config`: kck-consult)."""

    def __init__(
        self, router: Router, ami: ConsultAMI, consult_context: str = "kck-consult"
    ) -> None:
        self.router = router
        self.ami = ami
        self.consult_context = consult_context

    async def start(
        self, call_id: str, agent: str, to: str, handover: Mapping[str, Any] | None = None
    ) -> None:
        """The caller goes on hold (music), `to`'s desk pops the call and their phone rings;
        `agent` talks to `to`. Raises `TransferRefused`."""
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
        try:
            await self.ami.setvar(CONSULT_DIAL, target.dial_string, channel=leg)
            await self.ami.atxfer(leg, CONSULT_EXTEN, self.consult_context)
        except Exception as failed:
            log.exception("call %s: Atxfer of %s to %s failed", call_id, leg, target.dial_string)
            await self.router.consult_end(call_id, agent, complete=False)
            raise TransferRefused(
                "pbx_refused", f"call {call_id}: the PBX refused the consult ({failed})"
            ) from None

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
