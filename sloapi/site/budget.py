"""The SLO page's budget panels: where the budget went, the policy state, the exclusion windows.

Each figure comes from the function its JSON route calls: ``ServiceContext.explain``
(``GET /api/v1/slos/{id}/budget/explain``), ``policy_json`` over the page's own status
(``GET /api/v1/slos/{id}/policy``) and ``ServiceContext.exclusions``
(``GET /api/v1/exclusions?slo_id=``). This module only shapes them for display.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sloapi.deadline import Deadline
from sloapi.engine.exclusions import Exclusion
from sloapi.errors import SloapiError
from sloapi.reports.render import PERIOD_WORDS
from sloapi.service import ServiceContext
from sloapi.specs import SLOSpec
from sloapi.status.policy import policy_json


@dataclass(frozen=True)
class ShareRow:
    """One row of "where the budget went".

    Attributes:
        name: The incident's span, ``outside incidents``, or the label values.
        consumed_ratio: Share of the window's budget the row consumed.
        share: Share of the consumed budget (the bar's length).
        detail: Peak burn rate or error events, already formatted (may be empty).
    """

    name: str
    consumed_ratio: float
    share: float
    detail: str = ""

    @property
    def width(self) -> str:
        """CSS width of the row's bar: its share clamped to 0-100 %."""
        share = self.share if math.isfinite(self.share) else 0.0
        return f"{max(0.0, min(1.0, share)) * 100:.1f}%"


@dataclass(frozen=True)
class Explained:
    """The explain answer as rows, or why there is none.

    Attributes:
        body: The JSON of ``GET /api/v1/slos/{id}/budget/explain`` (None when it failed).
        periods: Incidents and the time outside them.
        labels: The error query's label values (empty for raw SLIs).
        note: Why the attribution is missing (None when it is shown).
    """

    body: Mapping[str, Any] | None
    periods: list[ShareRow]
    labels: list[ShareRow]
    note: str | None = None

    @property
    def split_by_labels(self) -> bool:
        """Whether the error events split over named label values (not only "all other values")."""
        return bool(self.body and any(not row["other"] for row in self.body.get("labels") or []))


def _span(start: str, end: str) -> str:
    first, last = datetime.fromisoformat(start), datetime.fromisoformat(end)
    ending = last.strftime("%H:%M") if first.date() == last.date() else last.strftime("%Y-%m-%d %H:%M")
    return f"{first.strftime('%Y-%m-%d %H:%M')} \u2013 {ending} {first.strftime('%Z')}".rstrip()


def period_rows(body: Mapping[str, Any]) -> list[ShareRow]:
    """The periods' rows in the answer's order (incidents by start, then the rest)."""
    rows = []
    for row in body["periods"]:
        if row["kind"] == "incident":
            peak = row.get("peak_burn_rate")
            detail = f"peak {peak:.1f}\u00d7" if peak is not None and math.isfinite(peak) else ""
            rows.append(
                ShareRow(_span(row["start"], row["end"]), row["consumed_ratio"], row["share"], detail)
            )
        else:
            name = PERIOD_WORDS.get(row["kind"], row["kind"].replace("_", " "))
            rows.append(ShareRow(name, row["consumed_ratio"], row["share"]))
    return rows


def label_rows(body: Mapping[str, Any]) -> list[ShareRow]:
    """The label values' rows in the answer's order (largest first, the rest last)."""
    rows = []
    for row in body.get("labels") or []:
        name = "all other values" if row["other"] else ", ".join(f"{k}={v}" for k, v in row["labels"].items())
        events = row.get("error_events")
        detail = f"{events:,.0f} errors" if events is not None and math.isfinite(events) else ""
        rows.append(ShareRow(name or "(no label)", row["consumed_ratio"], row["share"], detail))
    return rows


def explained(body: Mapping[str, Any]) -> Explained:
    """The explain answer as the page's rows."""
    return Explained(body, period_rows(body), label_rows(body))


def explain_or_note(ctx: ServiceContext, slo_id: str, at: datetime, deadline: Deadline) -> Explained:
    """Where the budget went (over the SLO's own window, by `deadline`); a note when Prometheus
    refuses or cannot answer in time, so the rest of the page still shows."""
    try:
        return explained(ctx.explain(slo_id, None, at, deadline))
    except SloapiError as exc:
        return Explained(None, [], [], f"Where the budget went is not available: {exc}")


@dataclass(frozen=True)
class BudgetPanels:
    """What the SLO page shows beside its figures.

    Attributes:
        explain: Where the budget went.
        policy: The JSON of ``GET /api/v1/slos/{id}/policy`` (state, reasons, thresholds).
        exclusions: The SLO's exclusion windows (spec directory and API), by start.
    """

    explain: Explained
    policy: Mapping[str, Any]
    exclusions: list[Exclusion]


def exclusions_of(ctx: ServiceContext, slo_id: str) -> list[Exclusion]:
    """The SLO's exclusion windows in the order the API lists them."""
    return sorted(ctx.exclusions(slo_id), key=lambda item: (item.start, item.end, item.source))


def budget_panels(
    ctx: ServiceContext, spec: SLOSpec, status: dict[str, Any], at: datetime, deadline: Deadline
) -> BudgetPanels:
    """The page's budget panels at `at`; the policy judges the page's own `status`."""
    return BudgetPanels(
        explain=explain_or_note(ctx, spec.id, at, deadline),
        policy=policy_json(spec, status),
        exclusions=exclusions_of(ctx, spec.id),
    )


def policy_states(ctx: ServiceContext, statuses: list[dict[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The overview's policy column: ``policy_json`` of each SLO over the status its row shows
    (none for an SLO a reload removed meanwhile)."""
    specs = ctx.specs
    return {s["id"]: policy_json(specs[s["id"]], s) for s in statuses if s["id"] in specs}
