"""Lint and unit tests of rules/: promtool's checks plus our own conventions.

`rules/slo.rules.yml` is generated and tested by the SLO service; it is left out here.
"""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RULES = sorted(p for p in (REPO / "rules").glob("*.yml") if p.name != "slo.rules.yml")
TESTS = sorted((REPO / "tests" / "rules").glob("*.test.yml"))
RUNBOOKS = REPO / "docs" / "runbooks.md"

SEVERITIES = {"critical", "warning", "info"}
PREFIXES = (
    "Haproxy", "Pgbouncer", "Patroni", "Etcd", "Keepalived", "Nines", "Prometheus", "Alertmanager",
    "Victoriametrics", "Vmagent", "Vmalert",
)  # fmt: skip
# The heartbeat keeps the conventional name that heartbeat services and routes match on.
UNPREFIXED = {"Watchdog"}
# Alerts without a threshold: they cannot be silent at a boundary.
ALWAYS_FIRING = {"Watchdog"}


def _alert_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            rules.extend(r for r in group["rules"] if "alert" in r)
    return rules


def _unit_tests() -> tuple[set[str], set[str]]:
    """Alert names with at least one firing / one silent expectation in tests/rules."""
    firing: set[str] = set()
    silent: set[str] = set()
    for path in TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else silent).add(case["alertname"])
    return firing, silent


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", *args], capture_output=True, text=True, cwd=REPO, timeout=120, check=False
    )


def test_rule_files_exist() -> None:
    names = {p.name for p in RULES}
    assert {"haproxy.rules.yml", "pgbouncer.rules.yml", "patroni.rules.yml"} <= names
    assert {"etcd.rules.yml", "monitoring.rules.yml", "keepalived.rules.yml"} <= names
    assert "victoriametrics.rules.yml" in names


def test_promtool_check_rules_lint_all() -> None:
    res = _promtool("check", "rules", "--lint=all", "--lint-fatal", *map(str, RULES))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS" in res.stdout


def test_promtool_unit_tests_pass() -> None:
    res = _promtool("test", "rules", *map(str, TESTS))
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("SUCCESS") == len(TESTS)


def test_every_alert_fires_and_stays_silent_in_a_unit_test() -> None:
    firing, silent = _unit_tests()
    names = {r["alert"] for r in _alert_rules()}
    assert names - firing == set(), "alerts without a firing test"
    assert names - ALWAYS_FIRING - silent == set(), "alerts without a silent (boundary) test"
    assert (firing | silent) - names == set(), "tests of alerts that do not exist"


def test_every_unit_test_file_loads_only_our_rules() -> None:
    for path in TESTS:
        files = yaml.safe_load(path.read_text())["rule_files"]
        assert [(path.parent / f).resolve() for f in files] == [
            (REPO / "rules" / path.name.replace(".test.yml", ".rules.yml")).resolve()
        ]


@pytest.mark.parametrize("rule", _alert_rules(), ids=lambda r: f"{r['alert']}-{r['labels']['severity']}")
def test_alert_conventions(rule: dict[str, Any]) -> None:
    name = rule["alert"]
    assert re.fullmatch(r"(?:[A-Z][a-z0-9]+)+", name), "CamelCase"
    assert name in UNPREFIXED or name.startswith(PREFIXES), "component prefix"
    assert rule["labels"]["severity"] in SEVERITIES
    assert rule["labels"]["service"]
    ann = rule["annotations"]
    assert ann["summary"].strip()
    assert "{{" in ann["description"], "templated description"
    assert ann["runbook_url"] == f"docs/runbooks.md#{name.lower()}"


def test_tiers_share_a_name_and_differ_by_severity() -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for rule in _alert_rules():
        by_name[rule["alert"]].append(rule["labels"]["severity"])
    tiered = {n: s for n, s in by_name.items() if len(s) > 1}
    assert len(tiered) >= 10
    for name, severities in tiered.items():
        assert len(set(severities)) == len(severities), name


def _runbook_sections() -> dict[str, str]:
    text = RUNBOOKS.read_text()
    parts = re.split(r"^### (\S+)\n", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_every_alert_has_one_complete_runbook_section() -> None:
    sections = _runbook_sections()
    names = {r["alert"] for r in _alert_rules()}
    assert names - sections.keys() == set(), "alerts without a runbook section"
    assert sections.keys() - names == set(), "runbook sections of unknown alerts"
    for name, body in sections.items():
        for part in ("**Meaning.**", "**First checks.**", "**Fix.**"):
            assert part in body, f"{name}: {part}"


def test_runbook_internal_links_resolve() -> None:
    anchors = {n.lower() for n in _runbook_sections()}
    links = re.findall(r"\]\(#([a-z0-9-]+)\)", RUNBOOKS.read_text())
    assert links
    assert set(links) <= anchors
