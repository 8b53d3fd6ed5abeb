"""The option and number checks the exporters share."""

from __future__ import annotations

import math

import pytest

from exporters.core.errors import ConfigError, ParseError
from exporters.core.values import finite, regex_option


def test_regex_option() -> None:
    assert regex_option({}, "include") is None
    assert regex_option({"include": ""}, "include") is None
    pattern = regex_option({"include": "^app(_.*)?$"}, "include")
    assert pattern is not None and pattern.fullmatch("app_1") and not pattern.fullmatch("admin")
    with pytest.raises(ConfigError, match=r"^exclude: invalid regular expression '\(': missing \)"):
        regex_option({"exclude": "("}, "exclude")


def test_finite() -> None:
    assert finite(1.5, "x") == 1.5
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ParseError, match=r"^pools\.cl_active: not a finite number$"):
            finite(bad, "pools.cl_active")
