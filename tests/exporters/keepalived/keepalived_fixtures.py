"""The dumps recorded from keepalived 2.2.7 (tests/fixtures/keepalived/record.py)."""

from __future__ import annotations

from pathlib import Path

from exporters.core.metrics import Family
from exporters.keepalived.parse import parse_fib_trie, parse_if_inet6, parse_json
from exporters.keepalived.scrape import families_of

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "keepalived" / "2.2.7"
# scenario -> its recorded nodes
SCENARIOS = {
    "master-backup": ("a", "b"),
    "fault": ("a", "b"),
    "lowered": ("a", "b"),
    "track-process": ("host",),
    "track-process-gone": ("host",),
}
RECORDED = [(scenario, node) for scenario, nodes in SCENARIOS.items() for node in nodes]


def read(scenario: str, node: str, name: str) -> str:
    """One recorded file."""
    return (ROOT / scenario / node / name).read_text()


def families(scenario: str, node: str) -> list[Family]:
    """The families the exporter makes of one recorded node."""
    return families_of(
        parse_json(read(scenario, node, "keepalived.json")),
        read(scenario, node, "keepalived.data"),
        parse_fib_trie(read(scenario, node, "fib_trie").splitlines()),
        parse_if_inet6(read(scenario, node, "if_inet6").splitlines()),
    )
