"""`sloapi check` and `sloapi rules`: exit codes, messages, generated rules in sync."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sloapi.cli import main
from sloapi.commands.rules import rules_text

REPO = Path(__file__).resolve().parents[2]

SPEC = """\
version: "prometheus/v1"
service: "shop"
slos:
  - name: "checkout"
    objective: {objective}
    sli:
      events:
        error_query: {error}
        total_query: sum(rate(up[{{{{.window}}}}]))
    alerting:
      name: ShopCheckout
"""


def spec_dir(tmp: Path, objective: str = "99.9", error: str = "") -> Path:
    error = error or "sum(rate(up{job='x'}[{{.window}}]))"
    (tmp / "shop.yml").write_text(SPEC.format(objective=objective, error=error), encoding="utf-8")
    return tmp


def test_check_accepts_the_shipped_specs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(REPO / "slos"), "--offline"]) == 0
    assert capsys.readouterr().out.startswith("OK: 6 SLOs in ")


def test_check_exits_2_naming_file_slo_and_reason(tmp_path: Path) -> None:
    spec_dir(tmp_path, objective="100")
    result = subprocess.run(
        [sys.executable, "-m", "sloapi.cli", "check", str(tmp_path), "--offline"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        f"sloapi check: {tmp_path / 'shop.yml'}:5: SLO shop-checkout: objective 100 is outside (0, 100)"
    )


def test_check_asks_prometheus_about_promql(
    tmp_path: Path, prom_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec_dir(tmp_path, error="sum(rate(up[{{.window}}]) by")
    assert main(["check", str(tmp_path), "--prometheus-url", prom_url]) == 2
    err = capsys.readouterr().err
    assert 'SLO shop-checkout: error query rejected by Prometheus: invalid parameter "query": ' in err
    spec_dir(tmp_path)
    assert main(["check", str(tmp_path), "--prometheus-url", prom_url]) == 0
    assert f"PromQL accepted by {prom_url}" in capsys.readouterr().out


def test_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SLOAPI_REPORT_TIMEZONE", "Mars/Olympus")
    assert main(["check", str(REPO / "slos"), "--offline"]) == 2
    assert "SLOAPI_REPORT_TIMEZONE" in capsys.readouterr().err


def test_committed_rules_are_in_sync() -> None:
    committed = (REPO / "rules" / "slo.rules.yml").read_text(encoding="utf-8")
    assert committed == rules_text(REPO / "slos", 30, display="slos"), (
        "run: sloapi rules slos --out rules/slo.rules.yml"
    )


def test_committed_rules_pass_promtool() -> None:
    result = subprocess.run(
        ["promtool", "check", "rules", str(REPO / "rules" / "slo.rules.yml")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 126 rules found" in result.stdout


def test_rules_names_tiers_and_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_dir(tmp_path, objective="90")
    assert main(["rules", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    groups = yaml.safe_load(out)["groups"]
    records = [r["record"] for g in groups for r in g["rules"] if "record" in r]
    for name in (
        *(f"slo:sli_error:ratio_rate{w}" for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")),
        "slo:sli_error:ratio_rate30d", "slo:objective:ratio", "slo:error_budget:ratio",
        "slo:current_burn_rate:ratio", "slo:period_burn_rate:ratio",
        "slo:period_error_budget_remaining:ratio", "sloth_slo_info",
    ):  # fmt: skip
        assert name in records
    alerts = [r for g in groups for r in g["rules"] if "alert" in r]
    page, ticket, missing, exhausted = alerts
    assert page["labels"]["sloth_severity"] == "page"
    assert "(14.4 * 0.1)" in page["expr"] and "(6 * 0.1)" in page["expr"]
    assert "(3 * 0.1)" in ticket["expr"] and "(1 * 0.1)" in ticket["expr"]
    assert missing["alert"] == "SLOMetricMissing"
    assert exhausted["alert"] == "SLOErrorBudgetExhausted"
    # 14.4 x 10 % = 144 % errors: that tier cannot fire, say so
    assert "page tier 1h/5m at 14.4x cannot fire" in err
    assert "6h/30m" not in err


def test_factors_scale_with_the_period(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_dir(tmp_path)
    text = (tmp_path / "shop.yml").read_text().replace("    objective", "    window: 7d\n    objective")
    (tmp_path / "shop.yml").write_text(text)
    assert main(["rules", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # 2 % of a 7-day budget in 1 h is a burn of 0.02 x 168 = 3.36
    assert "(3.36 * 0.001)" in out
    assert "slo:sli_error:ratio_rate7d" in out


def test_serve_refuses_an_invalid_spec(tmp_path: Path) -> None:
    spec_dir(tmp_path, objective="150")
    result = subprocess.run(
        [sys.executable, "-m", "sloapi.cli", "serve", "--slos", str(tmp_path), "--port", "1"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "SLO shop-checkout: objective 150 is outside (0, 100)" in result.stderr
