"""Error-budget policy of SLOs and the deploy gate of a service, from their statuses (the
maths in `sloapi.engine.policy`; the statuses from `compute_status`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sloapi.engine.policy import GateDecision, PolicyFinding, gate, policy_state
from sloapi.errors import UnknownSLOError
from sloapi.specs.model import SLOSpec


def finding_of(spec: SLOSpec, status: dict[str, Any]) -> PolicyFinding:
    """The policy state of `spec` given its status over its own window."""
    remaining = status["error_budget"]["remaining_ratio"]
    return policy_state(spec.id, remaining, status["verdict"], spec.policy)


def policy_json(spec: SLOSpec, status: dict[str, Any]) -> dict[str, Any]:
    """`GET /api/v1/slos/{id}/policy`: the state, why, and the thresholds that decided it."""
    finding = finding_of(spec, status)
    return {
        "id": spec.id,
        "service": spec.service,
        "at": status["at"],
        "window": status["window"],
        "state": finding.state,
        "reasons": [finding.reason],
        "remaining_ratio": finding.remaining_ratio,
        "verdict": status["verdict"],
        "policy": {
            "warn_below_ratio": spec.policy.warn_below,
            "freeze_below_ratio": spec.policy.freeze_below,
            "risky": list(spec.policy.risky),
            "fixes": list(spec.policy.fixes),
        },
    }


def service_specs(specs: list[SLOSpec], service: str) -> list[SLOSpec]:
    """The SLOs of `service`.

    Raises:
        UnknownSLOError: the service has no SLO.
    """
    chosen = [s for s in specs if s.service == service]
    if not chosen:
        raise UnknownSLOError(f"no SLO of service {service!r}")
    return chosen


def service_gate(
    specs: list[SLOSpec], service: str, change: str, status_of: Callable[[SLOSpec], dict[str, Any]]
) -> GateDecision:
    """The gate's decision for a change of kind `change` to `service` (every SLO of the service
    judged over its own window by `status_of`).

    Raises:
        UnknownSLOError: the service has no SLO.
    """
    chosen = service_specs(specs, service)
    return gate(change, [(finding_of(s, status_of(s)), s.policy) for s in chosen])


def decision_json(service: str, change: str, decision: GateDecision) -> dict[str, Any]:
    """The gate's answer body (without the override part)."""
    return {
        "service": service,
        "change": change,
        "allowed": decision.allowed,
        "state": decision.state,
        "reasons": list(decision.reasons),
        "slos": [
            {"id": f.slo_id, "state": f.state, "reason": f.reason, "remaining_ratio": f.remaining_ratio}
            for f in decision.findings
        ],
    }
