"""Typed access to Patroni's JSON: every wrong shape becomes a `ParseError` naming the field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from exporters.core.errors import ParseError
from exporters.core.values import finite


def obj(value: object, what: str) -> dict[str, Any]:
    """Return `value` as a JSON object, or raise ParseError."""
    if not isinstance(value, dict):
        raise ParseError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def opt_obj(doc: dict[str, Any], key: str, what: str) -> dict[str, Any]:
    """Return `doc[key]` as an object; {} when missing or null."""
    value = doc.get(key)
    return {} if value is None else obj(value, f"{what}.{key}")


def number(value: object, what: str) -> float | None:
    """A finite JSON number (bool excluded); None for a missing/null value."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParseError(f"{what}: expected a number, got {type(value).__name__}")
    try:
        out = float(value)
    except OverflowError:
        raise ParseError(f"{what}: number out of range") from None
    return finite(out, what)


def flag(value: object, what: str) -> bool:
    """A JSON boolean (Patroni also writes 0/1 here and there); missing/null is False."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    raise ParseError(f"{what}: expected a boolean, got {value!r:.40}")


def text(value: object, what: str) -> str | None:
    """A JSON string; None for a missing/null value."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParseError(f"{what}: expected a string, got {type(value).__name__}")
    return value


def timestamp(value: object, what: str) -> float | None:
    """Seconds since the epoch from Patroni's ISO 8601 timestamps (naive ones are UTC)."""
    s = text(value, what)
    if not s:
        return None
    try:
        parsed = dt.datetime.fromisoformat(s.strip())
    except ValueError:
        raise ParseError(f"{what}: not an ISO 8601 timestamp: {s!r:.40}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.timestamp()
    except (OverflowError, ValueError, OSError):
        raise ParseError(f"{what}: timestamp out of range: {s!r:.40}") from None
