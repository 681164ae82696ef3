"""Who may read the controller's detail: /health's parts and /metrics.

A load balancer needs only /health's status code (200 up, 503 down): that stays open with a
minimal body. The parts' detail and the Prometheus metrics name hosts, queues and counters: they
are for a signed-in supervisor or administrator, or a scraper sending
`Authorization: Bearer <http.monitoring_token>`.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from agentdesk.keys import services_key
from agentdesk.refusals import refusal
from agentdesk.security import SUPERVISOR_ROLES, principal_of

_SUPERVISORS = frozenset(role.value for role in SUPERVISOR_ROLES)


def may_read_monitoring(request: web.Request) -> bool:
    """The monitoring token in the Authorization header, or a supervisor's session."""
    token = request.app[services_key].settings.http.monitoring_token.get_secret_value()
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(sent.encode(), token.encode()):
        return True
    principal = principal_of(request)
    return principal is not None and principal.role in _SUPERVISORS


def monitoring_refused(request: web.Request) -> web.Response:
    return refusal(
        request, 401, "monitoring.refused", headers={"WWW-Authenticate": 'Bearer realm="kck"'}
    )
