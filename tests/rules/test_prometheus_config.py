"""prometheus/prometheus.yml: promtool's check and the scrape contract of docs/architecture.md."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from stack.ports import PORTS

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "prometheus" / "prometheus.yml"
JOBS = {
    "prometheus": ["prometheus"],
    "alertmanager": ["alertmanager"],
    "etcd": ["etcd-1", "etcd-2", "etcd-3"],
    "haproxy": ["haproxy-exporter"],
    "haproxy-promex": ["haproxy-a.promex", "haproxy-b.promex"],
    "pgbouncer": ["pgbouncer-exporter"],
    "keepalived": ["keepalived-exporter"],
    "patroni": ["patroni-exporter"],
    "patroni-rest": ["patroni-1", "patroni-2", "patroni-3"],
    "app": ["app-1", "app-2", "app-3"],
    "sloapi": ["sloapi", "sloapi-2"],  # the second only with --sloapi-instances 2
}


def _jobs() -> dict[str, dict[str, Any]]:
    cfg = yaml.safe_load(CONFIG.read_text())
    return {job["job_name"]: job for job in cfg["scrape_configs"]}


def test_promtool_check_config() -> None:
    res = subprocess.run(
        ["promtool", "check", "config", str(CONFIG)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS" in res.stdout
    # the rule files it names are checked too
    assert "haproxy.rules.yml" in res.stdout


def test_jobs_target_the_port_table() -> None:
    jobs = _jobs()
    assert jobs.keys() == JOBS.keys()
    for name, ports in JOBS.items():
        targets = [t for group in jobs[name]["static_configs"] for t in group["targets"]]
        assert targets == [f"127.0.0.1:{PORTS[p]}" for p in ports], name


def test_every_job_has_cluster_and_component_labels() -> None:
    for name, job in _jobs().items():
        for group in job["static_configs"]:
            assert group["labels"]["cluster"] == "demo", name
            assert group["labels"]["component"], name


def test_our_multi_target_exporters_keep_their_targets_labels() -> None:
    jobs = _jobs()
    assert [n for n, job in jobs.items() if job.get("honor_labels")] == [
        "haproxy",
        "pgbouncer",
        "keepalived",
        "patroni",
    ]


def test_alerting_and_rules_are_plain() -> None:
    cfg = yaml.safe_load(CONFIG.read_text())
    assert cfg["rule_files"] == ["../rules/*.yml"]
    targets = cfg["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == [f"127.0.0.1:{PORTS['alertmanager']}"]
