"""Reports: metric definitions (shared with the wall board), periods, report tables, SVG charts, CSV."""

from agentdesk.reports import metrics
from agentdesk.reports.access import Principal, add_guarded_route, principal_resolver_key
from agentdesk.reports.report import Report, build_report, make_report
from agentdesk.reports.routes import register_report_routes

__all__ = [
    "Principal",
    "Report",
    "add_guarded_route",
    "build_report",
    "make_report",
    "metrics",
    "principal_resolver_key",
    "register_report_routes",
]
