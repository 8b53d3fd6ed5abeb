"""What Prometheus answers, decoded: instant samples, range series and `query_range` bodies."""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sloapi.prometheus.points import parse_points

Labels = dict[str, str]
_VALUES_KEY = b'"values":['
_QUOTED_BODY = re.compile(r"""\((b(['"]).*\2)\)\s*$""", re.DOTALL)
_ERROR_FIELD = re.compile(r'"error":"(.*?)(?:"\}|$)', re.DOTALL)


@dataclass(frozen=True)
class Sample:
    """One series of an instant query: labels and value (may be NaN)."""

    labels: Labels
    value: float


@dataclass(frozen=True)
class RangeSeries:
    """One series of a range query: labels, unix times and values (float arrays)."""

    labels: Labels
    times: np.ndarray
    values: np.ndarray

    @property
    def points(self) -> list[tuple[float, float]]:
        """(unix seconds, value) pairs."""
        return list(zip(self.times.tolist(), self.values.tolist(), strict=True))

    @classmethod
    def from_values(cls, labels: Labels, values: list[list[Any]]) -> RangeSeries:
        """From Prometheus's `[[time, "value"], ...]` (strings parsed in one numpy call)."""
        if not values:
            empty = np.empty(0, dtype=float)
            return cls(labels, empty, empty)
        array = np.array(values, dtype=float)
        return cls(labels, array[:, 0], array[:, 1])


def decode_matrix(body: bytes) -> list[RangeSeries]:
    """The series of a `query_range` answer (JSON bytes), as `from_values` would build them.

    Each `"values":[...]` array is cut out of the body and parsed by numpy straight from the
    bytes (`points.parse_points`); the rest (status and labels) goes through `json`. The cut is
    exact: the arrays hold only numbers, number strings, commas and brackets, and `"values":[`
    cannot occur inside a JSON string (its quotes are escaped there).

    Raises:
        ValueError: the body is not a successful matrix answer.
    """
    skeleton: list[bytes] = []
    arrays: list[tuple[np.ndarray, np.ndarray]] = []
    pos = 0
    while (key := body.find(_VALUES_KEY, pos)) >= 0:
        begin = key + len(_VALUES_KEY)
        close = begin if body.startswith(b"]", begin) else body.find(b"]]", begin) + 1
        if close == 0:
            raise ValueError("unterminated values array")
        skeleton.append(body[pos:begin])
        arrays.append(parse_points(body[begin:close]))
        pos = close
    skeleton.append(body[pos:])
    try:
        answer = json.loads(b"".join(skeleton))
        data = answer["data"]
        result = data["result"]
        ok = answer["status"] == "success" and data["resultType"] == "matrix"
    except (KeyError, TypeError) as exc:
        raise ValueError(f"unexpected answer: {type(exc).__name__}") from None
    if not ok or len(result) != len(arrays) or any(r.get("values") != [] for r in result):
        raise ValueError("not a matrix answer")
    return [
        RangeSeries(dict(r.get("metric", {})), times, values)
        for r, (times, values) in zip(result, arrays, strict=True)
    ]


def values_by_label(data: Mapping[str, Any], label: str) -> dict[str, float]:
    """An instant query's finite values by the value of `label` (series without it are left
    out; of two with the same value, the later), with no `Sample` per series: what a listing
    of 1,000 SLOs reads eleven times.

    Raises:
        ValueError, KeyError, TypeError, IndexError: `data` is not a vector answer's data.
    """
    if data.get("resultType") == "scalar":
        return {}  # no labels
    if data["resultType"] != "vector":
        raise ValueError("not a vector answer")
    values: dict[str, float] = {}
    for series in data["result"]:
        key = series["metric"].get(label)
        value = float(series["value"][1])
        if key is not None and math.isfinite(value):
            values[key] = value
    return values


def first_value(samples: Iterable[Sample]) -> float | None:
    """The value of the first sample, None when there is none or it is not finite."""
    for sample in samples:
        return sample.value if math.isfinite(sample.value) else None
    return None


def error_message(text: str) -> str:
    """Prometheus's own ``error`` text out of an HTTP error quoting its raw body (maybe cut short),
    e.g. ``HTTP Status Code 400 (b'{"status":"error","error":"parse error ..."}')``; the text
    itself when it quotes no such body."""
    match = _QUOTED_BODY.search(text)
    if match is not None:
        try:
            body = ast.literal_eval(match.group(1))
            error = json.loads(body.decode("utf-8", "replace")).get("error")
        except (ValueError, SyntaxError, AttributeError):
            error = None
        if error:
            return str(error)
    field = _ERROR_FIELD.search(text)
    if field is None:
        return text
    return field.group(1).replace("\\\\", "\\").replace('\\"', '"')
