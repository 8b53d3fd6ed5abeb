"""Error events of an event SLO per label set, per step on the grid (for budget attribution).

The error query is re-aggregated by the breakdown labels: an outer `sum(...)` (or
`sum by/without (...) (...)`) is replaced by `sum by (<labels>) (...)`; a query without an outer
sum is wrapped in one. An SLI given by good and total events breaks down `total - good`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from sloapi.engine.durations import format_duration
from sloapi.prometheus.batch import QueryBatch
from sloapi.prometheus.fetch import _to_series, grid
from sloapi.specs.model import WINDOW_PLACEHOLDER, EventsSLI, SLOSpec

DEFAULT_BREAKDOWN = (
    "proxy",
    "backend",
    "server",
    "code",
    "status",
    "status_code",
    "route",
    "handler",
    "method",
)
"""Labels broken down by when the spec names none; only those taking several values are shown."""
_OUTER_SUM = re.compile(r"\s*sum\s*(?:(?:by|without)\s*\([^()]*\)\s*)?\((?P<inner>.*)\)\s*", re.DOTALL)


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def regroup(query: str, labels: Sequence[str]) -> str:
    """`query` summed by `labels` instead of its own outer aggregation."""
    by = ", ".join(labels)
    match = _OUTER_SUM.fullmatch(query)
    inner = match.group("inner") if match and _balanced(match.group("inner")) else query
    return f"sum by ({by}) ({inner})"


def breakdown_query(spec: SLOSpec, step: str, labels: Sequence[str]) -> str:
    """The PromQL of `spec`'s error events per second by `labels`, over one `step`."""
    sli = spec.sli
    if not isinstance(sli, EventsSLI):
        raise ValueError("a breakdown needs an event SLI")
    if sli.error_query is not None:
        return regroup(sli.error_query.replace(WINDOW_PLACEHOLDER, step), labels)
    total = regroup(sli.total_query.replace(WINDOW_PLACEHOLDER, step), labels)
    good = regroup((sli.good_query or "").replace(WINDOW_PLACEHOLDER, step), labels)
    return f"({total} - ({good} or {total} * 0))"


def fetch_breakdown(
    batch: QueryBatch, spec: SLOSpec, start: datetime, end: datetime, step_seconds: int
) -> list[tuple[dict[str, str], pd.Series]]:
    """Error events per step of each label set of `spec` on the grid `(start, end]` (indexed by
    step end; NaN: no sample), by the spec's breakdown labels or `DEFAULT_BREAKDOWN`."""
    labels = list(spec.breakdown) or list(DEFAULT_BREAKDOWN)
    index, seconds = grid(start, end, step_seconds)
    if len(index) == 0:
        return []
    query = breakdown_query(spec, format_duration(step_seconds), labels)
    first, last = index[0].to_pydatetime(), index[-1].to_pydatetime()
    groups = []
    for series in batch.range(query, first, last, step_seconds).result():
        values = _to_series([series], index, "sum", seconds) * step_seconds
        groups.append(({k: v for k, v in series.labels.items() if k in labels}, values))
    return groups
