"""`/api/v1/reports`: monthly availability reports (JSON, HTML, CSV), mailing, deliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import HTMLResponse, Response

from sloapi.api.deps import ReportsDep, require_token
from sloapi.api.schemas import Deliveries, SendAnswer
from sloapi.reports.charts import render_charts
from sloapi.reports.errors import MonthError
from sloapi.reports.html import data_uris, to_html
from sloapi.reports.model import MonthReport
from sloapi.reports.month import Month
from sloapi.reports.render import to_csv
from sloapi.reports.service import ReportService

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
FORMATS = {"json", "html", "csv"}


def _month(service: ReportService, text: str) -> Month:
    try:
        return service.parse(text)
    except MonthError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


def _time(moment: datetime | None) -> str | None:
    """RFC 3339 with its offset (SQLite hands back naive UTC datetimes)."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _split(name: str) -> tuple[str, str]:
    month, dot, fmt = name.partition(".")
    fmt = fmt if dot else "json"
    if fmt not in FORMATS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown report format {fmt!r}")
    return month, fmt


@router.get(
    "/{name}",
    summary="A month's report: `YYYY-MM` (JSON), `YYYY-MM.html` or `YYYY-MM.csv`",
    response_model=MonthReport,
    responses={200: {"content": {"text/html": {}, "text/csv": {}},
                     "description": "the report (JSON below; `.html` and `.csv` as named)"},
               422: {"description": "malformed month, or a month that has not started"},
               503: {"description": "Prometheus unreachable"}},
)  # fmt: skip
def get_report(name: str, service: ReportsDep) -> Response:
    """The report of a month in the report time zone.

    A closed month is served from its newest stored snapshot, or computed when none is kept
    yet (and not stored: a read changes nothing; mailing keeps the snapshot). A month in
    progress is computed live and marked ``partial``. Statuses: 200, 404 unknown format,
    422 bad month, 503 Prometheus unreachable.
    """
    text, fmt = _split(name)
    report, _ = service.report(_month(service, text), keep=False)
    if fmt == "csv":
        return Response(
            to_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'inline; filename="availability-{report.month}.csv"'},
        )
    if fmt == "html":
        return HTMLResponse(to_html(report, data_uris(render_charts(report.slos))))
    return Response(report.model_dump_json(indent=2), media_type="application/json")


@router.post(
    "/{month}/send",
    dependencies=[Depends(require_token)],
    summary="Mail a closed month's report to its recipients (once; `force=true` to resend)",
    response_model=SendAnswer,
)
def send_report(
    month: str,
    service: ReportsDep,
    force: Annotated[bool, Query(description="send again to recipients already served")] = False,
) -> dict[str, Any]:
    """Mail the report. Statuses: 200 (per-recipient outcomes: ``sent``, ``failed``,
    ``unconfirmed``, ``delayed``, ``already_sent``), 401/403 token, 409 already delivered to
    every recipient, 422 bad month or month not final yet."""
    parsed = _month(service, month)
    try:
        outcomes = service.send(parsed, force=force)
    except MonthError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    if outcomes and all(o.status == "already_sent" for o in outcomes):
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"{parsed.key} report already delivered; use force=true"
        )
    return {
        "month": parsed.key,
        "outcomes": [
            {
                "recipient": o.recipient,
                "status": o.status,
                "detail": o.detail,
                "next_attempt_at": _time(o.next_attempt_at),
            }
            for o in outcomes
        ],
    }


@router.get(
    "/{month}/deliveries",
    dependencies=[Depends(require_token)],
    summary="Delivery records of a month's report (bearer token: recipients and SMTP errors)",
    response_model=Deliveries,
)
def deliveries(month: str, service: ReportsDep) -> dict[str, Any]:
    """One record per recipient: status (``sending``, ``sent``, ``failed``, ``unconfirmed``),
    attempts, copies sent without a final reply, last error, Message-ID. Statuses: 200,
    401/403 token, 422 bad month."""
    parsed = _month(service, month)
    return {
        "month": parsed.key,
        "deliveries": [
            {
                "recipient": row.recipient,
                "status": row.status,
                "attempts": row.attempts,
                "sends": row.sends,
                "unconfirmed": row.unconfirmed,
                "last_error": row.last_error,
                "next_attempt_at": _time(row.next_attempt_at),
                "sent_at": _time(row.sent_at),
                "message_id": row.message_id,
            }
            for row in service.deliveries(parsed)
        ],
    }
