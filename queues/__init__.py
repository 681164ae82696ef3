"""Skill-based queueing: waiting calls and agents in Redis, matching, offers and statistics."""

from queues.config import (
    AgentConfig,
    EscalationStep,
    QueueConfig,
    QueueConfigError,
    RoutingConfig,
    ServiceLevel,
    Skill,
    load_routing_config,
)
from queues.model import (
    AgentState,
    AgentStatus,
    CallbackRequest,
    CallState,
    EndCause,
    IVRStep,
    Offer,
    OfferKind,
    QueueOutcome,
    RoutingRequest,
)
from queues.router import AgentStateRefused, Router, UnknownAgent
from queues.stats import QueueStatistics, metrics_handler, prometheus_text
from queues.waiting import QueueResult, WaitingPrompts, wait_in_queue

__all__ = [
    "AgentConfig",
    "AgentState",
    "AgentStateRefused",
    "AgentStatus",
    "CallState",
    "CallbackRequest",
    "EndCause",
    "EscalationStep",
    "IVRStep",
    "Offer",
    "OfferKind",
    "QueueConfig",
    "QueueConfigError",
    "QueueOutcome",
    "QueueResult",
    "QueueStatistics",
    "Router",
    "RoutingConfig",
    "RoutingRequest",
    "ServiceLevel",
    "Skill",
    "UnknownAgent",
    "WaitingPrompts",
    "load_routing_config",
    "metrics_handler",
    "prometheus_text",
    "wait_in_queue",
]
