"""Column-wise helpers for `show stat`: pick one kind's rows, validate and convert fields.

Every function works on whole columns with C-level primitives (slices, `map`, `compress`,
`str.join`) and does Python work only once per distinct value: a column of 10,000 servers
holds a few hundred distinct values at most.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import compress, repeat
from operator import add

from exporters.core.errors import ParseError
from exporters.core.metrics import format_value

Column = Sequence[str]
_PLAIN = frozenset(("-1", "NaN"))


def number(field: str) -> str | float:
    """Validate a numeric field: an integer stays text, a decimal becomes a float.

    Raises:
        ParseError: not a finite number.
    """
    if field.isascii() and field.isdigit():
        return field
    try:
        return str(int(field))
    except ValueError:
        pass
    try:
        value = float(field)
    except ValueError:
        raise ParseError(f"not a number: {field[:40]!r}") from None
    if math.isinf(value):
        raise ParseError(f"not a finite number: {field[:40]!r}")
    return value


def memo_map(func: Callable[[str], str], column: Column) -> list[str]:
    """`[func(v) for v in column]`, calling `func` once per distinct value."""
    table = {v: func(v) for v in set(column)}
    return list(map(table.__getitem__, column))


def closing(heads: list[str], suffix: str) -> list[str]:
    """Each head followed by `suffix` (e.g. `} `)."""
    return list(map(add, heads, repeat(suffix)))


def numeric(heads: Column, values: Column) -> tuple[Column, Column]:
    """Drop empty fields and their heads, validate the rest as numbers.

    Integers (the usual case) pass with one C-level check of the column's distinct values; other
    values are validated once each and rewritten only when their text is not Prometheus'. The inputs
    are returned as they are when nothing is dropped or rewritten (heads are shared).

    Raises:
        ParseError: a field that is not a finite number.
    """
    distinct = set(values)
    if "" in distinct:
        mask = list(map(bool, values))
        heads = list(compress(heads, mask))
        values = list(compress(values, mask))
        distinct.discard("")
    joined = "".join(distinct)
    if joined.isdigit() and joined.isascii():
        return heads, values
    fixes = {u: _text(number(u)) for u in distinct if not ((u.isdigit() and u.isascii()) or u in _PLAIN)}
    if fixes:
        return heads, [fixes.get(v, v) for v in values]
    return heads, values


def _text(value: str | float) -> str:
    return value if isinstance(value, str) else format_value(value)


def _ms_to_seconds(v: str) -> str:
    if v == "0":
        return "0"
    if v.isdigit() and v.isascii():
        return f"{v[:-3] or '0'}.{v[-3:].rjust(3, '0')}"
    return format_value(float(v) / 1000.0)


def seconds(values: Column) -> Column:
    """Milliseconds -> seconds; integers by moving the decimal point (no float round trip)."""
    if values.count("0") == len(values):
        return values
    return memo_map(_ms_to_seconds, values)


def flags(states: Column, name: str) -> list[str]:
    """Sample tails `,state="NAME"} 1` where a row's state is NAME, else `... 0`."""
    on, off = f',state="{name}"}} 1', f',state="{name}"}} 0'
    table = {s: on if s == name else off for s in set(states)}
    return list(map(table.__getitem__, states))
