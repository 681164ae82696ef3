"""The desk's typed application keys (state lives in the app, never in module globals)."""

from __future__ import annotations

from aiohttp import web

from agentdesk.accounts import Accounts
from agentdesk.extensions import ExtensionRegistry
from agentdesk.ports import DeskBackend, KnowledgePort
from agentdesk.screenpop import ScreenPopBuilder
from agentdesk.tickets.store import TicketStore
from agentdesk.tickets.units import CityUnits

accounts_key = web.AppKey("desk_accounts", Accounts)
backend_key: web.AppKey[DeskBackend] = web.AppKey("desk_backend")
knowledge_key: web.AppKey[KnowledgePort] = web.AppKey("desk_knowledge")
units_key = web.AppKey("desk_units", CityUnits)
tickets_key = web.AppKey("desk_tickets", TicketStore)
pops_key = web.AppKey("desk_pops", ScreenPopBuilder)
extensions_key = web.AppKey("desk_extensions", ExtensionRegistry)
