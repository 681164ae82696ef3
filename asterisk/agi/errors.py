"""FastAGI errors: the caller is gone, a command failed, the peer broke the protocol."""

from __future__ import annotations


class AGIError(Exception):
    """Base of every error raised by :mod:`asterisk.agi`."""


class CallerHungUp(AGIError):
    """The caller is gone: HANGUP notification, 511 reply, EOF, or ``result=-1`` with a hang-up.

    After an AMI ``Redirect`` Asterisk also says HANGUP although the channel lives on: for this
    AGI session it is the same thing, the channel is no longer ours to drive.
    """


class AGICommandError(AGIError):
    """Asterisk refused or failed a command (510, 520, ``result=-1`` without a hang-up, -2 ...)."""

    def __init__(self, command: str, reason: str, *, code: int | None = None) -> None:
        super().__init__(f"AGI command {command!r} failed: {reason}")
        self.command = command
        self.reason = reason
        self.code = code


class AGITimeoutError(AGICommandError):
    """No reply within the command timeout; the session is closed because replies would misalign."""


class AGIProtocolError(AGIError):
    """The peer sent something that is not FastAGI (oversized line, bad environment block)."""
