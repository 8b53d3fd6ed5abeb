"""The inside of a range answer's `"values":[...]` array parsed without a Python object per number.

Prometheus writes each point as `[<unix seconds>,"<value>"]`, the value in the shortest decimal
that reads back to the same float (`strconv.FormatFloat(v, 'f', -1, 64)`): on a one-minute grid
that is a fixed-width integer time and, mostly, a short decimal such as `0`, `1` or `0.0025`.
`parse_points` reads the times and the short values with numpy over the raw bytes; anything
else (fractional times, longer values, exponents, `NaN`, `+Inf`) goes through `float`, one number
at a time, so every value is the float `float(text)` gives.

Exactness: a value of at most 8 characters is an integer mantissa `m < 10**8` over a power
`10**k`, `k < 8`, both exact in a double, so `m / 10**k` is rounded once, to the double nearest
to the decimal, as `strtod` rounds it (Clinger's fast path).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_QUOTE, _OPEN, _CLOSE, _COMMA, _DOT, _MINUS, _ZERO = (ord(c) for c in '"[],.-0')
_SHORT = 8  # value texts up to this long are read by numpy: at most 7 digits
_POW10 = 10.0 ** np.arange(_SHORT)
_TIME_DIGITS = 15  # whole seconds under 10**15 < 2**53: every partial sum exact in a double
_TIME_POW10 = 10.0 ** np.arange(_TIME_DIGITS)


def _general(text: bytes) -> tuple[np.ndarray, np.ndarray]:
    """`[t,"v"],...` through `float`, one number at a time (any JSON number or Prometheus value)."""
    if not text:
        empty = np.empty(0, dtype=float)
        return empty, empty
    numbers = text.translate(None, b'[]"').decode("ascii").split(",")
    if len(numbers) != 2 * text.count(b"["):
        raise ValueError("malformed values array")
    array = np.array(numbers, dtype=float).reshape(-1, 2)
    return array[:, 0], array[:, 1]


def _layout(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(time starts, value starts, value ends) when `buf` is exactly `[t,"v"],[t,"v"],...`
    with a quote-free time and value in each point; None otherwise."""
    quotes = np.flatnonzero(buf == _QUOTE)
    opens = np.flatnonzero(buf == _OPEN)
    count = len(opens)
    if count == 0 or len(quotes) != 2 * count:
        return None
    starts, ends = quotes[0::2] + 1, quotes[1::2]
    framed = (
        opens[0] == 0
        and bool(np.all(starts < ends))
        and ends[-1] + 2 == len(buf)
        and np.array_equal(opens[1:], ends[:-1] + 3)
        and bool(np.all(buf[ends + 1] == _CLOSE))
        and bool(np.all(buf[starts - 2] == _COMMA))
        and bool(np.all(buf[ends[:-1] + 2] == _COMMA))
    )
    return (opens + 1, starts, ends) if framed else None


def _digits(buf: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray | None:
    """Fixed-width unsigned integers of `width` digits at `starts`, or None if any is not one."""
    if not 0 < width <= _TIME_DIGITS:
        return None
    chars = sliding_window_view(buf, width)[starts] - np.uint8(_ZERO)  # non-digits wrap above 9
    if chars.max() > 9:
        return None
    return chars.astype(float) @ _TIME_POW10[width - 1 :: -1]


def _times(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray | None:
    """Whole-second times of one width (every time on a grid of seconds, for centuries)."""
    widths = ends - starts
    if widths.min() != widths.max():
        return None
    return _digits(buf, starts, int(widths[0]))


def _short_decimals(chars: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, read) of the value texts padded in the columns of `chars` (one character
    position a row): `read` marks the plain decimals (`-`, digits and at most one `.`), whose
    value is the float `float(text)` gives; the other columns hold garbage."""
    inside = np.arange(chars.shape[0])[:, None] < lengths
    digits = chars - np.uint8(_ZERO)
    digit = inside & (digits <= 9)
    dot = chars == _DOT
    minus = chars[0] == _MINUS
    count = digit.sum(axis=0)
    read = (count >= 1) & (dot.sum(axis=0) <= 1) & (count + dot.sum(axis=0) + minus == lengths)
    right = count - np.cumsum(digit, axis=0, dtype=np.int8)  # digits after each position
    mantissa = np.where(digit, digits * _POW10[np.clip(right, 0, _SHORT - 1)], 0.0).sum(axis=0)
    decimals = (digit & (np.cumsum(dot, axis=0, dtype=np.int8) > 0)).sum(axis=0)
    values = mantissa / _POW10[decimals]  # both exact: one rounding, as strtod's
    return np.where(minus, -values, values), read


def _values(text: bytes, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The values: short plain decimals by numpy (`_short_decimals`), the rest by `float`."""
    lengths = ends - starts
    width = int(lengths.max())
    if width == 1:  # one character each: mostly "0" and "1"
        digits = buf[starts] - np.uint8(_ZERO)
        if digits.max() <= 9:
            return digits.astype(float)
    if width <= _SHORT:
        padded = np.concatenate([buf, np.zeros(width, dtype=np.uint8)])
        rows = sliding_window_view(padded, width)[starts].T  # character position by value
        chars = np.where(np.arange(width)[:, None] < lengths, rows, np.uint8(0))
        values, read = _short_decimals(chars, lengths)
        rest = np.flatnonzero(~read)
    else:  # every value text is the odd piece between the layout's quotes
        texts = text.split(b'"')[1::2]
        return np.fromiter(map(float, texts), dtype=float, count=len(texts))
    if len(rest):
        texts = [text[a:b] for a, b in zip(starts[rest].tolist(), ends[rest].tolist(), strict=True)]
        values[rest] = np.fromiter(map(float, texts), dtype=float, count=len(texts))
    return values


def parse_points(text: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Times and values of `[t,"v"],[t,"v"],...` (the inside of a `values` array) as float arrays,
    each number the float `float(text)` gives.

    Raises:
        ValueError: `text` is not such a list of points.
    """
    buf = np.frombuffer(text, dtype=np.uint8)
    layout = _layout(buf) if len(buf) else None
    if layout is None:
        return _general(text)
    time_starts, starts, ends = layout
    times = _times(buf, time_starts, starts - 2)
    if times is None:
        return _general(text)
    return times, _values(text, buf, starts, ends)
