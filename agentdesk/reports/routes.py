"""HTTP face of the reports: the report page, its charts as SVG and every table as CSV."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from agentdesk.i18n import translate
from agentdesk.keys import services_key, step_labels_key, units_key
from agentdesk.pages import render
from agentdesk.ports import StepLabels
from agentdesk.refusals import language_of
from agentdesk.reports.charts import CHART_NAMES, render_chart
from agentdesk.reports.context import bind_context
from agentdesk.reports.csv_export import CSV_DIALECTS, RFC4180, table_csv
from agentdesk.reports.names import ReportNames, number_text
from agentdesk.reports.periods import PeriodError, parse_range
from agentdesk.reports.report import Report, make_report
from agentdesk.reports.rules import ensure_counting_rules
from agentdesk.security import SUPERVISOR_ROLES, Access, add_route
from agentdesk.tickets.units import load_units
from kck.services import Services

QUEUE_FIELD = "queue"
DIALECT_FIELD = "dialect"


def register_report_routes(
    app: web.Application,
    services: Services | None = None,
    *,
    step_labels: StepLabels | None = None,
) -> None:
    """Mount /reports (page), /reports/{table}.csv and /reports/charts/{chart}.svg (supervisors).

    `services`: by default those of the application built by `agentdesk.app.create_app`.
    `step_labels`: the IVR's step names (`ivr.step_labels.LiveStepLabels`); without them the IVR
    branches show step ids. City units: the desk's, else the installation's units.yaml.
    """
    services = bind_context(app, services)
    ensure_counting_rules(app)
    if step_labels is not None:
        app[step_labels_key] = step_labels
    units = services.settings.config_dir / "units.yaml"
    if units_key not in app and units.exists():
        app[units_key] = load_units(units)
    supervisors = Access(SUPERVISOR_ROLES)
    add_route(app, "GET", "/reports", report_page, supervisors)
    add_route(app, "GET", "/reports/charts/{chart}.svg", report_chart, supervisors)
    add_route(app, "GET", "/reports/{table}.csv", report_csv, supervisors)


async def _report(request: web.Request) -> Report:
    services = request.app[services_key]
    tz = services.settings.tz
    today = services.clock.now().astimezone(tz).date()
    try:
        first, last = parse_range(request.query.get("from"), request.query.get("to"), today)
    except PeriodError as exc:
        text = translate(language_of(request), "report.bad_range", detail=exc)
        raise web.HTTPBadRequest(text=text) from None
    rules, names = ensure_counting_rules(request.app)
    queue = request.query.get(QUEUE_FIELD) or None
    if queue is not None and names.ids and queue not in names.ids:
        text = translate(language_of(request), "report.unknown_queue", queue=queue)
        raise web.HTTPBadRequest(text=text)
    return await make_report(
        services.engine, services.sessions, first, last, tz, rules, queue=queue
    )


def _query(report: Report) -> str:
    fields = {"from": report.first.isoformat(), "to": report.last.isoformat()}
    if report.queue:
        fields[QUEUE_FIELD] = report.queue
    return urlencode(fields)


async def _names(request: web.Request) -> ReportNames:
    labels = request.app.get(step_labels_key)
    return ReportNames(
        language_of(request),
        request.app.get(units_key),
        await labels.step_labels() if labels is not None else None,
    )


async def report_page(request: web.Request) -> web.Response:
    report = await _report(request)
    _rules, queue_names = ensure_counting_rules(request.app)
    lang = language_of(request)
    return render(
        request,
        "reports/report.html",
        report=report,
        tables=report.tables(),
        names=await _names(request),
        charts=[(name, render_chart(report, name, lang)) for name in CHART_NAMES],
        query=_query(report),
        queues=[(queue_id, queue_names.name(queue_id, lang)) for queue_id in queue_names.ids],
        fmt=number_text,
        centre=request.app[services_key].settings.centre,
    )


async def report_chart(request: web.Request) -> web.Response:
    name = request.match_info["chart"]
    if name not in CHART_NAMES:
        text = translate(language_of(request), "report.unknown_chart", chart=name)
        raise web.HTTPNotFound(text=text)
    svg = render_chart(await _report(request), name, language_of(request))
    return web.Response(text=svg, content_type="image/svg+xml")


async def report_csv(request: web.Request) -> web.Response:
    name = request.match_info["table"]
    dialect = CSV_DIALECTS.get(request.query.get(DIALECT_FIELD) or RFC4180.name)
    if dialect is None:
        known = ", ".join(CSV_DIALECTS)
        raise web.HTTPBadRequest(
            text=f"field {DIALECT_FIELD!r}: unknown CSV dialect {request.query[DIALECT_FIELD]!r}; "
            f"dialects: {known}"
        )
    report = await _report(request)
    table = report.table(name)
    if table is None:
        known = ", ".join(t.name for t in report.tables())
        raise web.HTTPNotFound(text=f"no table {name!r}; tables: {known}")
    span = report.first.isoformat() + ("" if report.first == report.last else f"_{report.last}")
    suffix = f"_{report.queue}" if report.queue else ""
    if dialect is not RFC4180:
        suffix += f"_{dialect.name}"
    return web.Response(
        text=table_csv(table, dialect, await _names(request)),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="kck_{name}_{span}{suffix}.csv"'},
    )
