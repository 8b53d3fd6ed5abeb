"""An SLO's burn rates over every burn window from raw data, in one instant query (the
queries of every window joined, `prometheus.tagged`)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from sloapi.engine.burn import BURN_WINDOWS, burn_rate
from sloapi.engine.figures import event_error_ratio, safe_float
from sloapi.prometheus.batch import QueryBatch, Waiting
from sloapi.prometheus.decode import Sample
from sloapi.prometheus.fetch import selector_window
from sloapi.prometheus.tagged import joined_query, split_answer
from sloapi.specs.model import RawSLI, SLOSpec


def burn_parts(spec: SLOSpec) -> dict[str, str]:
    """`{"<kind> <window>": query}` of every burn window (kind: error and total, or ratio)."""
    parts = {}
    for name, seconds in BURN_WINDOWS.items():
        for kind, query in spec.queries(selector_window(spec, seconds)).items():
            parts[f"{kind} {name}"] = query
    return parts


def _finite(samples: Iterable[Sample]) -> list[float]:
    return [s.value for s in samples if math.isfinite(s.value)]


class PendingBurnRates:
    """The burn-rate query of one SLO; `.result()` reads the rates from its answer."""

    def __init__(self, batch: QueryBatch, spec: SLOSpec, at: datetime) -> None:
        self._spec = spec
        self._answer: Waiting[list[Sample]] = batch.instant(joined_query(burn_parts(spec)), at)

    def result(self) -> dict[str, float | None]:
        """Burn rate per window (None: no traffic or no data).

        Raw SLIs: the mean of the ratio's series. Event SLIs: the errors of every series over
        the total of every series (no error series: no error).
        """
        by_part = split_answer(self._answer.result())
        rates: dict[str, float | None] = {}
        for name in BURN_WINDOWS:
            ratio = self._ratio(
                _finite(by_part.get(f"ratio {name}", ())),
                _finite(by_part.get(f"error {name}", ())),
                _finite(by_part.get(f"total {name}", ())),
            )
            rates[name] = safe_float(burn_rate(ratio, self._spec.objective))
        return rates

    def _ratio(self, ratio: list[float], errors: list[float], total: list[float]) -> float | None:
        if isinstance(self._spec.sli, RawSLI):
            return sum(ratio) / len(ratio) if ratio else None
        return event_error_ratio(sum(errors), sum(total)) if total else None
