"""SLOs and error budgets: Sloth-compatible recording rules and the SLO service's own figures."""

from __future__ import annotations

from builders import Item, Row, board, q, query_variable, stat_panel, timeseries_panel
from common import ANNOTATIONS, instance
from grafana_foundation_sdk.models.dashboard import Dashboard

SLO = 'cluster=~"$cluster", sloth_service=~"$service"'
API = 'job="sloapi", cluster=~"$cluster", instance=~"$instance", service=~"$service"'
BUDGET = [(None, "red"), (0.25, "orange"), (0.5, "green")]


def build() -> Dashboard:
    """The SLO / error budget dashboard."""
    items: list[Item] = [
        Row("Budgets"),
        stat_panel(
            "Error budget remaining",
            "Share of each SLO's error budget left over its period (traffic-weighted).",
            "percentunit",
            [q(f"slo:period_error_budget_remaining:ratio{{{SLO}}}", "{{sloth_id}}")],
            width=8,
            thresholds=BUDGET,
        ),
        stat_panel(
            "SLI over the period",
            "Share of good events over the SLO period, against the objective.",
            "percentunit",
            [q(f"1 - slo:sli_error:ratio_rate30d{{{SLO}}}", "{{sloth_id}}")],
            width=8,
            thresholds=[(None, "red"), (0.999, "green")],
        ),
        stat_panel(
            "Time to exhaustion",
            "Time until the error budget is gone at the current (1h) burn rate, from the SLO "
            "service; absent when the budget is not burning.",
            "s",
            [q(f"sloapi_slo_time_to_exhaustion_seconds{{{API}}}", "{{slo_id}}")],
            width=8,
            thresholds=[(None, "red"), (86400, "orange"), (7 * 86400, "green")],
        ),
        timeseries_panel(
            "Error budget remaining over time",
            "The budget burn-down of each SLO over its period.",
            "percentunit",
            [q(f"slo:period_error_budget_remaining:ratio{{{SLO}}}", "{{sloth_id}}")],
            width=12,
            thresholds=BUDGET,
        ),
        timeseries_panel(
            "Burn rate (1h)",
            "How fast each SLO spends its budget: 1 uses it up exactly over the period; pages at "
            "14.4 (1h) and 6 (6h).",
            "short",
            [q(f"slo:current_burn_rate:ratio{{{SLO}}}", "{{sloth_id}}")],
            width=12,
            min=0,
            thresholds=[(None, "green"), (1, "orange"), (14.4, "red")],
        ),
        Row("Error ratios"),
        timeseries_panel(
            "SLI error ratio by window",
            "Error ratio of each SLO over 5 minutes, 1 hour and 6 hours (the alert windows).",
            "percentunit",
            [q(f"slo:sli_error:ratio_rate{w}{{{SLO}}}", f"{{{{sloth_id}}}} {w}") for w in ("5m", "1h", "6h")],
            width=12,
            min=0,
        ),
        timeseries_panel(
            "Burn rates from the SLO service",
            "Burn rates the SLO service computes from raw data, per window.",
            "short",
            [q(f"sloapi_slo_burn_rate{{{API}}}", "{{slo_id}} {{burn_window}}")],
            width=12,
            min=0,
        ),
        timeseries_panel(
            "Data coverage",
            "Share of the SLO window that has samples; below 99 % the figures are partial.",
            "percentunit",
            [q(f"sloapi_slo_data_coverage_ratio{{{API}}}", "{{slo_id}}")],
            width=12,
            min=0,
            max=1,
            thresholds=[(None, "red"), (0.99, "green")],
        ),
        stat_panel(
            "Firing SLO alerts",
            "Burn-rate alerts currently firing, by severity.",
            "none",
            [
                q(
                    f'sum by (severity) (ALERTS{{alertstate="firing", {SLO}}}) or on () vector(0)',
                    "{{severity}}",
                )
            ],
            width=12,
            thresholds=[(None, "green"), (1, "red")],
        ),
    ]
    return board(
        "nines-slo",
        "nines / SLOs & error budgets",
        "Error budgets, burn rates and SLIs of the stack's SLOs (99.9 % over 30 days).",
        items,
        variables=[
            query_variable("cluster", "Cluster", "label_values(sloth_slo_info, cluster)"),
            instance("sloapi_slos"),
            query_variable(
                "service",
                "Service",
                'label_values(sloth_slo_info{cluster=~"$cluster"}, sloth_service)',
                multi=True,
                include_all=True,
            ),
        ],
        annotations=ANNOTATIONS,
        tags=["slo"],
    )
