"""Parsers and families over the dumps recorded from keepalived 2.2.7."""

from __future__ import annotations

import subprocess

import pytest
from keepalived_fixtures import RECORDED, families, read

from exporters.core.errors import ParseError
from exporters.core.metrics import render, sample_value
from exporters.keepalived.parse import (
    Vip,
    parse_fib_trie,
    parse_if_inet6,
    parse_json,
    parse_scripts,
    parse_track_processes,
    parse_vip,
)

VIP = parse_json(read("master-backup", "a", "keepalived.json"))[0].vips[0].address
VIP6 = parse_json(read("master-backup", "a", "keepalived.json"))[0].evips[0].address
INST = {"iname": "VI_front", "intf": "vrrp0", "vrid": "51"}
PER_VIP = {**INST, "ip_address": VIP}


def value(scenario: str, node: str, name: str, labels: dict[str, str]) -> float | None:
    return sample_value(families(scenario, node), name, labels)


@pytest.mark.parametrize(
    ("scenario", "node", "state", "base", "effective", "present"),
    [
        ("master-backup", "a", 2, 150, 150, 1),
        ("master-backup", "b", 1, 100, 100, 0),
        ("fault", "b", 3, 100, 100, 0),
        ("lowered", "a", 1, 150, 70, 0),
        ("lowered", "b", 2, 100, 100, 1),
    ],
)
def test_state_priorities_and_vip(scenario, node, state, base, effective, present) -> None:
    assert value(scenario, node, "keepalived_vrrp_state", PER_VIP) == state
    assert value(scenario, node, "keepalived_vrrp_base_priority", INST) == base
    assert value(scenario, node, "keepalived_vrrp_effective_priority", INST) == effective
    assert value(scenario, node, "keepalived_vrrp_vip_present", PER_VIP) == present
    v6 = {**INST, "ip_address": VIP6}
    assert value(scenario, node, "keepalived_vrrp_excluded_state", v6) == state
    assert value(scenario, node, "keepalived_vrrp_vip_present", v6) == present


def test_counters_and_transition_time() -> None:
    assert value("master-backup", "a", "keepalived_become_master_total", INST) == 1
    assert value("master-backup", "a", "keepalived_advertisements_sent_total", INST) >= 2
    assert value("master-backup", "b", "keepalived_advertisements_received_total", INST) >= 2
    assert value("master-backup", "b", "keepalived_become_master_total", INST) == 0
    assert value("lowered", "a", "keepalived_release_master_total", INST) == 1
    assert value("lowered", "a", "keepalived_priority_zero_sent_total", INST) == 0
    before = value("master-backup", "a", "keepalived_vrrp_last_transition_timestamp_seconds", INST)
    after = value("lowered", "a", "keepalived_vrrp_last_transition_timestamp_seconds", INST)
    assert 1.7e9 < before < after


def test_scripts() -> None:
    assert parse_scripts(read("fault", "b", "keepalived.data"))[0].name == "chk_service"
    for scenario, node, script, status in [
        ("master-backup", "a", "chk_service", 1),
        ("fault", "b", "chk_service", 0),
        ("fault", "b", "chk_weight", 1),
        ("lowered", "a", "chk_weight", 0),
    ]:
        assert value(scenario, node, "keepalived_script_status", {"name": script}) == status
        assert value(scenario, node, "keepalived_script_state", {"name": script}) == 0


def test_track_processes() -> None:
    """Recorded from a keepalived of the root network namespace (see record.py)."""
    (proc,) = parse_track_processes(read("track-process", "host", "keepalived.data"))
    assert (proc.name, proc.quorum, proc.running) == ("chk_proc", 1, 1)
    assert value("track-process", "host", "keepalived_track_process_status", {"name": "chk_proc"}) == 1
    assert value("track-process", "host", "keepalived_track_process_running", {"name": "chk_proc"}) == 1
    assert value("track-process-gone", "host", "keepalived_track_process_status", {"name": "chk_proc"}) == 0
    assert value("track-process-gone", "host", "keepalived_track_process_running", {"name": "chk_proc"}) == 0
    bridge = parse_json(read("track-process", "host", "keepalived.json"))[0].intf
    host = {"iname": "VI_host", "intf": bridge, "vrid": "52"}
    assert value("track-process", "host", "keepalived_vrrp_effective_priority", host) == 50
    assert value("track-process-gone", "host", "keepalived_vrrp_effective_priority", host) == 30
    assert value("master-backup", "a", "keepalived_track_process_status", {"name": "chk_proc"}) is None


def test_blocks_end_at_the_next_block_or_section() -> None:
    text = (
        " VRRP Script = one\n   Status = BAD\n   State = running\n"
        " VRRP Script = two\n   Status = GOOD\n"
        "------< VRRP Track processes >------\n"
        " VRRP Track process = p\n   Current processes = 3\n   Have quorum = true\n"
        " Name = lo\n   State = UP\n"
    )
    assert [(s.name, s.status, s.state) for s in parse_scripts(text)] == [("one", 0, 1), ("two", 1, None)]
    assert [(p.name, p.quorum, p.running) for p in parse_track_processes(text)] == [("p", 1, 3)]
    assert parse_scripts(" VRRP Script = \n   Status = GOOD\n") == []


def test_no_secret_in_the_output() -> None:
    assert '"auth_data":"nines"' in read("master-backup", "a", "keepalived.json")
    assert "nines" not in render(families("master-backup", "a")).decode()


def test_vip_text() -> None:
    assert parse_vip("198.19.1.100/24 dev vrrp0 scope global set", "eth0") == Vip("198.19.1.100", "vrrp0")
    assert parse_vip("10.0.0.1", "eth0") == Vip("10.0.0.1", "eth0")
    assert parse_vip("fd19::1/64 dev br0 scope global", "x") == Vip("fd19::1", "br0")
    assert parse_vip("not-an-ip dev x", "eth0") is None
    assert parse_vip("", "eth0") is None


def test_address_tables() -> None:
    local = parse_fib_trie(read("master-backup", "a", "fib_trie").splitlines())
    assert VIP in local and "127.0.0.1" in local
    assert VIP not in parse_fib_trie(read("master-backup", "b", "fib_trie").splitlines())
    assert not any(a.endswith((".0", ".255")) for a in local - {"127.0.0.0"})
    assert (VIP6, "vrrp0") in parse_if_inet6(read("master-backup", "a", "if_inet6").splitlines())
    assert ("::1", "lo") in parse_if_inet6(read("master-backup", "a", "if_inet6").splitlines())


@pytest.mark.parametrize(
    "text",
    ["", "{}", "[1]", '[{"data": {}}]', '[{"data": {"iname": "x"}}]', "[{", '[{"data": [], "stats": {}}]'],
)
def test_bad_json_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_json(text)


def test_unknown_state_is_a_parse_error() -> None:
    text = read("master-backup", "a", "keepalived.json").replace('"state":2', '"state":7')
    with pytest.raises(ParseError, match="unknown state 7"):
        parse_json(text)


@pytest.mark.parametrize(("scenario", "node"), RECORDED)
def test_promtool_check_metrics(scenario: str, node: str) -> None:
    text = render(families(scenario, node))
    out = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, timeout=30, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip() == b"" and out.stderr.strip() == b"", out.stdout + out.stderr
