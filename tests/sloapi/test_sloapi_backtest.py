"""The alert backtest: the engine's firing equals what Prometheus's own rule evaluation fires
(`promtool test rules` on the generated rules and the same counters), and its delays are the
ones the tiers' windows imply."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sloapi.engine.backtest import tier_firing
from sloapi.engine.steps import StepArrays, StepSeries
from sloapi.errors import SpecError
from sloapi.rules import generate_groups, render_rules
from sloapi.specs import SLOSpec, load_dir
from sloapi.status.backtest import BacktestOptions, backtest_steps, tier_windows

MIN = 60
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SPEC = """\
version: "prometheus/v1"
service: "{service}"
slos:
  - name: "availability"
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(req_total{{svc="{series}", code="5xx"}}[{{{{.window}}}}]))
        total_query: sum(rate(req_total{{svc="{series}"}}[{{{{.window}}}}]))
    alerting:
      name: {alert}
{guard}"""


def spec_for(folder: Path, service: str, series: str, alert: str, min_events: int = 0) -> SLOSpec:
    folder.mkdir(parents=True, exist_ok=True)
    guard = f"      min_events: {min_events}\n" if min_events else ""
    path = folder / f"{service}.yml"
    path.write_text(SPEC.format(service=service, series=series, alert=alert, guard=guard), encoding="utf-8")
    (spec,) = [s for s in load_dir(folder) if s.service == service]
    return spec


def steps_of(errors: np.ndarray, total: np.ndarray) -> StepArrays:
    index = pd.DatetimeIndex([T0 + timedelta(minutes=k + 1) for k in range(len(total))])
    series = StepSeries("events", MIN, index, errors=pd.Series(errors, index), total=pd.Series(total, index))
    return series.arrays()


def outage(minutes: int, start: int, length: int, ratio: float, rate: float = 600.0) -> tuple:
    total = np.full(minutes, rate)
    errors = np.zeros(minutes)
    errors[start : start + length] = np.round(rate * ratio)
    return errors, total


def test_a_full_outage_is_caught_with_the_delays_the_windows_imply(tmp_path: Path) -> None:
    spec = spec_for(tmp_path, "web", "web", "WebBurn")
    start = 4 * 1440  # after the 3-day lead-in
    errors, total = outage(5 * 1440, start, 20, 1.0)
    steps = steps_of(errors, total)
    incidents, results = backtest_steps(steps, spec, T0 + timedelta(days=3), BacktestOptions())
    (incident,) = incidents
    assert incident.start == T0 + timedelta(minutes=start)
    assert incident.duration_seconds == 20 * MIN
    # a full outage crosses threshold x long window after threshold x long / 1 seconds; the
    # first step ending after it fires: 14.4x0.001x60 min = 0.86 -> 1 min; 6x0.001x360 = 2.16
    # -> 3 min; 3x0.001x1440 = 4.32 -> 5 min; 1x0.001x4320 = 4.32 -> 5 min
    delays = {r.tier.name: r.detections[0].delay_seconds for r in results}
    assert delays == {"page 1h/5m": 60, "page 6h/30m": 180, "ticket 1d/2h": 300, "ticket 3d/6h": 300}
    page = results[0]
    assert page.caught == 1 and page.missed == 0 and page.alerts_without_incident == []
    # 1h/5m fires from minute 1 of the outage until the 5m window holds one outage minute (0.2 >
    # 0.0144): 20 minutes in, 4 after
    assert page.firing_seconds == 24 * MIN
    assert page.firing == [
        (T0 + timedelta(minutes=start + 1), T0 + timedelta(minutes=start + 24)),
    ]


def test_a_clean_month_pages_nobody(tmp_path: Path) -> None:
    spec = spec_for(tmp_path, "web", "web", "WebBurn")
    errors, total = outage(33 * 1440, 0, 0, 0.0)
    errors[::7] = 1  # one error every 7 minutes: 0.024 % against a 0.1 % budget
    incidents, results = backtest_steps(
        steps_of(errors, total), spec, T0 + timedelta(days=3), BacktestOptions()
    )
    assert incidents == []
    assert [(r.firing_seconds, r.alerts_without_incident) for r in results] == [(0.0, [])] * 4


def test_a_slow_burn_below_the_page_factors_tickets_without_an_incident(tmp_path: Path) -> None:
    spec = spec_for(tmp_path, "web", "web", "WebBurn")
    errors, total = outage(6 * 1440, 4 * 1440, 1440, 0.004)  # 4x for a day: no incident at 10x
    incidents, results = backtest_steps(
        steps_of(errors, total), spec, T0 + timedelta(days=3), BacktestOptions()
    )
    assert incidents == []
    by_name = {r.tier.name: r for r in results}
    assert by_name["page 1h/5m"].firing == [] and by_name["page 6h/30m"].firing == []
    assert len(by_name["ticket 1d/2h"].alerts_without_incident) == 1


def test_the_guard_silences_a_low_traffic_burst_not_an_outage(tmp_path: Path) -> None:
    guarded = spec_for(tmp_path, "quiet", "quiet", "QuietBurn", min_events=1000)
    plain = spec_for(tmp_path, "loud", "quiet", "LoudBurn")
    # 2 requests a minute (120 an hour, 720 in 6 hours, under the guard's 1,000); 6 fail in 3 minutes
    errors, total = outage(5 * 1440, 4 * 1440, 3, 1.0, rate=2.0)
    steps = steps_of(errors, total)
    since = T0 + timedelta(days=3)
    _inc, plain_results = backtest_steps(steps, plain, since, BacktestOptions())
    _inc, guarded_results = backtest_steps(steps, guarded, since, BacktestOptions())
    assert plain_results[0].caught == 1  # without the guard the burst pages
    pages = [r for r in guarded_results if r.tier.severity == "page"]
    assert [r.firing for r in pages] == [[], []]
    # the same guard on a busy service's outage changes nothing
    busy = spec_for(tmp_path, "busy", "busy", "BusyBurn", min_events=1000)
    steps = steps_of(*outage(5 * 1440, 4 * 1440, 20, 1.0))
    _inc, results = backtest_steps(steps, busy, since, BacktestOptions())
    assert [r.detections[0].delay_seconds for r in results] == [60, 180, 300, 300]


def test_tiers_are_the_rules_tiers(tmp_path: Path) -> None:
    spec = spec_for(tmp_path, "web", "web", "WebBurn", min_events=100)
    tiers = tier_windows(spec)
    assert [(t.name, t.short_seconds, t.long_seconds, t.min_events) for t in tiers] == [
        ("page 1h/5m", 300, 3600, 100),
        ("page 6h/30m", 1800, 21600, 100),
        ("ticket 1d/2h", 7200, 86400, 100),
        ("ticket 3d/6h", 21600, 259200, 100),
    ]
    assert tiers[0].threshold == 14.4 * 0.001
    text = yaml.safe_dump(generate_groups([spec]))
    assert "(14.4 * 0.001)" in text and "slo:sli_total_events:increase1h" in text


# ---- the cross-check against Prometheus's own evaluation (promtool) -------------------------

HOURS = 30
SERIES = {"web": "web", "quiet": "quiet", "loud": "quiet"}


def alert_annotations(groups: list[dict], spec: SLOSpec) -> dict[str, dict[str, str]]:
    """The burn alerts' annotations per severity, `$labels` templates expanded."""
    values = {"sloth_id": spec.id, "sloth_service": spec.service, "sloth_slo": spec.name}
    out = {}
    for group in groups:
        for rule in group["rules"]:
            if rule.get("alert") == spec.alerting.name:  # type: ignore[union-attr]
                out[rule["labels"]["sloth_severity"]] = {
                    k: re.sub(r"\{\{\$labels\.(\w+)\}\}", lambda m: values[m.group(1)], v)
                    for k, v in rule["annotations"].items()
                }
    return out


def sample_history() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-minute (errors, total) of three services over `HOURS` hours."""
    minutes = HOURS * 60
    day = np.where((np.arange(minutes) // 60) % 24 < 12, 900.0, 300.0)
    web_err = np.zeros(minutes)
    web_err[6 * 60 : 6 * 60 + 20] = day[6 * 60 : 6 * 60 + 20]  # 20 minutes down
    web_err[14 * 60 : 16 * 60] = np.round(0.05 * day[14 * 60 : 16 * 60])  # 2 hours at 5 %
    web_err[20 * 60 : 27 * 60] = np.round(0.004 * day[20 * 60 : 27 * 60])  # a slow 4x burn
    quiet_tot = np.full(minutes, 2.0)
    quiet_err = np.zeros(minutes)
    quiet_err[10 * 60 : 10 * 60 + 3] = 2.0
    return {"web": (web_err, day), "quiet": (quiet_err, quiet_tot)}


def promtool_series(name: str, errors: np.ndarray, total: np.ndarray) -> list[dict[str, str]]:
    """Counters sampled every minute from a large base (so `rate`'s extrapolation to zero never
    applies and both series extrapolate alike), in promtool's notation."""
    out = []
    for code, per_minute in (("5xx", errors), ("2xx", total - errors)):
        values = np.concatenate([[1e6], 1e6 + np.cumsum(per_minute)])
        out.append(
            {
                "series": f'req_total{{svc="{name}", code="{code}"}}',
                "values": " ".join(f"{v:.0f}" for v in values),
            }
        )
    return out


def test_firing_equals_promtool(tmp_path: Path) -> None:
    specs = [
        spec_for(tmp_path, "web", "web", "WebBurn"),
        spec_for(tmp_path, "quiet", "quiet", "QuietBurn", min_events=1000),
        spec_for(tmp_path, "loud", "quiet", "LoudBurn"),
    ]
    history = sample_history()
    rules = tmp_path / "slo.rules.yml"
    rules_groups = generate_groups(specs, interval_seconds=60)
    rules.write_text(yaml.safe_dump({"groups": rules_groups}), encoding="utf-8")
    series = [s for name, (err, tot) in history.items() for s in promtool_series(name, err, tot)]
    checks = []
    fired = 0
    paged: dict[str, bool] = {}
    for spec in specs:
        steps = steps_of(*history[SERIES[spec.service]])
        by_severity = {sev: np.zeros(len(steps.index), dtype=bool) for sev in ("page", "ticket")}
        for tier in tier_windows(spec):
            by_severity[tier.severity] |= tier_firing(steps, tier)
        annotations = alert_annotations(rules_groups, spec)
        paged[spec.service] = bool(by_severity["page"].any())
        ids = {"sloth_id": spec.id, "sloth_service": spec.service, "sloth_slo": "availability"}
        for minute in range(1, HOURS * 60 + 1):
            expected = [sev for sev in ("page", "ticket") if by_severity[sev][minute - 1]]
            fired += len(expected)
            checks.append(
                {
                    "eval_time": f"{minute}m",
                    "alertname": spec.alerting.name,  # type: ignore[union-attr]
                    "exp_alerts": [
                        {"exp_labels": {**ids, "sloth_severity": sev}, "exp_annotations": annotations[sev]}
                        for sev in expected
                    ],
                }
            )
    assert fired > 100  # the sample does fire (pages and tickets), not only stays quiet
    # the guard keeps the quiet burst from paging; unguarded, the same burst pages
    assert paged == {"web": True, "quiet": False, "loud": True}
    test = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        # recordings before alerts at each instant (promtool's default is by group name, which
        # puts sloth-slo-alerts before sloth-slo-sli-recordings: alerts one interval late)
        "group_eval_order": sorted((g["name"] for g in rules_groups), key=lambda n: "alerts" in n),
        "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": checks}],
    }
    path = tmp_path / "backtest.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False, width=10**9), encoding="utf-8")
    result = subprocess.run(
        ["promtool", "test", "rules", str(path)], capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]


def test_the_guard_is_off_by_default_and_sloth_output_stays_identical(tmp_path: Path) -> None:
    plain = render_rules(generate_groups([spec_for(tmp_path / "a", "web", "web", "WebBurn")]))
    zero = SPEC.format(service="web", series="web", alert="WebBurn", guard="      min_events: 0\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "web.yml").write_text(zero, encoding="utf-8")
    assert render_rules(generate_groups(load_dir(tmp_path / "b"))) == plain
    assert "slo:sli_total_events:increase" not in plain
    guarded = generate_groups([spec_for(tmp_path / "c", "web", "web", "WebBurn", min_events=250)])
    (traffic,) = [g for g in guarded if g["name"] == "sloapi-slo-traffic-recordings-web-availability"]
    assert [r["record"] for r in traffic["rules"]] == [
        f"slo:sli_total_events:increase{w}" for w in ("1h", "6h", "1d", "3d")
    ]
    assert traffic["rules"][0]["expr"] == '(sum(rate(req_total{svc="web"}[1h]))) * 3600\n'
    (page,) = [r for g in guarded for r in g["rules"] if r.get("labels", {}).get("sloth_severity") == "page"
               and r.get("alert") == "WebBurn"]  # fmt: skip
    assert page["expr"].count(">= 250) without (sloth_window)") == 2


def test_the_guard_needs_an_events_sli(tmp_path: Path) -> None:
    (tmp_path / "raw.yml").write_text(
        'version: "prometheus/v1"\nservice: "db"\nslos:\n  - name: "up"\n    objective: 99\n'
        "    sli:\n      raw:\n        error_ratio_query: 1 - avg_over_time(up[{{.window}}])\n"
        "    alerting:\n      min_events: 10\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match="min_events needs an events SLI"):
        load_dir(tmp_path)
