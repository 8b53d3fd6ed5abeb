"""Covered steps of an event SLI over the tiles of its window, counted coarse to fine.

A step is covered when the SLI's total query has a value there. Counting that step by step
(`count_over_time((sum(total))[tile:step])`) makes the backend evaluate every step: 43,200
over 30 days at one minute, more than the window's totals cost. When the total query is
`rate` or `increase` over one selector (`selectors.counted_selector`), a step is covered
exactly when a series of that selector has two samples in it, and samples are cheap to count.
The window is cut into units (a divisor of an hour that divides the tiles: 20 minutes at the
default limits) and each unit's samples are counted with the step before it
(`count_over_time(S[unit + step])`, range queries no longer than a tile). Samples come at a
fixed interval (a scrape or rule interval): when a unit holds the usual count (the most
frequent one) and that count means an interval dividing the step and at most half of it, the
unit misses no sample and every step in it holds two, so all its steps are covered.

Counts are read first for one series, the one with the most samples in the last unit; where it
is not regular (it started, stopped or paused), the most samples any series has there, when that
is the picked series' usual count and no series has more (so a series scraped at another
interval cannot pass for a regular one). Units still irregular (a scrape gap, a stopped target,
another interval) and the part of the window shorter than a unit are counted step by step, as
before: the figure is the same either way, and only irregular data pays for the step-by-step
count, only where it is irregular. A total query of another shape (or a step that does not
divide the hour) is counted step by step over each tile, as before.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np

from sloapi.engine.durations import format_duration
from sloapi.prometheus.batch import PendingRange, QueryBatch, Waiting
from sloapi.prometheus.decode import Sample
from sloapi.prometheus.selectors import counted_selector, series_selector
from sloapi.specs.model import SLOSpec

HOUR = 3600
#: The shortest unit counted at once, in steps.
MIN_UNIT_STEPS = 10
#: Runs of irregular hours counted one by one; more are counted in one step-by-step query.
MAX_RUNS = 8


def step_subquery(spec: SLOSpec, kind: str, over: str, seconds: int, step_seconds: int) -> str:
    """`over(...)` of the per-step `kind` query of `spec` on the step grid of the half-open range
    `(t - seconds, t]` (ms minus one, as `fetch.selector_window`), evaluated by the backend.

    `sum(...)` makes each step one point: the steps of every series added up, as `fetch_steps`
    adds them, or absent when no series has a sample.
    """
    step = format_duration(step_seconds)
    query = spec.queries(step)[kind]
    return f"{over}((sum({query}))[{seconds * 1000 - 1}ms:{step}])"


def unit_count_query(selector: str, unit_seconds: int, step_seconds: int, over: str = "max") -> str:
    """The most samples one series of `selector` has in a unit and the step before it (`topk`:
    that series, with its labels)."""
    window = f"{(unit_seconds + step_seconds) * 1000 - 1}ms"
    grouped = "topk(1, " if over == "topk" else f"{over}("
    return f"{grouped}count_over_time({selector}[{window}]))"


def finite_sum(samples: list[Sample]) -> float:
    """The sum of the finite values of an instant answer (0 when none)."""
    return math.fsum(s.value for s in samples if math.isfinite(s.value))


def regular_units(counts: np.ndarray, unit_seconds: int, step_seconds: int) -> np.ndarray:
    """Which units have every step covered, from their sample counts (NaN: no sample).

    Each count covers the unit and the step before it. The usual count (the most frequent, the
    larger on a tie) must mean a fixed interval that divides the step and is at most half of
    it: then a unit with that count misses no sample and every step of it holds at least two.
    """
    usual = usual_count(counts, unit_seconds, step_seconds)
    return counts == usual if usual is not None else np.zeros(len(counts), dtype=bool)


def usual_count(counts: np.ndarray, unit_seconds: int, step_seconds: int) -> int | None:
    """The most frequent count (the larger on a tie) when it means a fixed interval that
    divides the step and is at most half of it; otherwise None (see `regular_units`)."""
    finite = counts[np.isfinite(counts)]
    if not len(finite):
        return None
    values, freq = np.unique(finite, return_counts=True)
    usual = int(values[freq == freq.max()].max())
    span = unit_seconds + step_seconds
    if usual < 2 or span % usual or step_seconds % (span // usual) or usual * step_seconds < 2 * span:
        return None
    return usual


def irregular_runs(regular: np.ndarray) -> list[tuple[int, int]]:
    """(index of the first, count) of each run of consecutive False values."""
    runs: list[tuple[int, int]] = []
    for index in np.flatnonzero(~regular).tolist():
        if runs and runs[-1][0] + runs[-1][1] == index:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((index, 1))
    return runs


class PendingCoverage:
    """The covered steps of each tile of a window ending at `at`.

    Args:
        batch: runs the queries.
        spec: the SLO (its total query decides coverage).
        step_seconds: the step.
        at: the window's end.
        tiles: `(offset of the tile's end before at, seconds)`, newest first, contiguous, each a
            multiple of the step; every one but the oldest `limit_seconds` long.
        limit_seconds: the tiles' length.
    """

    def __init__(
        self,
        batch: QueryBatch,
        spec: SLOSpec,
        step_seconds: int,
        at: datetime,
        tiles: list[tuple[int, int]],
        limit_seconds: int,
    ) -> None:
        self._batch, self._spec, self._step, self._at = batch, spec, step_seconds, at
        self._tiles = tiles
        span = sum(seconds for _offset, seconds in tiles)
        self.unit = math.gcd(limit_seconds, HOUR) if HOUR % step_seconds == 0 else 0
        # units per range request: its points' span and the step its first window reads before
        # them stay within what one request may cover
        self._group = (limit_seconds - step_seconds) // self.unit if self.unit else 0
        selector = None
        if self.unit >= MIN_UNIT_STEPS * step_seconds and self._group >= 1:
            selector = counted_selector(spec.queries(format_duration(step_seconds))["total"], step_seconds)
        self._units = span // self.unit if selector is not None else 0
        self._selector = selector
        rest = span - self._units * self.unit
        # without units, each tile's own step-by-step count, as its totals need it; with them,
        # the rest is shorter than a unit and lies in the oldest tile (the unit divides the tiles)
        self._per_tile = (
            [self._counted(at - timedelta(seconds=offset), seconds) for offset, seconds in tiles]
            if selector is None
            else None
        )
        self._rest = self._counted(at - timedelta(seconds=span - rest), rest) if rest and selector else None
        # the series with the most samples in the last unit, whose counts are read first
        self._pick = (
            batch.instant(unit_count_query(selector, self.unit, step_seconds, "topk"), at)
            if selector is not None and self._units
            else None
        )

    def _submit_counts(self, selector: str, runs: list[tuple[int, int]]) -> list[PendingRange]:
        """The range queries of the counts of the units of `runs` (`(newest, units)`)."""
        query = unit_count_query(selector, self.unit, self._step)
        pending = []
        for first, length in runs:
            for newest in range(first, first + length, self._group):
                oldest = min(first + length, newest + self._group) - 1
                end = self._at - timedelta(seconds=newest * self.unit)
                start = self._at - timedelta(seconds=oldest * self.unit)
                pending.append(self._batch.range(query, start, end, self.unit))
        return pending

    def _counted(self, end: datetime, seconds: int) -> Waiting[list[Sample]]:
        """The step-by-step count of the covered steps of `(end - seconds, end]`."""
        query = step_subquery(self._spec, "total", "count_over_time", seconds, self._step)
        return self._batch.instant(query, end)

    def result(self) -> list[int]:
        """The covered steps of each tile, newest first: regular units count whole, the others
        (and the part older than the last whole unit) step by step."""
        if self._per_tile is not None:
            return [int(finite_sum(each.result())) for each in self._per_tile]
        regular = self._regular()
        whole, pending = [], []
        for offset, seconds in self._tiles:
            first = min(self._units, offset // self.unit) if self.unit else 0
            last = min(self._units, (offset + seconds) // self.unit) if self.unit else 0
            whole.append(int(regular[first:last].sum()) * (self.unit // self._step))
            pending.append(self._refine(regular, first, last))
        present = [
            n + sum(int(finite_sum(a.result())) for a in answers)
            for n, answers in zip(whole, pending, strict=True)
        ]
        if self._rest is not None:
            present[-1] += int(finite_sum(self._rest.result()))
        return present

    def _refine(self, regular: np.ndarray, first: int, last: int) -> list[Waiting[list[Sample]]]:
        """The step-by-step counts of the irregular units `first` (newest) to `last` (excluded)."""
        runs = irregular_runs(regular[first:last])
        if len(runs) > MAX_RUNS:
            runs = [(0, last - first)]
        return [
            self._counted(self._at - timedelta(seconds=(first + newest) * self.unit), length * self.unit)
            for newest, length in runs
        ]

    def _regular(self) -> np.ndarray:
        """Which units are regular: by the counts of the picked series first, then, where it is
        not regular (it started, stopped or paused), by the most samples any series has, which
        must be the picked series' usual count (a series scraped at another interval could
        reach that count in a unit it only partly covers), and only while no series there has
        more (a denser series makes the count no proof)."""
        none = np.zeros(self._units, dtype=bool)
        if self._pick is None or self._selector is None:
            return none
        picked = self._pick.result()
        one = series_selector(self._selector, picked[0].labels) if picked else None
        if one is None:
            return none
        counts = self._unit_counts(one, [(0, self._units)])
        usual = usual_count(counts, self.unit, self._step)
        if usual is None:
            return none
        regular = counts == usual
        runs = irregular_runs(regular)
        if len(runs) > MAX_RUNS:
            runs = [(runs[0][0], runs[-1][0] + runs[-1][1] - runs[0][0])]
        if runs:
            most = self._unit_counts(self._selector, runs)
            if not (most[np.isfinite(most)] > usual).any():
                regular |= most == usual
        return regular

    def _unit_counts(self, selector: str, runs: list[tuple[int, int]]) -> np.ndarray:
        """The counts of the units of `runs`, newest first (NaN: not asked or no sample)."""
        counts = np.full(self._units, np.nan)
        at = self._at.timestamp()
        for pending in self._submit_counts(selector, runs):
            for item in pending.result():
                offsets = (at - item.times) / self.unit
                index = np.rint(offsets).astype(np.int64)
                # a point off the units' ends (a backend moving the grid) counts for none
                inside = (index >= 0) & (index < self._units) & (np.abs(offsets - index) < 1e-6)
                counts[index[inside]] = item.values[inside]
        return counts
