"""FastAGI: the server Asterisk connects to for each call, and the session API routes use."""

from asterisk.agi.access import ClientAllowList
from asterisk.agi.arguments import quoted, quoted_if_needed, word
from asterisk.agi.environment import AGIEnvironment, build_environment
from asterisk.agi.errors import (
    AGICommandError,
    AGIError,
    AGIProtocolError,
    AGITimeoutError,
    CallerHungUp,
)
from asterisk.agi.reply import AGIReply, parse_reply
from asterisk.agi.server import DONE_VARIABLE, FAILURE_VARIABLE, FastAGIServer, Route
from asterisk.agi.session import AGISession, DigitsResult, RecordResult

__all__ = [
    "DONE_VARIABLE",
    "FAILURE_VARIABLE",
    "AGICommandError",
    "AGIEnvironment",
    "AGIError",
    "AGIProtocolError",
    "AGIReply",
    "AGISession",
    "AGITimeoutError",
    "CallerHungUp",
    "ClientAllowList",
    "DigitsResult",
    "FastAGIServer",
    "RecordResult",
    "Route",
    "build_environment",
    "parse_reply",
    "quoted",
    "quoted_if_needed",
    "word",
]
