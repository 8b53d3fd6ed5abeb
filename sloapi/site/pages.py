"""The HTML pages: overview, one SLO, monthly reports, runbooks (not part of the OpenAPI schema)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from sloapi.api.deps import AtDep, CtxDep, DeadlineDep, ReportsDep
from sloapi.api.errors import status_code
from sloapi.errors import SloapiError
from sloapi.reports.charts import render_charts
from sloapi.reports.html import data_uris, to_html
from sloapi.reports.month import Month
from sloapi.reports.service import ReportService
from sloapi.site import views
from sloapi.site.alerts import firing_alerts
from sloapi.site.budget import budget_panels, policy_states
from sloapi.site.charts import budget_chart, sli_chart
from sloapi.site.figures import SLOFigures, current_month, slo_figures
from sloapi.site.render import page, trusted
from sloapi.site.runbooks import runbooks

router = APIRouter(include_in_schema=False)
REPORT_MONTHS = 6  # months listed on /reports, newest first
FILTER_LABELS = ("service", "team")
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S)
#: The pages load nothing but this service's own files; inline styles are the report's and the charts'.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _html(template: str, request: Request, http_status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("refresh", request.app.state.ctx.settings.site_refresh_seconds)
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
    return HTMLResponse(page(template, request=request, **context), status_code=http_status, headers=headers)


def _error(request: Request, exc: Exception) -> HTMLResponse:
    code = status_code(exc)
    return _html("error.html.j2", request, code, code=code, detail=str(exc), refresh=0)


def _pinned(at: datetime, request: Request) -> str | None:
    """The ``at`` the page was asked for (kept in its links), or None for "now"."""
    return at.isoformat() if request.query_params.get("at") else None


def _still(pinned: str | None) -> dict[str, int]:
    """A page pinned to an instant does not reload itself (its figures cannot change)."""
    return {"refresh": 0} if pinned else {}


@router.get("/", response_class=HTMLResponse)
async def overview(
    request: Request,
    ctx: CtxDep,
    at: AtDep,
    deadline: DeadlineDep,
    service: Annotated[str, Query(max_length=200)] = "",
    team: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    """Every SLO, least error budget left first, with its policy state; filters by service and team."""
    try:
        statuses = await run_in_threadpool(ctx.statuses, None, at, deadline)
    except SloapiError as exc:
        return _error(request, exc)
    rows = views.rows(statuses)
    filters = {"service": service, "team": team}
    options = {
        "service": sorted({str(r.status.get("service", "")) for r in rows} - {""}),
        "team": views.label_values(rows, "team"),
    }
    shown = [row for row in rows if views.matches(row, filters)]
    pinned = _pinned(at, request)
    return _html("index.html.j2", request, rows=shown, total=len(rows), at=at, pinned=pinned,
                 filters=filters, options=options, policies=policy_states(ctx, statuses),
                 **_still(pinned))  # fmt: skip


def _charts(fig: SLOFigures, slo_id: str) -> dict[str, Any]:
    points = fig.budget["points"]
    times = [datetime.fromisoformat(p["time"]) for p in points]
    covered = fig.covered if len(fig.covered) == len(points) else [True] * len(points)
    remaining = [p["remaining_ratio"] if ok else None for p, ok in zip(points, covered, strict=True)]
    ideal = [p["ideal_ratio"] for p in points]
    sli_times = [ts.to_pydatetime() for ts in fig.sli.index]
    return {
        "budget": trusted(budget_chart(times, remaining, ideal, f"budget-{slo_id}")),
        "sli": trusted(
            sli_chart(sli_times, list(fig.sli.to_numpy()), fig.status["objective"], f"sli-{slo_id}")
        ),
    }


@router.get("/slos/{slo_id}", response_class=HTMLResponse)
async def slo_page(
    slo_id: str, request: Request, ctx: CtxDep, at: AtDep, deadline: DeadlineDep
) -> HTMLResponse:
    """One SLO: charts, policy state, burn rates by alert tier, time to exhaustion, where the budget
    went, exclusion windows, incidents, firing alerts."""
    try:
        spec = ctx.spec(slo_id)
        fig = await run_in_threadpool(slo_figures, ctx, slo_id, at, deadline)
        charts = await run_in_threadpool(_charts, fig, slo_id)
        panels = await run_in_threadpool(budget_panels, ctx, spec, fig.status, at, deadline)
    except SloapiError as exc:
        return _error(request, exc)
    settings = ctx.settings
    firing = await firing_alerts(settings.alertmanager_url, slo_id, settings.alertmanager_timeout_seconds)
    status = fig.status
    months = _months(current_month(ctx, at))
    pinned = _pinned(at, request)
    return _html("slo.html.j2", request, spec=spec, status=status, row=views.rows([status])[0], charts=charts,
                 step_seconds=fig.budget["step_seconds"], month=fig.month, incidents=fig.incidents,
                 firing=firing, months=months, at=at, pinned=pinned, panels=panels,
                 **_still(pinned))  # fmt: skip


def _months(latest: Month) -> list[Month]:
    months = [latest]
    while len(months) < REPORT_MONTHS:
        months.append(months[-1].previous())
    return months


@router.get("/reports", response_class=HTMLResponse)
async def reports(request: Request, ctx: CtxDep) -> HTMLResponse:
    """The recent months, each a link to its report page, CSV and JSON."""
    months = _months(current_month(ctx, ctx.clock()))
    return _html("reports.html.j2", request, months=months, now=ctx.clock(), refresh=0)


def _report_body(service: ReportService, text: str) -> tuple[str, str, bool]:
    report, _snapshot = service.report(service.parse(text))
    html = to_html(report, data_uris(render_charts(report.slos)))
    match = _BODY.search(html)
    return report.subject(), match.group(1) if match else html, report.partial


@router.get("/reports/{month}", response_class=HTMLResponse)
async def report_page(month: str, request: Request, service: ReportsDep) -> HTMLResponse:
    """A month's report (the report's own HTML) with links to its CSV and JSON."""
    try:
        subject, body, partial = await run_in_threadpool(_report_body, service, month)
    except SloapiError as exc:
        return _error(request, exc)
    return _html("report.html.j2", request, month=month, subject=subject, body=trusted(body),
                 partial=partial, refresh=0)  # fmt: skip


@router.get("/runbooks", response_class=HTMLResponse)
async def runbooks_page(request: Request) -> HTMLResponse:
    """docs/runbooks.md, one section per alert; alerts link to ``/runbooks#<alert name in lower case>``."""
    book = runbooks()
    return _html("runbooks.html.j2", request, toc=trusted(book.toc), body=trusted(book.html), refresh=0)
