"""The SLO maths: exact cases and properties (hypothesis)."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sloapi.engine import (
    Objective,
    burn_down,
    burn_rate,
    event_figures,
    projected_sli,
    ratio_figures,
    time_to_exhaustion,
    trailing_burn_rates,
)

O999 = Objective.from_percent(99.9)
IDX = pd.date_range("2026-10-01", periods=60, freq="1min", tz="UTC")


def series(values: list[float]) -> pd.Series:
    return pd.Series(values, index=IDX[: len(values)], dtype=float)


@pytest.mark.parametrize(
    ("percent", "budget"),
    [(99.9, "0.001"), ("99.95", "0.0005"), (99.0, "0.01"), (90, "0.1"), (99.99, "0.0001")],
)
def test_objectives_are_exact(percent: float | str, budget: str) -> None:
    objective = Objective.from_percent(percent)
    assert objective.budget_decimal == Decimal(budget)
    assert objective.budget == float(budget)
    assert Objective.from_ratio(objective.ratio).budget == float(budget)


@pytest.mark.parametrize("bad", [0, 100, -1, 101, "abc", float("nan"), True])
def test_objective_outside_range_is_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        Objective.from_percent(bad)  # type: ignore[arg-type]


def test_event_figures_traffic_weighted_not_average_of_ratios() -> None:
    # 1000 requests with 500 errors, then 10 requests without: 500 / 1010, not (0.5 + 0) / 2
    fig = event_figures(series([500, 0]), series([1000, 10]), O999, step_seconds=60, window_seconds=120)
    assert fig.error_ratio == pytest.approx(500 / 1010, rel=1e-15)
    assert fig.total_events == 1010
    assert fig.budget_events == pytest.approx(1.01)
    assert fig.remaining_events == pytest.approx(1.01 - 500)
    assert fig.status == "ok"


def test_missing_steps_lower_coverage_and_policy_bad_counts_them() -> None:
    total = series([100.0, np.nan, 100.0, 100.0])
    errors = series([1.0, np.nan, 0.0, 0.0])
    ignore = event_figures(errors, total, O999, step_seconds=60, window_seconds=240)
    assert ignore.coverage_ratio == 0.75
    assert ignore.status == "partial"
    assert ignore.missing_steps == 1
    assert ignore.error_ratio == pytest.approx(1 / 300)
    bad = event_figures(errors, total, O999, step_seconds=60, window_seconds=240, missing="bad")
    assert bad.error_ratio == pytest.approx(101 / 400)
    # absent steps at the window's start count as missing too
    short = event_figures(errors, total, O999, step_seconds=60, window_seconds=480)
    assert short.coverage_ratio == 3 / 8


def test_no_data_and_no_traffic_are_distinct() -> None:
    empty = event_figures(
        series([np.nan] * 3), series([np.nan] * 3), O999, step_seconds=60, window_seconds=180
    )
    assert (empty.status, empty.no_traffic, empty.sli, empty.remaining_ratio) == (
        "no_data", False, None, 1.0,
    )  # fmt: skip
    quiet = event_figures(series([0.0] * 3), series([0.0] * 3), O999, step_seconds=60, window_seconds=180)
    assert (quiet.status, quiet.no_traffic, quiet.sli, quiet.consumed_ratio) == (
        "ok", True, None, 0.0,
    )  # fmt: skip


def test_ratio_figures_time_weighted() -> None:
    fig = ratio_figures(series([1.0, 0.0, 0.0, np.nan]), O999, step_seconds=60, window_seconds=240)
    assert fig.error_ratio == pytest.approx(1 / 3)
    assert fig.consumed_seconds == pytest.approx(1 / 3 * 240)
    assert fig.coverage_ratio == 0.75
    worst = ratio_figures(
        series([1.0, 0.0, 0.0, np.nan]), O999, step_seconds=60, window_seconds=240, missing="bad"
    )
    assert worst.error_ratio == pytest.approx(2 / 4)


def test_inf_and_negative_inputs_never_escape() -> None:
    fig = event_figures(
        series([np.inf, -5.0]), series([10.0, np.inf]), O999, step_seconds=60, window_seconds=120
    )
    assert all(
        v is None or math.isfinite(v)
        for v in (fig.sli, fig.consumed_ratio, fig.remaining_ratio, fig.coverage_ratio)
    )


def test_burn_rate_and_exhaustion() -> None:
    assert burn_rate(0.0144, O999) == pytest.approx(14.4)
    assert burn_rate(None, O999) is None
    # a full budget at burn 1 lasts the window; half of it at burn 2 lasts a quarter
    assert time_to_exhaustion(1.0, 1.0, 2592000) == 2592000
    assert time_to_exhaustion(0.5, 2.0, 2592000) == 648000
    assert time_to_exhaustion(0.5, 0.0, 2592000) is None
    assert time_to_exhaustion(-0.2, 3.0, 2592000) == 0.0


def test_trailing_burn_rates_use_the_last_steps() -> None:
    total = series([100.0] * 60)
    errors = series([0.0] * 55 + [1.0] * 5)
    rates = trailing_burn_rates(errors, total, O999, 60)
    assert rates["5m"] == pytest.approx(10.0)
    assert rates["30m"] == pytest.approx(5 / 3000 / 0.001)
    assert rates["1h"] == pytest.approx(5 / 6000 / 0.001)


def test_projection_and_burn_down() -> None:
    assert projected_sli(0.0, 15, 30, 0.002) == pytest.approx(0.999)
    assert projected_sli(None, 15, 30, None) is None
    frame = burn_down(
        O999, errors=series([0, 1, 0, 1]), total=series([1000.0] * 4), step_seconds=60,
        window_seconds=240,
    )  # fmt: skip
    assert frame["remaining_ratio"].tolist() == pytest.approx([1.0, 0.75, 0.75, 0.5])
    assert frame["ideal_ratio"].tolist() == pytest.approx([0.75, 0.5, 0.25, 0.0])


counts = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), min_size=1, max_size=40)
objectives = st.sampled_from(["90", "99", "99.5", "99.9", "99.95", "99.99"])


def _split(pairs: list[tuple[int, int]]) -> tuple[pd.Series, pd.Series]:
    total = [float(max(a, b)) for a, b in pairs]
    errors = [float(min(a, b)) for a, b in pairs]
    return series(errors), series(total)


@settings(max_examples=100, deadline=None)
@given(counts, objectives)
def test_consumed_plus_remaining_is_one(pairs: list[tuple[int, int]], percent: str) -> None:
    errors, total = _split(pairs)
    fig = event_figures(
        errors, total, Objective.from_percent(percent), step_seconds=60,
        window_seconds=60 * len(pairs),
    )  # fmt: skip
    assert fig.consumed_ratio + fig.remaining_ratio == pytest.approx(1.0)
    assert fig.consumed_seconds + fig.remaining_seconds == pytest.approx(fig.allowed_seconds)
    assert fig.sli is None or 0.0 <= fig.sli <= 1.0


@settings(max_examples=100, deadline=None)
@given(counts, st.integers(0, 39), st.integers(1, 1000))
def test_more_errors_consume_more(pairs: list[tuple[int, int]], where: int, extra: int) -> None:
    errors, total = _split(pairs)
    i = where % len(pairs)
    before = event_figures(errors, total, O999, step_seconds=60, window_seconds=60 * len(pairs))
    room = total.iloc[i] - errors.iloc[i]
    more = errors.copy()
    more.iloc[i] += min(extra, room)
    after = event_figures(more, total, O999, step_seconds=60, window_seconds=60 * len(pairs))
    assert after.consumed_ratio >= before.consumed_ratio
    assert after.remaining_ratio <= before.remaining_ratio


@settings(max_examples=100, deadline=None)
@given(counts, st.integers(1, 20))
def test_zero_traffic_steps_are_neutral(pairs: list[tuple[int, int]], quiet: int) -> None:
    errors, total = _split(pairs)
    n = len(pairs)
    base = event_figures(errors, total, O999, step_seconds=60, window_seconds=60 * (n + quiet))
    idx = pd.date_range(IDX[0], periods=n + quiet, freq="1min", tz="UTC")
    padded_total = pd.Series([*total.tolist(), *[0.0] * quiet], index=idx)
    padded_errors = pd.Series([*errors.tolist(), *[0.0] * quiet], index=idx)
    padded = event_figures(
        padded_errors, padded_total, O999, step_seconds=60, window_seconds=60 * (n + quiet)
    )
    assert padded.error_ratio == base.error_ratio
    assert padded.consumed_ratio == base.consumed_ratio
    assert padded.coverage_ratio == 1.0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=50))
def test_ratio_sli_stays_in_bounds(values: list[float]) -> None:
    fig = ratio_figures(series(values), O999, step_seconds=60, window_seconds=60 * len(values))
    assert fig.sli is not None and 0.0 <= fig.sli <= 1.0
    assert fig.consumed_ratio + fig.remaining_ratio == pytest.approx(1.0)
