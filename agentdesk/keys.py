"""Every typed key of the web application's state (app and request), in one place.

State lives in the application, never in module globals. This module imports nothing of
`agentdesk` at run time (the types below are for the type checker only), so any module may
import it: the factory, the route modules, the sockets, the board and the reports.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    import jinja2

    from agentdesk.accounts import Accounts
    from agentdesk.board.feed import BoardFeed
    from agentdesk.board.force import AgentStateWriter
    from agentdesk.extensions import ExtensionRegistry
    from agentdesk.login_throttle import LoginThrottle
    from agentdesk.menu_port import MenuEditingPort
    from agentdesk.open311.requests import ServiceRequests
    from agentdesk.ports import DeskBackend, KnowledgePort, StepLabels
    from agentdesk.reports.metrics import CountingRules
    from agentdesk.reports.rules import QueueNames
    from agentdesk.screenpop import ScreenPopBuilder
    from agentdesk.security import Access, Principal, PrincipalResolver
    from agentdesk.sessions import DeskSession, SessionStore
    from agentdesk.socket_session import SocketTiming
    from agentdesk.tasks.desk import DeskTasks
    from agentdesk.tickets.matters import MatterService
    from agentdesk.tickets.store import TicketStore
    from agentdesk.tickets.units import CityUnits
    from kb import KnowledgeBase
    from kck.services import Services
    from recordings.access import RecordingAccess
    from recordings.lifecycle import RecordingLifecycle
    from recordings.transcription_queue import TranscriptionQueue

# The controller's health, probed when asked (kck.runtime.Runtime.health)
HealthSource = Callable[[], Awaitable[dict[str, Any]]]

# --- the application (agentdesk.app) -------------------------------------------------------
services_key: web.AppKey[Services] = web.AppKey("services")
health_key: web.AppKey[HealthSource] = web.AppKey("health")
templates_key: web.AppKey[jinja2.Environment] = web.AppKey("templates")

# --- who may do what (agentdesk.security) ---------------------------------------------------
access_key: web.AppKey[dict[tuple[str, str], Access]] = web.AppKey("desk_access")
sessions_key: web.AppKey[SessionStore] = web.AppKey("desk_sessions")
accounts_key: web.AppKey[Accounts] = web.AppKey("desk_accounts")
throttle_key: web.AppKey[LoginThrottle] = web.AppKey("login_throttle")
# Who is signed in, when not the desk's session (another sign-in plugged in); absent: the session.
principal_resolver_key: web.AppKey[PrincipalResolver] = web.AppKey("principal_resolver")
session_request_key: web.RequestKey[DeskSession] = web.RequestKey("desk_session")
principal_request_key: web.RequestKey[Principal] = web.RequestKey("principal")

# --- the desk ---------------------------------------------------------------------------------
backend_key: web.AppKey[DeskBackend] = web.AppKey("desk_backend")
knowledge_key: web.AppKey[KnowledgePort] = web.AppKey("desk_knowledge")
units_key: web.AppKey[CityUnits] = web.AppKey("desk_units")
# a matter's life with the city units (present when the outbox runs: `kck serve`, the demo)
matters_key: web.AppKey[MatterService] = web.AppKey("matters")
# the Open311 API for the portal and the app (agentdesk.open311)
open311_key: web.AppKey[ServiceRequests] = web.AppKey("open311")
tickets_key: web.AppKey[TicketStore] = web.AppKey("desk_tickets")
pops_key: web.AppKey[ScreenPopBuilder] = web.AppKey("desk_pops")
extensions_key: web.AppKey[ExtensionRegistry] = web.AppKey("desk_extensions")
# callbacks and voicemail for agents (agentdesk.tasks; absent: "callback needed" is only stored)
tasks_key: web.AppKey[DeskTasks] = web.AppKey("desk_tasks")

# --- the editor's screens (agentdesk.editor) --------------------------------------------------
editor_kb_key: web.AppKey[KnowledgeBase] = web.AppKey("editor_kb")

# --- recordings (agentdesk.recording_routes) ---------------------------------------------------
recording_access_key: web.AppKey[RecordingAccess] = web.AppKey("recording_access")
recording_control_key: web.AppKey[RecordingLifecycle] = web.AppKey("recording_control")
transcription_queue_key: web.AppKey[TranscriptionQueue] = web.AppKey("transcription_queue")

# --- the IVR menu editor (agentdesk.menu_routes) ----------------------------------------------
menus_key: web.AppKey[MenuEditingPort] = web.AppKey("menu_editing")

# --- the live sockets (desk and board, agentdesk.socket_session) -----------------------------
sockets_key: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("live_sockets")
socket_timing_key: web.AppKey[SocketTiming] = web.AppKey("socket_timing")

# --- the wall board and the reports -----------------------------------------------------------
feed_key: web.AppKey[BoardFeed] = web.AppKey("board_feed")
state_writer_key: web.AppKey[AgentStateWriter] = web.AppKey("board_state_writer")
counting_rules_key: web.AppKey[tuple[CountingRules, QueueNames]] = web.AppKey("counting_rules")
step_labels_key: web.AppKey[StepLabels] = web.AppKey("report_step_labels")
