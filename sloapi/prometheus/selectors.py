"""The series whose samples decide whether an SLI's per-step query has a value (pure).

`sum(rate(S[1m]))` has a value at `t` exactly when some series of `S` has two samples in the
minute ending at `t`; counting the samples of `S` (cheap: no per-step evaluation) then bounds
the SLI's coverage. Only queries of that shape qualify; any other gives None, and coverage is
counted step by step instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import timedelta

import promql_parser as pp

#: Functions whose result at `t` exists exactly when a series has two samples in its window.
TWO_SAMPLE_FUNCTIONS = frozenset({"rate", "increase"})
#: Aggregations without a parameter: a group has a value when one of its series has.
AGGREGATIONS = frozenset({"sum", "min", "max", "avg", "count", "group"})
_OPERATORS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


#: Longest query, and most parentheses, read for a selector (spec queries are far shorter).
MAX_PARSED = 20_000
MAX_NESTING = 200


def counted_selector(query: str, window_seconds: int) -> str | None:
    """The selector `S` of `query` when `query` is `rate(S[w])` or `increase(S[w])` with `w` of
    `window_seconds`, wrapped in nothing but parentheses and parameterless aggregations (`sum`,
    `sum by (...)`, ...), `S` having no `offset` or `@`; otherwise None.

    The selector is written out again from the parsed matchers (values re-quoted), so it selects
    what the query selects.
    """
    if len(query) > MAX_PARSED or query.count("(") > MAX_NESTING:
        return None  # the step-by-step count takes it; the parser is not asked to recurse that deep
    try:
        expr = pp.parse(query)
    except (ValueError, TypeError):
        return None
    inner = _inner(expr)
    while inner is not None:
        expr, inner = inner, _inner(inner)
    if not isinstance(expr, pp.Call) or expr.func.name not in TWO_SAMPLE_FUNCTIONS or len(expr.args) != 1:
        return None
    matrix = expr.args[0]
    if not isinstance(matrix, pp.MatrixSelector) or matrix.range != timedelta(seconds=window_seconds):
        return None
    return _selector_text(matrix.vector_selector)


def _inner(expr: pp.Expr) -> pp.Expr | None:
    """The argument of parentheses or of an aggregation without a parameter (each has a value
    wherever its argument has one); None for any other expression."""
    if isinstance(expr, pp.AggregateExpr) and str(expr.op) in AGGREGATIONS and expr.param is None:
        return expr.expr
    if isinstance(expr, pp.ParenExpr):
        return expr.expr
    return None


def _selector_text(selector: pp.VectorSelector) -> str | None:
    """`name{label op "value", ...}`, or None for a selector with a modifier or an `or`."""
    if selector.offset is not None or selector.at is not None or selector.matchers.or_matchers:
        return None
    parts = []
    for matcher in selector.matchers.matchers:
        op = _OPERATORS.get(str(matcher.op).rsplit(".", 1)[-1])
        if op is None or not _LABEL.fullmatch(matcher.name):
            return None
        parts.append(f"{matcher.name}{op}{json.dumps(matcher.value, ensure_ascii=False)}")
    name = selector.name or ""
    if name and not _NAME.fullmatch(name):
        name, parts = "", [f"__name__={json.dumps(name, ensure_ascii=False)}", *parts]
    return f"{name}{{{','.join(parts)}}}" if parts or not name else name


def series_selector(selector: str, labels: Mapping[str, str]) -> str | None:
    """`selector` (as `counted_selector` writes it) narrowed to the one series with `labels`
    (an answer's labels, without the metric name); None for a label name it cannot write."""
    if not labels or not all(_LABEL.fullmatch(name) for name in labels):
        return None
    parts = ",".join(
        f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in sorted(labels.items())
    )
    if not selector.endswith("}"):
        return f"{selector}{{{parts}}}"
    return f"{selector[:-1]},{parts}}}" if not selector.endswith("{}") else f"{selector[:-1]}{parts}}}"
