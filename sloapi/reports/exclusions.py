"""Exclusion windows declared after a month's report was kept: what the kept report misses."""

from __future__ import annotations

from collections.abc import Sequence

from sloapi.engine.exclusions import Exclusion
from sloapi.reports.model import ExcludedWindow, MonthReport
from sloapi.reports.month import Month


def exclusions_added(kept: MonthReport, now: Sequence[Exclusion], month: Month) -> list[ExcludedWindow]:
    """The windows overlapping `month` that apply to one of the report's SLOs and that the kept
    report did not leave out (by SLO, start, end and where they were declared)."""
    known = {(slo.id, item.start, item.end, item.source) for slo in kept.slos for item in slo.excluded}
    added: dict[tuple[object, ...], ExcludedWindow] = {}
    for item in now:
        if not (item.end > month.start and item.start < month.end):
            continue
        for slo in kept.slos:
            if item.applies_to(slo.id) and (slo.id, item.start, item.end, item.source) not in known:
                added[(item.start, item.end, item.source, item.slo_id)] = ExcludedWindow(**vars(item))
    return sorted(added.values(), key=lambda window: (window.start, window.source))
