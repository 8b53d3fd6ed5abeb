"""The exporter against two real keepalived 2.2.7 nodes in network namespaces (needs root)."""

from __future__ import annotations

import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import Exporter, parse_samples
from keepalived_lab import WEIGHT, Lab

from exporters.core.collect import Collector
from exporters.core.config import Target
from exporters.core.metrics import sample_value
from exporters.keepalived.scrape import KeepalivedScraper
from stack.throwaway import wait_for

pytestmark = pytest.mark.slow
INST = {"iname": "VI_front", "intf": "vrrp0", "vrid": "51"}


def vip(lab: Lab) -> dict[str, str]:
    return {**INST, "ip_address": lab.vip}


def test_one_master_one_backup(lab: Lab, exporter: Exporter) -> None:
    for node, state, priority, present in (("lb-a", 2, 150, 1), ("lb-b", 1, 100, 0)):
        assert exporter.value("keepalived_up", target=node, cluster="lab") == 1
        assert exporter.value("keepalived_vrrp_state", target=node, **vip(lab)) == state
        assert exporter.value("keepalived_vrrp_base_priority", target=node, **INST) == priority
        assert exporter.value("keepalived_vrrp_effective_priority", target=node, **INST) == priority
        assert exporter.value("keepalived_vrrp_vip_present", target=node, **vip(lab)) == present
        assert exporter.value("keepalived_script_status", target=node, name="chk_service") == 1
    assert exporter.value("keepalived_become_master_total", target="lb-a", **INST) == 1
    check = subprocess.run(
        ["promtool", "check", "metrics"], input=exporter.text().encode(), capture_output=True, check=False
    )
    assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr


def test_master_stopped_backup_takes_over(lab: Lab, exporter: Exporter) -> None:
    lab.kill("a", signal.SIGTERM)
    wait_for(lambda: exporter.value("keepalived_vrrp_state", target="lb-b", **vip(lab)) == 2, 10, "b MASTER")
    samples = exporter.samples()
    of_a = {name for name, labels, _ in samples if labels.get("target") == "lb-a"}
    assert of_a == {
        "keepalived_up",
        "keepalived_exporter_scrape_duration_seconds",
        "keepalived_exporter_scrape_errors_total",
    }
    assert exporter.value("keepalived_up", target="lb-a") == 0
    assert exporter.value("keepalived_exporter_scrape_errors_total", target="lb-a", kind="target") >= 1
    assert exporter.value("keepalived_vrrp_vip_present", target="lb-b", **vip(lab)) == 1
    assert exporter.value("keepalived_priority_zero_received_total", target="lb-b", **INST) == 1


def test_vip_removed_by_hand(lab: Lab, exporter: Exporter) -> None:
    """keepalived 2.2.7 notices (netlink), drops to BACKUP and takes MASTER again, adding the VIP
    back about 0.5 s later: a scrape right after the removal sees it missing (on a busy machine a
    scrape may miss that window, so the removal is tried up to 5 times)."""

    def present() -> float | None:
        return exporter.value("keepalived_vrrp_vip_present", target="lb-a", **vip(lab))

    assert present() == 1
    removals = 0
    seen: list[float | None] = []
    while removals < 5 and 0 not in seen:
        wait_for(lambda: lab.vip in lab.vips("a"), 10, "the VIP on a")
        lab.nodes["a"].ip("addr", "del", f"{lab.vip}/24", "dev", lab.intf)
        removals += 1
        seen.append(present())
    assert 0 in seen, seen
    wait_for(lambda: present() == 1, 10, "VIP back")
    assert exporter.value("keepalived_vrrp_state", target="lb-a", **vip(lab)) == 2
    assert exporter.value("keepalived_become_master_total", target="lb-a", **INST) == 1 + removals
    assert lab.vip in lab.vips("a")


def test_failing_track_scripts(lab: Lab, exporter: Exporter) -> None:
    lab.nodes["a"].set_check("weight", False)
    wait_for(lambda: exporter.value("keepalived_vrrp_state", target="lb-b", **vip(lab)) == 2, 10, "b MASTER")
    assert exporter.value("keepalived_vrrp_effective_priority", target="lb-a", **INST) == 150 + WEIGHT
    assert exporter.value("keepalived_vrrp_base_priority", target="lb-a", **INST) == 150
    assert exporter.value("keepalived_script_status", target="lb-a", name="chk_weight") == 0
    assert exporter.value("keepalived_script_status", target="lb-a", name="chk_service") == 1
    assert exporter.value("keepalived_vrrp_state", target="lb-a", **vip(lab)) == 1
    lab.nodes["a"].set_check("service", False)
    wait_for(lambda: exporter.value("keepalived_vrrp_state", target="lb-a", **vip(lab)) == 3, 10, "a FAULT")
    assert exporter.value("keepalived_script_status", target="lb-a", name="chk_service") == 0


@pytest.mark.parametrize("lab", [{}, {"shared_tmp": True}], indirect=True, ids=["private-tmp", "shared-tmp"])
def test_concurrent_scrapes_agree(lab: Lab, exporter: Exporter) -> None:
    """Scrapes at once each get each node's own state, even when both nodes dump to one /tmp."""
    assert (lab.nodes["a"].tmp == lab.nodes["b"].tmp) == lab.shared_tmp

    def states(path: str) -> dict[tuple[str, str], float]:
        samples = parse_samples(exporter.text(path))
        ups = {
            (lb.get("target", ""), n): v
            for n, lb, v in samples
            if n in ("keepalived_up", "keepalived_vrrp_state")
        }
        return ups

    paths = ["/metrics", "/metrics", "/probe?target=lb-a", "/probe?target=lb-b"] * 5
    with ThreadPoolExecutor(len(paths)) as pool:
        answers = list(pool.map(states, paths))
    for path, got in zip(paths, answers, strict=True):
        if path == "/metrics":
            assert got == {
                ("lb-a", "keepalived_up"): 1,
                ("lb-a", "keepalived_vrrp_state"): 2,
                ("lb-b", "keepalived_up"): 1,
                ("lb-b", "keepalived_vrrp_state"): 1,
            }
        else:
            node = path.rsplit("=", 1)[1]
            assert got == {
                (node, "keepalived_up"): 1,
                (node, "keepalived_vrrp_state"): 2 if node == "lb-a" else 1,
            }


def test_not_keepalived_is_down(tmp_path: Path) -> None:
    pid_file = tmp_path / "k.pid"
    pid_file.write_text(f"{os.getpid()}\n")
    gone = tmp_path / "gone.pid"
    gone.write_text("999999999\n")
    targets = [
        Target("self", str(pid_file), 1.0),
        Target("gone", str(gone), 1.0),
        Target("none", "/nonexistent.pid", 1.0),
    ]
    families = Collector("keepalived", targets, KeepalivedScraper().scrape).collect()
    for name in ("self", "gone", "none"):
        assert sample_value(families, "keepalived_up", {"target": name}) == 0
        labels = {"target": name, "kind": "target"}
        assert sample_value(families, "keepalived_exporter_scrape_errors_total", labels) == 1
