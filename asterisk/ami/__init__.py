"""AMI: our client for the Asterisk Manager Interface (framing, actions, events, resync)."""

from asterisk.ami import actions, events
from asterisk.ami.actions import (
    Action,
    Command,
    CoreShowChannels,
    DeviceStateList,
    Getvar,
    Hangup,
    Login,
    Logoff,
    MixMonitor,
    Originate,
    Ping,
    PJSIPShowEndpoint,
    PJSIPShowEndpoints,
    QueueStatus,
    RawAction,
    Redirect,
    Setvar,
    StopMixMonitor,
    encode_action,
)
from asterisk.ami.backoff import ExponentialBackoff
from asterisk.ami.client import AMIClient, Reconciler
from asterisk.ami.connection import AMIConnection
from asterisk.ami.dispatch import CallOrderedDispatcher, EventFilter, EventHandler, lane_key
from asterisk.ami.errors import (
    AMIActionError,
    AMIActionTimeout,
    AMIAuthenticationError,
    AMIClosedError,
    AMIConnectionError,
    AMIConnectionLost,
    AMIError,
    AMIFrameTooLarge,
    AMIOutcomeUnknown,
)
from asterisk.ami.events import AMIEvent, UnknownEvent, parse_event
from asterisk.ami.framing import AMIFrameReader, Banner
from asterisk.ami.health import AMIHealth, ConnectionState
from asterisk.ami.message import AMIMessage, MessageKind, parse_message
from asterisk.ami.results import AMIResponse, AMISnapshot, ChannelSnapshot

__all__ = [
    "AMIActionError",
    "AMIActionTimeout",
    "AMIAuthenticationError",
    "AMIClient",
    "AMIClosedError",
    "AMIConnection",
    "AMIConnectionError",
    "AMIConnectionLost",
    "AMIError",
    "AMIEvent",
    "AMIFrameReader",
    "AMIFrameTooLarge",
    "AMIHealth",
    "AMIMessage",
    "AMIOutcomeUnknown",
    "AMIResponse",
    "AMISnapshot",
    "Action",
    "Banner",
    "CallOrderedDispatcher",
    "ChannelSnapshot",
    "Command",
    "ConnectionState",
    "CoreShowChannels",
    "DeviceStateList",
    "EventFilter",
    "EventHandler",
    "ExponentialBackoff",
    "Getvar",
    "Hangup",
    "Login",
    "Logoff",
    "MessageKind",
    "MixMonitor",
    "Originate",
    "PJSIPShowEndpoint",
    "PJSIPShowEndpoints",
    "Ping",
    "QueueStatus",
    "RawAction",
    "Reconciler",
    "Redirect",
    "Setvar",
    "StopMixMonitor",
    "UnknownEvent",
    "actions",
    "encode_action",
    "events",
    "lane_key",
    "parse_event",
    "parse_message",
]
