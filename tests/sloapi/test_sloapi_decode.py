"""Prometheus answers decoded: `decode_matrix` equals the `json` + `RangeSeries.from_values` path,
`values_by_label` the samples an instant query gives."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sloapi.prometheus import RangeSeries, decode_matrix
from sloapi.prometheus.client import _samples
from sloapi.prometheus.decode import values_by_label


def _prom_float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


_series = st.tuples(
    st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=20), max_size=4),
    st.lists(st.tuples(st.integers(0, 2 * 10**9), st.floats()), max_size=30),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_series, max_size=5))
def test_decode_matrix_matches_json(series: list[tuple[dict[str, str], list[tuple[int, float]]]]) -> None:
    result = [{"metric": m, "values": [[t, _prom_float(v)] for t, v in pts]} for m, pts in series]
    answer = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    got = decode_matrix(json.dumps(answer, separators=(",", ":")).encode())
    want = [RangeSeries.from_values(r["metric"], r["values"]) for r in result]
    assert [g.labels for g in got] == [w.labels for w in want]
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g.times, w.times)
        assert np.array_equal(g.values, w.values, equal_nan=True)


def test_label_text_cannot_fake_a_values_array() -> None:
    body = (
        b'{"status":"success","data":{"resultType":"matrix","result":[{"metric":'
        b'{"x":"\\"values\\":[[1,\\"2\\"]]"},"values":[[60,"0.5"],[120,"NaN"]]}]}}'
    )
    (series,) = decode_matrix(body)
    assert series.labels == {"x": '"values":[[1,"2"]]'}
    assert series.times.tolist() == [60.0, 120.0]
    assert series.values[0] == 0.5 and math.isnan(series.values[1])


@pytest.mark.parametrize(
    "body",
    [
        b'{"status":"error","errorType":"bad_data"}',
        b'{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"x"]]}]}}',
        b'{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"2"]',
        b'{"status":"success","data":{"resultType":"vector","result":[]}}',
        b"not json",
    ],
)
def test_bad_answers_raise_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        decode_matrix(body)


_vector = st.lists(
    st.tuples(
        st.dictionaries(
            st.sampled_from(["sloth_id", "job", "x"]), st.sampled_from(["a", "b", "c", ""]), max_size=3
        ),
        st.floats(),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(_vector)
def test_values_by_label_match_the_samples(vector: list[tuple[dict[str, str], float]]) -> None:
    body = json.dumps(
        {
            "status": "success",
            "data": {
                "resultType": "vector",
                "result": [{"metric": m, "value": [1.5, _prom_float(v)]} for m, v in vector],
            },
        }
    )
    data = json.loads(body)["data"]
    expected = {
        sample.labels["sloth_id"]: sample.value
        for sample in _samples(data)
        if "sloth_id" in sample.labels and math.isfinite(sample.value)
    }
    assert values_by_label(data, "sloth_id") == expected


def test_values_by_label_of_odd_answers() -> None:
    assert values_by_label({"resultType": "scalar", "result": [1.5, "2"]}, "sloth_id") == {}
    assert values_by_label({"resultType": "vector", "result": []}, "sloth_id") == {}
    with pytest.raises(ValueError, match="not a vector"):
        values_by_label({"resultType": "matrix", "result": []}, "sloth_id")
    with pytest.raises(KeyError):
        values_by_label({"resultType": "vector", "result": [{"value": [1, "2"]}]}, "sloth_id")
