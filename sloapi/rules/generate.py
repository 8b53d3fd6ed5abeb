"""Rule groups for SLO specs: Sloth-compatible recording names, traffic-weighted period SLI,
multi-window multi-burn-rate alerts, metric-missing and budget-exhausted alerts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import yaml

from sloapi.engine.burn import BURN_WINDOWS
from sloapi.engine.durations import format_duration
from sloapi.rules.alerts import BurnTier, spec_tiers
from sloapi.specs.model import RawSLI, SLOSpec

SLOTH_SPEC = "prometheus/v1"
MODE = "sloapi-gen-prom"
ID_LABELS = ("sloth_id", "sloth_service", "sloth_slo")

RUNBOOK = "docs/runbooks.md#slo-budget-burn"
#: nines' record of an event SLO's events over its period (beside Sloth's names, not one of them)
PERIOD_EVENTS = "slo:period_total_events:sum"
#: nines' record of the events in a tier's long window (low-traffic guard), suffixed by the window
TRAFFIC = "slo:sli_total_events:increase"


def _selector(spec: SLOSpec) -> str:
    return f'sloth_id="{spec.id}", sloth_service="{spec.service}", sloth_slo="{spec.name}"'


def _id_labels(spec: SLOSpec) -> dict[str, str]:
    return {"sloth_id": spec.id, "sloth_service": spec.service, "sloth_slo": spec.name}


def _labels(spec: SLOSpec, **extra: str) -> dict[str, str]:
    return {**spec.labels, **_id_labels(spec), **extra}


def _sli_rules(spec: SLOSpec, period: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    windows = [*BURN_WINDOWS]
    if isinstance(spec.sli, RawSLI):
        for w in windows:
            rules.append(
                {
                    "record": f"slo:sli_error:ratio_rate{w}",
                    "expr": f"({spec.queries(w)['ratio']})\n",
                    "labels": _labels(spec, sloth_window=w),
                }
            )
        return rules
    q5 = spec.queries("5m")
    rules.append(
        {
            "record": "slo:sli_error_events:rate5m",
            "expr": f"({q5['error']})\nor\n(0 * ({q5['total']}))\n",
            "labels": _labels(spec, sloth_window="5m"),
        }
    )
    rules.append(
        {
            "record": "slo:sli_total_events:rate5m",
            "expr": f"({q5['total']})\n",
            "labels": _labels(spec, sloth_window="5m"),
        }
    )
    for w in windows:
        q = spec.queries(w)
        rules.append(
            {
                "record": f"slo:sli_error:ratio_rate{w}",
                "expr": f"(({q['error']}) or (0 * ({q['total']})))\n/\n({q['total']})\n",
                "labels": _labels(spec, sloth_window=w),
            }
        )
    return rules


def _period_rules(spec: SLOSpec, period: str, interval: int) -> list[dict[str, Any]]:
    sel = _selector(spec)
    expected = spec.window.seconds / interval
    if isinstance(spec.sli, RawSLI):
        ratio = (
            f"sum_over_time(slo:sli_error:ratio_rate5m{{{sel}}}[{period}])\n"
            f"/ ignoring (sloth_window)\n"
            f"count_over_time(slo:sli_error:ratio_rate5m{{{sel}}}[{period}])\n"
        )
        counted = f"count_over_time(slo:sli_error:ratio_rate5m{{{sel}}}[{period}])"
    else:
        err = f"sum_over_time(slo:sli_error_events:rate5m{{{sel}}}[{period}])"
        tot = f"sum_over_time(slo:sli_total_events:rate5m{{{sel}}}[{period}])"
        ratio = f"({err}\n/ ({tot} > 0))\nor\n({tot} == 0)\n"
        counted = f"count_over_time(slo:sli_total_events:rate5m{{{sel}}}[{period}])"
    rules: list[dict[str, Any]] = [
        {
            "record": f"slo:sli_error:ratio_rate{period}",
            "expr": ratio,
            "labels": _labels(spec, sloth_window=period),
        },
        {
            "record": "slo:data_coverage:ratio",
            "expr": f"clamp_max({counted} / {expected:g}, 1)\n",
            "labels": _labels(spec, sloth_window=period),
        },
    ]
    if not isinstance(spec.sli, RawSLI):
        # events of the period (each 5m rate sample stands for one interval): 0 means no traffic
        rules.append(
            {
                "record": PERIOD_EVENTS,
                "expr": f"sum_over_time(slo:sli_total_events:rate5m{{{sel}}}[{period}]) * {interval}\n",
                "labels": _labels(spec, sloth_window=period),
            }
        )
    return rules


def _meta_rules(spec: SLOSpec, period: str) -> list[dict[str, Any]]:
    sel = _selector(spec)
    on = "on(sloth_id, sloth_slo, sloth_service) group_left"
    days = spec.window.seconds / 86400
    return [
        {
            "record": "slo:objective:ratio",
            "expr": f"vector({spec.objective.percent / 100})",
            "labels": _labels(spec),
        },
        {
            "record": "slo:error_budget:ratio",
            "expr": f"vector({spec.objective.budget_decimal})",
            "labels": _labels(spec),
        },
        {"record": "slo:time_period:days", "expr": f"vector({days:g})", "labels": _labels(spec)},
        {
            "record": "slo:current_burn_rate:ratio",
            "expr": f"slo:sli_error:ratio_rate5m{{{sel}}}\n/ {on}\nslo:error_budget:ratio{{{sel}}}\n",
            "labels": _labels(spec),
        },
        {
            "record": "slo:period_burn_rate:ratio",
            "expr": f"slo:sli_error:ratio_rate{period}{{{sel}}}\n/ {on}\nslo:error_budget:ratio{{{sel}}}\n",
            "labels": _labels(spec),
        },
        {
            "record": "slo:period_error_budget_remaining:ratio",
            "expr": f"1 - slo:period_burn_rate:ratio{{{sel}}}",
            "labels": _labels(spec),
        },
        {
            "record": "sloth_slo_info",
            "expr": "vector(1)",
            "labels": {
                **_labels(spec),
                "sloth_mode": MODE,
                "sloth_objective": str(spec.objective.percent),
                "sloth_spec": SLOTH_SPEC,
                "sloth_version": "sloapi",
            },
        },
    ]


def _tier_expr(spec: SLOSpec, tier: BurnTier) -> str:
    """Both windows of `tier` above its threshold (and, with the low-traffic guard, at least
    `min_events` events in the long window)."""
    sel = _selector(spec)
    threshold = tier.threshold_expr(spec.objective.budget_decimal)
    conditions = [
        f"max(slo:sli_error:ratio_rate{tier.short_window}{{{sel}}} > {threshold}) without (sloth_window)",
        f"max(slo:sli_error:ratio_rate{tier.long_window}{{{sel}}} > {threshold}) without (sloth_window)",
    ]
    assert spec.alerting is not None
    if spec.alerting.min_events:
        conditions.append(
            f"max({TRAFFIC}{tier.long_window}{{{sel}}} >= {spec.alerting.min_events}) without (sloth_window)"
        )
    return "(\n    " + "\n    and\n    ".join(conditions) + "\n)"


def _traffic_rules(spec: SLOSpec) -> list[dict[str, Any]]:
    """Events in each tier's long window, for the low-traffic guard (`alerting.min_events`)."""
    longs = sorted({(t.long_seconds, t.long_window) for t in spec_tiers(spec)})
    return [
        {
            "record": f"{TRAFFIC}{name}",
            "expr": f"({spec.queries(name)['total']}) * {seconds}\n",
            "labels": _labels(spec, sloth_window=name),
        }
        for seconds, name in longs
    ]


def _alert_rules(spec: SLOSpec, warn: Callable[[str], None]) -> list[dict[str, Any]]:
    sel = _selector(spec)
    alerting = spec.alerting
    assert alerting is not None
    budget = spec.objective.budget_decimal
    rules: list[dict[str, Any]] = []
    tiers = spec_tiers(spec)
    for severity in ("page", "ticket"):
        chosen = [t for t in tiers if t.severity == severity]
        if not chosen:
            continue
        for tier in chosen:
            if not tier.can_fire:
                warn(
                    f"{spec.source}: SLO {spec.id}: {severity} tier {tier.long_window}/"
                    f"{tier.short_window} at {tier.factor}x cannot fire "
                    f"(needs an error ratio above {tier.factor * budget})"
                )
        parts = [_tier_expr(spec, tier) for tier in chosen]
        labels = {
            **alerting.labels,
            **(alerting.page_labels if severity == "page" else alerting.ticket_labels),
            "sloth_severity": severity,
        }
        windows = ", ".join(f"{t.long_window}/{t.short_window} at {t.factor}x" for t in chosen)
        guard = (
            f" with at least {alerting.min_events} events in the long window" if alerting.min_events else ""
        )
        annotations = {
            "title": f"({severity}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}} "
            "SLO error budget burn rate is too fast.",
            "summary": "{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget "
            "burn rate is over the expected.",
            "description": f"SLO {spec.id} (objective {spec.objective.percent}%, {spec.window.name} window) "
            f"burns its error budget too fast in both windows of a {severity} tier ({windows}){guard}; "
            "its figures: GET /api/v1/slos/{{$labels.sloth_id}}/status.",
            "runbook_url": RUNBOOK,
            **alerting.annotations,
            **(alerting.page_annotations if severity == "page" else alerting.ticket_annotations),
        }
        rules.append(
            {
                "alert": alerting.name,
                "expr": "\nor\n".join(parts) + "\n",
                "labels": labels,
                "annotations": annotations,
            }
        )
    rules.append(
        {
            "alert": "SLOMetricMissing",
            "expr": f"absent(slo:sli_error:ratio_rate5m{{{sel}}})",
            "for": "15m",
            "labels": {
                **alerting.labels,
                **alerting.ticket_labels,
                **_id_labels(spec),
                "sloth_severity": "ticket",
            },
            "annotations": {
                "summary": f"No SLI data for SLO {spec.id}: its metrics are missing.",
                "description": f"slo:sli_error:ratio_rate5m of {spec.id} has been absent for 15 minutes: "
                "its SLI queries match no series (an exporter down, a metric or label renamed), so its "
                "error budget cannot be computed.",
                "runbook_url": RUNBOOK,
            },
        }
    )
    rules.append(
        {
            "alert": "SLOErrorBudgetExhausted",
            "expr": f"slo:period_error_budget_remaining:ratio{{{sel}}} <= 0",
            "for": "5m",
            "labels": {
                **alerting.labels,
                **alerting.ticket_labels,
                **_id_labels(spec),
                "sloth_severity": "ticket",
            },
            "annotations": {
                "summary": f"SLO {spec.id} has spent its whole error budget over its period.",
                "description": f"SLO {spec.id} (objective {spec.objective.percent}%) has no error budget "
                f"left over its {spec.window.name} window: any further error breaks the objective.",
                "runbook_url": RUNBOOK,
            },
        }
    )
    return rules


def generate_groups(
    specs: Iterable[SLOSpec],
    *,
    interval_seconds: int = 30,
    warn: Callable[[str], None] = lambda _msg: None,
) -> list[dict[str, Any]]:
    """Rule groups for the rolling-window specs (calendar-window SLOs get none; warned).

    Per SLO: `sloth-slo-sli-recordings-<id>` (5m..3d ratios), `sloapi-slo-period-recordings-<id>`
    (traffic-weighted period ratio, coverage, period events), `sloth-slo-meta-recordings-<id>`,
    `sloapi-slo-traffic-recordings-<id>` (only with the low-traffic guard `alerting.min_events`:
    events per long window), `sloth-slo-alerts-<id>`.
    """
    groups: list[dict[str, Any]] = []
    for spec in specs:
        if spec.window.kind != "rolling":
            warn(f"{spec.source}: SLO {spec.id}: calendar window, no rules generated")
            continue
        period = format_duration(spec.window.seconds)
        groups.append(
            {
                "name": f"sloth-slo-sli-recordings-{spec.id}",
                "interval": f"{interval_seconds}s",
                "rules": _sli_rules(spec, period),
            }
        )
        groups.append(
            {
                "name": f"sloapi-slo-period-recordings-{spec.id}",
                "interval": f"{interval_seconds}s",
                "rules": _period_rules(spec, period, interval_seconds),
            }
        )
        groups.append({"name": f"sloth-slo-meta-recordings-{spec.id}", "rules": _meta_rules(spec, period)})
        if spec.alerting is not None and spec.alerting.min_events:
            groups.append(
                {
                    "name": f"sloapi-slo-traffic-recordings-{spec.id}",
                    "interval": f"{interval_seconds}s",
                    "rules": _traffic_rules(spec),
                }
            )
        groups.append({"name": f"sloth-slo-alerts-{spec.id}", "rules": _alert_rules(spec, warn)})
    return groups


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)


def render_rules(groups: list[dict[str, Any]], header: str = "") -> str:
    """YAML text of a rule file (`groups:`), deterministic, with an optional comment header."""
    body = yaml.dump({"groups": groups}, Dumper=_Dumper, sort_keys=False, width=10_000, allow_unicode=True)
    lines = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return lines + body
