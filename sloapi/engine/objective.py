"""Objectives as exact decimals: 99.9 % -> budget 0.001, not 0.000999999..."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property


@dataclass(frozen=True)
class Objective:
    """An SLO objective kept as an exact decimal percentage.

    Attributes:
        percent: the objective in percent, strictly between 0 and 100.
    """

    percent: Decimal

    def __post_init__(self) -> None:
        if not (Decimal(0) < self.percent < Decimal(100)):
            raise ValueError(f"objective {self.percent} is outside (0, 100)")

    @classmethod
    def from_percent(cls, value: str | int | float | Decimal) -> Objective:
        """Build from a percentage (`99.9`, `"99.95"`); floats are read by their shortest repr.

        Raises:
            ValueError: not a number, or outside (0, 100).
        """
        if isinstance(value, bool):
            raise ValueError(f"objective {value!r} is not a number")
        try:
            dec = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"objective {value!r} is not a number") from None
        if not dec.is_finite():
            raise ValueError(f"objective {value!r} is not a finite number")
        return cls(dec)

    @classmethod
    def from_ratio(cls, value: str | int | float | Decimal) -> Objective:
        """Build from a ratio (`0.999`), as OpenSLO gives it."""
        dec = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
        return cls.from_percent(dec * 100)

    @cached_property
    def ratio(self) -> float:
        """The objective as a ratio (0.999)."""
        return float(self.percent / 100)

    @cached_property
    def budget(self) -> float:
        """The error budget as a ratio (0.001), computed exactly then rounded once."""
        return float((Decimal(100) - self.percent) / 100)

    @property
    def budget_decimal(self) -> Decimal:
        """The error budget as an exact decimal ratio."""
        return (Decimal(100) - self.percent) / 100
