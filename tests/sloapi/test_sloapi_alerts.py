"""The committed SLO rules fire as designed (`promtool test rules` evaluates them for real)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
WEB = {"job": "haproxy", "proxy": "web", "cluster": "demo", "target": "haproxy-a"}
SEL = ",".join(f'{k}="{v}"' for k, v in WEB.items())
COMMON = {
    "cluster": "demo", "component": "haproxy", "service": "web",
    "sloth_id": "web-availability", "sloth_service": "web", "sloth_slo": "availability",
}  # fmt: skip
ANNOTATIONS = {
    "runbook_url": "docs/runbooks.md#slo-budget-burn",
    "summary": "web availability SLO error budget burn rate is over the expected.",
}


TIERS = {"page": "1h/5m at 14.4x, 6h/30m at 6x", "ticket": "1d/2h at 3x, 3d/6h at 1x"}


def alert(severity: str, label: str) -> dict:
    title = f"({severity}) web availability SLO error budget burn rate is too fast."
    description = (
        f"SLO web-availability (objective 99.9%, 30d window) burns its error budget too fast in both "
        f"windows of a {severity} tier ({TIERS[severity]}); its figures: "
        "GET /api/v1/slos/web-availability/status."
    )
    return {
        "exp_labels": {**COMMON, "severity": label, "sloth_severity": severity},
        "exp_annotations": {**ANNOTATIONS, "title": title, "description": description},
    }


def test_web_budget_burn_pages_and_tickets(tmp_path: Path) -> None:
    # an hour of 600 good requests a minute, then everything fails
    tests = {
        "rule_files": [str(REPO / "rules" / "slo.rules.yml")],
        "evaluation_interval": "30s",
        "tests": [
            {
                "interval": "30s",
                "input_series": [
                    {
                        "series": f'haproxy_backend_http_responses_total{{{SEL},code="2xx"}}',
                        "values": "0+300x120 36000x120",
                    },
                    {
                        "series": f'haproxy_backend_http_responses_total{{{SEL},code="5xx"}}',
                        "values": "0x120 0+300x120",
                    },
                ],
                "alert_rule_test": [
                    {"eval_time": "55m", "alertname": "WebAvailabilityBudgetBurn", "exp_alerts": []},
                    {
                        "eval_time": "70m",
                        "alertname": "WebAvailabilityBudgetBurn",
                        "exp_alerts": [alert("page", "critical"), alert("ticket", "warning")],
                    },
                ],
                "promql_expr_test": [
                    {
                        "expr": 'round(slo:sli_error:ratio_rate1h{sloth_id="web-availability"} * 35700)',
                        "eval_time": "70m",
                        "exp_samples": [
                            {
                                "labels": '{cluster="demo", '
                                'component="haproxy", sloth_id="web-availability", '
                                'sloth_service="web", sloth_slo="availability", '
                                'sloth_window="1h"}',
                                # 5xx from 0 at 60m30s to 5,700 at 70m; 2xx +30,000 to 60m
                                "value": 5700,
                            }
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "slo.test.yml"
    path.write_text(yaml.safe_dump(tests, sort_keys=False), encoding="utf-8")
    result = subprocess.run(
        ["promtool", "test", "rules", str(path)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
