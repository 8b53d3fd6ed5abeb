"""Values the exporters validate the same way: regex options and finite numbers."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from exporters.core.errors import ConfigError, ParseError


def regex_option(options: Mapping[str, Any], key: str) -> re.Pattern[str] | None:
    """The compiled regex of option `key`; None when it is missing or empty.

    Raises:
        ConfigError: not a valid regular expression (naming the option).
    """
    raw = options.get(key)
    if raw in (None, ""):
        return None
    try:
        return re.compile(str(raw))
    except re.error as e:
        raise ConfigError(f"{key}: invalid regular expression {raw!r}: {e}") from None


def finite(value: float, what: str) -> float:
    """Return `value` if it is a finite number.

    Raises:
        ParseError: NaN or infinite (naming `what`).
    """
    if not math.isfinite(value):
        raise ParseError(f"{what}: not a finite number")
    return value
