"""Conformance: the same recorded history in Prometheus and in VictoriaMetrics gives the same reports.

Every calendar month (UTC) the history of `slo_history.py` touches (two or three: 35 days ending
at the session's `history.end`) is computed by the report service from the session's `prom_url`
and from its `vm_url`, as if now were the history's end: the older month holds the 30-minute
outage of 33 days ago, the newer ones the 2-hour error burst, the PgBouncer outages, the scrape
gap and the 20-minute outage. Every figure of every SLO's month is compared, field by field
(SLI, verdict, budget, downtime, events, coverage, incidents, "where the budget went" by period
and by label, every day, the summary).

Tolerances (docs/scale.md, "Conformance"): every step of a report is one range-query point that
both engines compute from the same two samples, and the steps are summed by sloapi in the same
order on both sides, so
- every figure but coverage agrees within 1e-9 relative (float noise of the engines' own
  arithmetic inside a step: `sum` over series in each engine's order; observed: equal);
- coverage of an event SLI differs by one step per scrape gap: the step after the gap's start
  holds no sample, and VictoriaMetrics answers it with 0 events (its `rate` reaches back to the
  sample on the window's start) where Prometheus answers nothing.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slo_history import DAY, History

from sloapi.config import Settings
from sloapi.prometheus import PromClient
from sloapi.reports.month import Month
from sloapi.reports.service import ReportService
from sloapi.specs import load_dir
from sloapi.storage.db import make_engine, make_session_factory
from sloapi.storage.migrate import upgrade

REPO = Path(__file__).resolve().parents[2]
FLOAT_TOLERANCE = 1e-9
Reports = dict[str, dict[str, dict[str, Any]]]


def months_of(history: History) -> list[Month]:
    """The UTC calendar months the history touches, oldest first."""
    first = datetime.fromtimestamp(history.end - history.days * DAY, UTC)
    month = Month(first.year, first.month)
    last = datetime.fromtimestamp(history.end - 1, UTC)
    months = [month]
    while (month.year, month.month) != (last.year, last.month):
        month = month.next()
        months.append(month)
    return months


def month_reports(url: str, tmp: Path, history: History) -> dict[str, dict[str, Any]]:
    """Report JSON of every month of the history, computed from the backend at `url`."""
    database = f"sqlite:///{tmp / 'sloapi.db'}"
    engine = make_engine(database)
    upgrade(engine)
    settings = Settings(
        slos_dir=REPO / "slos",
        prometheus_url=url,
        database_url=database,
        prometheus_timeout_seconds=60,
        report_timezone="UTC",
    )  # type: ignore[call-arg]
    prom = PromClient.from_settings(settings)
    now = datetime.fromtimestamp(history.end, UTC)
    service = ReportService(
        settings=settings,
        specs=load_dir(settings.slos_dir),
        prom=prom,
        sessions=make_session_factory(engine),
        clock=lambda: now,
    )
    try:
        return {month.key: service.compute(month).model_dump(mode="json") for month in months_of(history)}
    finally:
        prom.close()
        engine.dispose()


@pytest.fixture(scope="module")
def reports(
    tmp_path_factory: pytest.TempPathFactory, prom_url: str, vm_url: str, history: History
) -> dict[str, Reports]:
    """Month reports from Prometheus and from VictoriaMetrics."""
    return {
        "prometheus": month_reports(prom_url, tmp_path_factory.mktemp("report-prom"), history),
        "victoriametrics": month_reports(vm_url, tmp_path_factory.mktemp("report-vm"), history),
    }


def gap_steps(history: History, start: datetime, end: datetime) -> tuple[int, int]:
    """(scrape gaps whose first step lies in [start, end), one-minute steps there up to the
    history's end)."""
    stop = min(end.timestamp(), history.end)
    gaps = int(start.timestamp() <= history.gap[0] < stop)
    return gaps, max(1, round((stop - start.timestamp()) / 60))


def coverage_tolerance(history: History, month: Month, path: str, item: dict[str, Any]) -> float:
    """Absolute coverage tolerance of the month (or of the day `item`, in `daily`): one step per
    scrape gap starting in it."""
    if ".daily[" in path or ".worst_day" in path:
        day = datetime.combine(date.fromisoformat(item["date"]), datetime.min.time(), UTC)
        gaps, steps = gap_steps(history, day, day + timedelta(days=1))
    else:
        gaps, steps = gap_steps(history, month.start, month.end)
    return gaps / steps


def differences(a: Any, b: Any, path: str, coverage: Any) -> list[str]:
    """Paths where the report JSONs `a` and `b` differ beyond the tolerances (module docstring).

    `coverage(path, parent)` is the absolute tolerance of a `coverage_ratio` under `path`.
    """
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a)} != {sorted(b)}"]
        found = []
        for key in a:
            if key == "coverage_ratio":
                limit = coverage(path, a)
                if abs(a[key] - b[key]) > limit + 1e-12:
                    found.append(f"{path}.{key}: {a[key]!r} != {b[key]!r} (tolerance {limit:.3g})")
                continue
            found += differences(a[key], b[key], f"{path}.{key}", coverage)
        return found
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, f"{path}[{i}]", coverage)
        ]
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        if math.isclose(a, b, rel_tol=FLOAT_TOLERANCE, abs_tol=1e-12):
            return []
    elif a == b:
        return []
    return [f"{path}: {a!r} != {b!r}"]


def by_id(report: dict[str, Any], slo: str) -> dict[str, Any]:
    """The SLO `slo` of a month report."""
    return next(item for item in report["slos"] if item["id"] == slo)


def test_the_months_hold_every_verdict_and_incidents(reports: dict[str, Reports], history: History) -> None:
    """The compared months are not trivial: something to compare in every kind of figure."""
    for backend, months in reports.items():
        assert list(months) == [m.key for m in months_of(history)], backend
        slos = [slo for report in months.values() for slo in report["slos"]]
        verdicts = {slo["verdict"] for slo in slos}
        assert {"no_data", "no_traffic"} <= verdicts and verdicts & {"met", "missed"}, (backend, verdicts)
        incidents = {
            name: [i for slo in slos if slo["id"] == name for i in slo["incidents"]]
            for name in ("web-availability", "pgbouncer-availability")
        }
        # web: 30-min outage 33 days ago, 2-hour 5 % burst 10 days ago, 20-min outage 2 days ago;
        # PgBouncer: down 15 minutes 7 days ago and 3 minutes half an hour ago
        assert len(incidents["web-availability"]) >= 3, (backend, incidents)
        assert len(incidents["pgbouncer-availability"]) >= 2, (backend, incidents)
        labels = [slo["budget_spent"]["labels"] for slo in slos if slo["id"] == "web-availability"]
        assert any(rows and rows[0]["error_events"] > 0 for rows in labels), (backend, labels)


def test_month_report_figures_agree(reports: dict[str, Reports], history: History) -> None:
    found = {}
    for month in months_of(history):
        prom, vm = reports["prometheus"][month.key], reports["victoriametrics"][month.key]

        def coverage(path: str, item: dict[str, Any], month: Month = month) -> float:
            return coverage_tolerance(history, month, path, item)

        found[month.key] = differences(prom, vm, month.key, coverage)
    assert found == {key: [] for key in found}


def test_the_report_differences_are_the_documented_ones(
    reports: dict[str, Reports], history: History
) -> None:
    """One step of difference, at the scrape gap, on event SLIs only; the incidents as known."""
    gap = datetime.fromtimestamp(history.gap[0], UTC)
    month = Month(gap.year, gap.month)
    steps = gap_steps(history, month.start, month.end)[1]
    web, pgb = (
        {backend: by_id(reports[backend][month.key], slo) for backend in reports}
        for slo in ("web-availability", "pgbouncer-availability")
    )
    assert (
        round((web["victoriametrics"]["coverage_ratio"] - web["prometheus"]["coverage_ratio"]) * steps) == 1
    )
    assert pgb["victoriametrics"]["coverage_ratio"] == pgb["prometheus"]["coverage_ratio"]
    before = max(0, round((history.end - history.days * DAY - month.start.timestamp()) / 60))
    if before == 0:  # the month starts inside the history: its only missing steps are the gap's
        assert round((1 - web["prometheus"]["coverage_ratio"]) * steps) == 30
        assert round((1 - pgb["prometheus"]["coverage_ratio"]) * steps) == 29
    outage = datetime.fromtimestamp(history.end - 2 * DAY, UTC)
    web_now = by_id(reports["prometheus"][Month(outage.year, outage.month).key], "web-availability")
    assert any(inc["start"] == outage.isoformat().replace("+00:00", "Z") for inc in web_now["incidents"]), (
        web_now["incidents"]
    )
