"""AMI errors as types: what failed, on which action, and whether it may have run."""

from __future__ import annotations


class AMIError(Exception):
    """Base of every error raised by :mod:`asterisk.ami`."""


class AMIConnectionError(AMIError):
    """No usable AMI connection (refused, lost, or closed by us)."""


class AMIUnreachable(AMIConnectionError):
    """Nothing accepted the TCP connection: refused, no route, or no answer within the connect
    timeout (Asterisk down or restarting). Worth retrying soon, unlike a refused login."""


class AMIAuthenticationError(AMIConnectionError):
    """Asterisk answered the Login with an error (then it closes the socket)."""


class AMIClosedError(AMIConnectionError):
    """The client was closed; nothing more is sent."""


class AMIFrameTooLarge(AMIError):
    """A message exceeded the frame size limit; it was discarded up to its end."""


class AMIActionError(AMIError):
    """Asterisk answered ``Response: Error`` (e.g. ``No such channel``)."""

    def __init__(self, action: str, action_id: str, message: str) -> None:
        super().__init__(f"AMI action {action} ({action_id}) failed: {message}")
        self.action = action
        self.action_id = action_id
        self.message = message


class AMIActionTimeout(AMIError):
    """No complete answer within the action's timeout."""

    def __init__(self, action: str, action_id: str, timeout: float, *, sent: bool) -> None:
        where = "after it was sent" if sent else "while waiting for a connection"
        super().__init__(f"AMI action {action} ({action_id}): no answer within {timeout} s {where}")
        self.action = action
        self.action_id = action_id
        self.sent = sent


class AMIOutcomeUnknown(AMIConnectionError):
    """A non-idempotent action was sent but the connection dropped before its answer.

    It may or may not have run in Asterisk; it is not re-sent (an Originate must not ring twice).
    The caller decides: check with CoreShowChannels, or give up.
    """

    def __init__(self, action: str, action_id: str, reason: str) -> None:
        super().__init__(
            f"AMI action {action} ({action_id}) was sent but the connection was lost before "
            f"its answer ({reason}); it is not re-sent because it must not run twice"
        )
        self.action = action
        self.action_id = action_id


class AMIConnectionLost(AMIConnectionError):
    """The connection dropped while an action waited; ``sent`` says whether it was written."""

    def __init__(self, reason: str, *, sent: bool) -> None:
        super().__init__(f"AMI connection lost: {reason}")
        self.reason = reason
        self.sent = sent
