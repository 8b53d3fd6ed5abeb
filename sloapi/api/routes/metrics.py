"""`/metrics`: SLO figures per SLO plus the service's own request metrics.

Figures are recomputed at most every `SLOAPI_METRICS_CACHE_SECONDS` (default 30).

Metrics (gauges, labels `slo_id`, `service`, `slo`, `window`):
`sloapi_slo_objective_ratio`, `sloapi_slo_sli_ratio`, `sloapi_slo_error_budget_remaining_ratio`,
`sloapi_slo_error_budget_remaining_seconds`, `sloapi_slo_burn_rate` (+ `burn_window`),
`sloapi_slo_time_to_exhaustion_seconds` (+Inf when not burning), `sloapi_slo_data_coverage_ratio`; and
`sloapi_prometheus_up` (1 when Prometheus answered a trivial query at this scrape, within 5 s, and the
figures could be computed), `sloapi_slos` (SLOs loaded), `sloapi_report_deliveries{status}` (report
copies per delivery status: `sending`, `sent`, `failed`, `unconfirmed`; absent while the database is
unreachable).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from sloapi.api.deps import CtxDep
from sloapi.api.telemetry import RequestMetrics
from sloapi.deadline import Deadline
from sloapi.errors import SloapiError
from sloapi.service import ServiceContext
from sloapi.storage.outage import outage_reason

router = APIRouter(tags=["metrics"])
log = logging.getLogger("sloapi")
READY_SECONDS = 5.0  # longest wait of the scrape's own check of Prometheus
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LABELS = ["slo_id", "service", "slo", "window"]


def _gauge(name: str, help_text: str, extra: Iterable[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, labels=[*LABELS, *extra])


class SLOFiguresCollector(Collector):
    """Yields the figures of already computed statuses; never raises."""

    def __init__(self, statuses: list[dict[str, Any]], up: bool, loaded: int) -> None:
        self.statuses = statuses
        self.up = up
        self.loaded = loaded

    def collect(self) -> Iterator[Metric]:
        """The SLO families."""
        fams = {
            "objective": _gauge("sloapi_slo_objective_ratio", "Objective of the SLO as a ratio."),
            "sli": _gauge("sloapi_slo_sli_ratio", "SLI achieved over the window."),
            "remaining": _gauge("sloapi_slo_error_budget_remaining_ratio", "Share of the error budget left."),
            "remaining_s": _gauge(
                "sloapi_slo_error_budget_remaining_seconds",
                "Error budget left, in seconds of full outage.",
            ),
            "burn": _gauge("sloapi_slo_burn_rate", "Burn rate over burn_window.", ["burn_window"]),
            "tte": _gauge(
                "sloapi_slo_time_to_exhaustion_seconds",
                "Seconds until the budget is gone at the 1h burn rate (+Inf when it is not burning).",
            ),
            "coverage": _gauge("sloapi_slo_data_coverage_ratio", "Share of the window with samples."),
        }
        for st in self.statuses:
            labels = [st["id"], st["service"], st["name"], st["window"]]
            budget = st["error_budget"]
            pairs = [
                ("objective", st["objective"]),
                ("sli", st["sli"]),
                ("remaining", budget["remaining_ratio"]),
                ("remaining_s", budget["remaining_seconds"]),
                ("tte", _time_to_exhaustion(st)),
                ("coverage", st["data"]["coverage_ratio"]),
            ]
            for key, value in pairs:
                if value is not None:
                    fams[key].add_metric(labels, float(value))
            for window, rate in st["burn_rates"].items():
                if rate is not None:
                    fams["burn"].add_metric([*labels, window], float(rate))
        yield from fams.values()
        up = GaugeMetricFamily(
            "sloapi_prometheus_up",
            "1 when Prometheus answered at this scrape and the SLO figures could be computed "
            "(figures are reused for up to SLOAPI_METRICS_CACHE_SECONDS).",
        )
        up.add_metric([], 1.0 if self.up else 0.0)
        yield up
        loaded = GaugeMetricFamily("sloapi_slos", "SLOs loaded from the spec directory.")
        loaded.add_metric([], float(self.loaded))
        yield loaded


def _deliveries(ctx: ServiceContext) -> bytes:
    """`sloapi_report_deliveries` by status, or nothing when the store cannot be read."""
    try:
        counts = ctx.reports().delivery_counts()
    except SQLAlchemyError as exc:
        log.warning("metrics: report deliveries: %s", outage_reason(exc))
        return b""
    family = GaugeMetricFamily(
        "sloapi_report_deliveries",
        "Report copies per delivery status (unconfirmed: sent without the server's final reply).",
        labels=["status"],
    )
    for status, count in counts.items():
        family.add_metric([status], float(count))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families([family]))
    return generate_latest(registry)


class _Families(Collector):
    """Yields families built beforehand."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        """The families."""
        yield from self.families


def _time_to_exhaustion(status: dict[str, Any]) -> float | None:
    """The status's time to exhaustion; +Inf when the budget is known but not burning (JSON says null)."""
    tte = status["time_to_exhaustion_seconds"]
    if tte is None and status["error_budget"]["remaining_ratio"] is not None:
        return math.inf
    return None if tte is None else float(tte)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}},
                     "description": "Prometheus text exposition"}},
)  # fmt: skip
async def metrics(ctx: CtxDep, request: Request) -> Response:
    """Prometheus text exposition. Status: 200 (figures absent and `sloapi_prometheus_up 0` when
    Prometheus is unreachable)."""
    try:
        statuses = await run_in_threadpool(ctx.recent_statuses, ctx.settings.metrics_cache_seconds)
        # figures may come from the cache: ask Prometheus now so `up` does not lag an outage
        up = await run_in_threadpool(
            ctx.prom.ready, Deadline.after(min(READY_SECONDS, ctx.deadline().seconds))
        )
    except SloapiError as exc:
        log.warning("metrics: %s", exc)
        statuses, up = [], False
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SLOFiguresCollector(statuses, up, len(ctx.specs)))
    body = generate_latest(registry) + await run_in_threadpool(_deliveries, ctx)
    telemetry: RequestMetrics | None = getattr(request.app.state, "telemetry", None)
    if telemetry is not None:
        body += generate_latest(telemetry.registry)
    return Response(content=body, media_type=CONTENT_TYPE)
