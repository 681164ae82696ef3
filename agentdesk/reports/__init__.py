"""Reports: metric definitions (shared with the wall board), periods, report tables, SVG charts, CSV."""

from agentdesk.reports import metrics
from agentdesk.reports.report import Report, build_report, make_report
from agentdesk.reports.routes import register_report_routes

__all__ = [
    "Report",
    "build_report",
    "make_report",
    "metrics",
    "register_report_routes",
]
