"""The `policy` block of a spec (a nines extension of Sloth's format): error-budget thresholds.

```yaml
policy:                      # document level: the service's default; SLO level: overrides it
  warn_below_percent: 25     # less than 25 % of the budget left: warn, risky changes wait
  freeze_below_percent: 0    # budget exhausted: freeze everything but fixes
  risky: [risky, migration, experiment]
  fixes: [fix, rollback, revert, security]
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sloapi.engine.policy import BudgetPolicy
from sloapi.errors import SpecError

_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_KEYS = {"warn_below_percent", "freeze_below_percent", "risky", "fixes"}


def _percent(value: object, key: str, file: str, slo: str | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise SpecError(file, slo, f"policy.{key} must be a number from 0 to 100")
    return float(value) / 100


def _kinds(value: object, key: str, file: str, slo: str | None) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(k, str) and _KIND.match(k) for k in value):
        raise SpecError(file, slo, f"policy.{key} must be a list of change kinds (lower-case names)")
    return tuple(value)


def parse_policy(raw: object, base: BudgetPolicy, file: str, slo: str | None) -> BudgetPolicy:
    """`base` with the fields `raw` sets (None: `base` as it is).

    Raises:
        SpecError: not a mapping, an unknown key, a bad value, or warn not above freeze.
    """
    if raw is None:
        return base
    if not isinstance(raw, Mapping):
        raise SpecError(file, slo, "policy must be a mapping")
    unknown = sorted(set(map(str, raw)) - _KEYS)
    if unknown:
        raise SpecError(file, slo, f"policy: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
    policy = BudgetPolicy(
        warn_below=_percent(raw["warn_below_percent"], "warn_below_percent", file, slo)
        if "warn_below_percent" in raw
        else base.warn_below,
        freeze_below=_percent(raw["freeze_below_percent"], "freeze_below_percent", file, slo)
        if "freeze_below_percent" in raw
        else base.freeze_below,
        risky=_kinds(raw["risky"], "risky", file, slo) if "risky" in raw else base.risky,
        fixes=_kinds(raw["fixes"], "fixes", file, slo) if "fixes" in raw else base.fixes,
    )
    if policy.warn_below <= policy.freeze_below:
        raise SpecError(file, slo, "policy: warn_below_percent must be above freeze_below_percent")
    return policy


def parse_min_events(value: object, file: str, slo: str, raw_sli: bool) -> int:
    """The low-traffic guard of an `alerting` block (0: off).

    Raises:
        SpecError: not a whole number >= 0, or set on a raw SLI (it has no events to count).
    """
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpecError(file, slo, "alerting.min_events must be a whole number >= 0")
    if value and raw_sli:
        raise SpecError(file, slo, "alerting.min_events needs an events SLI (a raw SLI has no events)")
    return value
