"""Error-budget policy: `ok`, `warn` or `freeze` from the budget left, and the gate's answer
for one change kind (pure; docs/sloapi.md, "Error-budget policy").

With r the share of the budget left (`remaining_ratio`, 1 - consumed) and the policy's
thresholds `warn_below` > `freeze_below` (shares of the budget):
- `freeze` when r <= freeze_below (default 0: the budget is exhausted);
- `warn` when r < warn_below (default 0.25: less than a quarter left);
- `ok` otherwise.
A window without traffic left its budget untouched (`ok`); a window without data cannot be
judged and counts as `warn` (risky changes wait until the SLI is measured again).
At `warn`, change kinds listed in `risky` are refused; at `freeze`, every kind except those in
`fixes` is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sloapi.engine.figures import Verdict

PolicyState = Literal["ok", "warn", "freeze"]
_RANK: dict[PolicyState, int] = {"ok": 0, "warn": 1, "freeze": 2}


@dataclass(frozen=True)
class BudgetPolicy:
    """The thresholds and change kinds of one SLO's error-budget policy.

    Attributes:
        warn_below: share of the budget left under which the state is `warn` (0.25).
        freeze_below: share left at or under which the state is `freeze` (0: exhausted).
        risky: change kinds refused from `warn` on.
        fixes: change kinds still allowed at `freeze`.
    """

    warn_below: float = 0.25
    freeze_below: float = 0.0
    risky: tuple[str, ...] = ("risky", "migration", "experiment")
    fixes: tuple[str, ...] = ("fix", "rollback", "revert", "security")


@dataclass(frozen=True)
class PolicyFinding:
    """One SLO's policy state and why.

    Attributes:
        slo_id: the SLO.
        state: `ok`, `warn` or `freeze`.
        reason: one sentence naming the figure and the threshold.
        remaining_ratio: share of the budget left (None without traffic or data).
    """

    slo_id: str
    state: PolicyState
    reason: str
    remaining_ratio: float | None


@dataclass(frozen=True)
class GateDecision:
    """The gate's answer for one change of one service.

    Attributes:
        allowed: whether the change may go ahead.
        state: the worst state of the service's SLOs.
        reasons: why (one line per SLO that is not `ok`, and the rule applied).
        findings: every SLO's finding.
    """

    allowed: bool
    state: PolicyState
    reasons: tuple[str, ...]
    findings: tuple[PolicyFinding, ...]


def _pct(ratio: float) -> str:
    return f"{100 * ratio:.1f}%"


def policy_state(
    slo_id: str, remaining_ratio: float | None, verdict: Verdict, policy: BudgetPolicy
) -> PolicyFinding:
    """The state of one SLO from its budget left and verdict (see the module docstring)."""
    if verdict == "no_data":
        return PolicyFinding(slo_id, "warn", f"{slo_id}: no data, the budget cannot be judged", None)
    if verdict == "no_traffic" or remaining_ratio is None:
        return PolicyFinding(slo_id, "ok", f"{slo_id}: no traffic, the budget is untouched", None)
    left = _pct(remaining_ratio)
    if remaining_ratio <= policy.freeze_below:
        limit = "exhausted" if policy.freeze_below == 0 else f"at or below {_pct(policy.freeze_below)}"
        return PolicyFinding(
            slo_id, "freeze", f"{slo_id}: {left} of the budget left ({limit})", remaining_ratio
        )
    if remaining_ratio < policy.warn_below:
        reason = f"{slo_id}: {left} of the budget left (below {_pct(policy.warn_below)})"
        return PolicyFinding(slo_id, "warn", reason, remaining_ratio)
    return PolicyFinding(slo_id, "ok", f"{slo_id}: {left} of the budget left", remaining_ratio)


def worst(states: list[PolicyState]) -> PolicyState:
    """The most restrictive state (`ok` for none)."""
    return max(states, key=_RANK.__getitem__, default="ok")


def gate(change: str, findings: list[tuple[PolicyFinding, BudgetPolicy]]) -> GateDecision:
    """May a change of kind `change` go ahead, given each SLO's finding and policy?

    Each SLO judges by its own policy: at `warn` it refuses its `risky` kinds, at `freeze`
    everything but its `fixes`. The change goes ahead only when no SLO refuses it.
    """
    reasons: list[str] = []
    for finding, policy in findings:
        if finding.state == "warn" and change in policy.risky:
            reasons.append(f"{finding.reason}: {change!r} changes are frozen (risky)")
        elif finding.state == "freeze" and change not in policy.fixes:
            allowed = ", ".join(policy.fixes) or "none"
            reasons.append(f"{finding.reason}: frozen except for {allowed}")
    state = worst([f.state for f, _p in findings])
    return GateDecision(not reasons, state, tuple(reasons), tuple(f for f, _p in findings))
