"""alertmanager/alertmanager.yml: amtool's config check and one routing assertion per route."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "alertmanager" / "alertmanager.yml"

# (labels of an alert, receiver it must reach)
ROUTES = [
    ({"alertname": "Watchdog", "severity": "info", "service": "monitoring"}, "heartbeat"),
    ({"alertname": "PatroniNoLeader", "severity": "critical", "cluster": "demo"}, "oncall-page"),
    ({"alertname": "HaproxyServerDown", "severity": "warning", "cluster": "demo"}, "team-email"),
    ({"alertname": "HaproxyServerMaintenance", "severity": "info", "cluster": "demo"}, "null"),
    # anything without a known severity still reaches people
    ({"alertname": "SomethingNew", "cluster": "demo"}, "team-email"),
]


def _amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["amtool", *args], capture_output=True, text=True, cwd=REPO, timeout=60, check=False
    )


def test_amtool_check_config() -> None:
    res = _amtool("check-config", str(CONFIG))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS" in res.stdout
    assert "1 templates" in res.stdout


@pytest.mark.parametrize(("labels", "receiver"), ROUTES, ids=[r for _, r in ROUTES])
def test_route(labels: dict[str, str], receiver: str) -> None:
    pairs = [f"{k}={v}" for k, v in labels.items()]
    res = _amtool(
        "config",
        "routes",
        "test",
        f"--config.file={CONFIG}",
        f"--verify.receivers={receiver}",
        *pairs,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip() == receiver


def test_a_wrong_receiver_is_detected() -> None:
    res = _amtool(
        "config",
        "routes",
        "test",
        f"--config.file={CONFIG}",
        "--verify.receivers=null",
        "alertname=PatroniNoLeader",
        "severity=critical",
    )
    assert res.returncode != 0


def test_every_route_and_receiver_is_asserted() -> None:
    cfg = yaml.safe_load(CONFIG.read_text())
    routed = {r["receiver"] for r in cfg["route"]["routes"]} | {cfg["route"]["receiver"]}
    declared = {r["name"] for r in cfg["receivers"]}
    assert routed == declared
    assert {receiver for _, receiver in ROUTES} == declared


def test_grouping_and_timing_by_severity() -> None:
    cfg = yaml.safe_load(CONFIG.read_text())
    route = cfg["route"]
    assert route["group_by"] == ["alertname", "cluster", "service"]
    by_receiver = {r["receiver"]: r for r in route["routes"]}
    critical, warning = by_receiver["oncall-page"], by_receiver["team-email"]
    seconds = {"s": 1, "m": 60, "h": 3600}

    def dur(text: str) -> int:
        return int(text[:-1]) * seconds[text[-1]]

    assert dur(critical["group_wait"]) < dur(warning["group_wait"])
    assert dur(critical["repeat_interval"]) < dur(warning["repeat_interval"])


def test_email_receivers_use_our_templates() -> None:
    cfg = yaml.safe_load(CONFIG.read_text())
    emails = [e for r in cfg["receivers"] for e in r.get("email_configs", [])]
    assert len(emails) == 2
    for e in emails:
        assert "nines.email.subject" in e["headers"]["Subject"]
        assert "nines.email.html" in e["html"]
        assert "nines.email.text" in e["text"]


KEEPALIVED_ROUTES = [
    ({"alertname": "KeepalivedSplitBrain", "severity": "critical", "service": "keepalived"}, "oncall-page"),
    ({"alertname": "KeepalivedNoMaster", "severity": "critical", "service": "keepalived"}, "oncall-page"),
    ({"alertname": "KeepalivedDown", "severity": "warning", "target": "lb-b"}, "team-email"),
    ({"alertname": "KeepalivedDown", "severity": "critical", "target": "lb-b"}, "oncall-page"),
]


@pytest.mark.parametrize(
    ("labels", "receiver"),
    KEEPALIVED_ROUTES,
    ids=[f"{lb['alertname']}-{lb['severity']}" for lb, _ in KEEPALIVED_ROUTES],
)
def test_keepalived_routes(labels: dict[str, str], receiver: str) -> None:
    test_route(labels, receiver)


def test_keepalived_down_inhibits_only_its_node_and_not_the_pair_alerts() -> None:
    cfg = yaml.safe_load(CONFIG.read_text())
    rules = [r for r in cfg["inhibit_rules"] if r["source_matchers"] == ['alertname = "KeepalivedDown"']]
    assert len(rules) == 1
    assert rules[0]["equal"] == ["cluster", "target"]
    targets = rules[0]["target_matchers"][0]
    assert "KeepalivedVipMissing" in targets and "KeepalivedBackupCannotTakeOver" in targets
    assert "KeepalivedNoMaster" not in targets and "KeepalivedSplitBrain" not in targets
