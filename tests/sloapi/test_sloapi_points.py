"""`parse_points` gives, number for number, the floats `float()` reads from Prometheus's text,
signs of zeros and NaN included, on the fast paths and off them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sloapi.prometheus.points import parse_points


def _go_text(value: float) -> str:
    """A value as Prometheus writes it (`'f'` format, `'e'` under 1e-6 and from 1e21)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value != 0 and not 1e-6 <= abs(value) < 1e21:
        return f"{value:e}"
    return np.format_float_positional(value, unique=True, trim="-")


def _text(times: list[int], values: list[str]) -> bytes:
    return ",".join(f'[{t},"{v}"]' for t, v in zip(times, values, strict=True)).encode()


def _check(text: bytes, times: list[int], values: list[str]) -> None:
    got_times, got_values = parse_points(text)
    want_values = np.array([float(v) for v in values])
    assert np.array_equal(got_times, np.array(times, dtype=float))
    assert np.array_equal(got_values, want_values, equal_nan=True)
    assert np.array_equal(np.signbit(got_values), np.signbit(want_values))


_values = st.one_of(
    st.floats().map(_go_text),
    st.floats(0, 1).map(_go_text),
    st.integers(-(10**16), 10**16).map(str),
    st.integers(0, 17).flatmap(lambda p: st.decimals(-1000, 1000, places=p)).map(str),
    st.sampled_from(["0", "1", "-0", "0.0025", "1.", ".5", "-0.000001", "NaN", "+Inf", "-Inf", "1e-07"]),
)


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 10**10), st.lists(_values, min_size=1, max_size=40))
def test_grid_points_read_as_float_reads_them(first: int, values: list[str]) -> None:
    times = [first + 60 * i for i in range(len(values))]
    _check(_text(times, values), times, values)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2 * 10**9), _values), max_size=20))
def test_any_times_read_as_float_reads_them(points: list[tuple[int, str]]) -> None:
    times, values = [t for t, _ in points], [v for _, v in points]
    _check(_text(times, values), times, values)


def test_a_month_of_zeros_and_ones_and_long_decimals() -> None:
    times = [1788220860 + 60 * i for i in range(43_200)]
    rng = np.random.default_rng(3)
    values = [_go_text(v) for v in rng.choice([0.0, 1.0, 0.1 + 0.2, 1 / 3, 2.5e-7, 123456.789], 43_200)]
    _check(_text(times, values), times, values)
    ones = ["0", "1"] * 21_600
    _check(_text(times, ones), times, ones)


@pytest.mark.parametrize(
    "text",
    [b'[1,"x"]', b'[1,"2"],[3]', b'[1,"2"][3,"4"]', b'[,"2"]', b'[1,"-"]', b'[1,""]'],
)
def test_malformed_points_raise_value_error(text: bytes) -> None:
    with pytest.raises(ValueError):
        parse_points(text)
