"""HTML rendering of a report (Jinja2, autoescaped; inline styles so mail clients keep them)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime

from jinja2 import Environment, PackageLoader, select_autoescape

from sloapi.reports.model import MonthReport, SLOReport
from sloapi.reports.render import (
    component_line,
    duration,
    excluded_line,
    label_name,
    local_time,
    percent,
    period_name,
    verdict,
)

_ENV = Environment(
    loader=PackageLoader("sloapi.reports", "templates"),
    autoescape=select_autoescape(["html", "j2"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


_COLOURS = {"met": "#2e7d32", "missed": "#c62828", "no_data": "#777777", "no_traffic": "#777777"}


def _colour(slo: SLOReport) -> str:
    return _COLOURS[slo.verdict]


def to_html(report: MonthReport, chart_sources: Mapping[str, str] | None = None) -> str:
    """Render the report as one HTML page.

    Args:
        report: The report.
        chart_sources: ``src`` of each SLO's chart by SLO id (``cid:...`` in mail, ``data:``
            URIs in a standalone page); SLOs without one get no image.

    Returns:
        The HTML document.
    """

    def local(moment: datetime) -> str:
        return local_time(moment, report)

    return _ENV.get_template("report.html.j2").render(
        report=report,
        summary=report.summary,
        charts=dict(chart_sources or {}),
        percent=percent,
        duration=duration,
        verdict=verdict,
        component_line=component_line,
        colour=_colour,
        local=local,
        period_name=lambda row: period_name(row, report),
        label_name=label_name,
        excluded_line=lambda window: excluded_line(window, report),
    )


def data_uris(charts: Mapping[str, bytes]) -> dict[str, str]:
    """PNG bytes by SLO id -> ``data:image/png;base64,...`` URIs (a self-contained page)."""
    return {
        slo_id: "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        for slo_id, png in charts.items()
    }
