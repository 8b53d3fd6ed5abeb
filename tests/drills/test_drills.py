"""Failover drills end to end: the quick scenarios on the test stack, the rest with `make drills`.

This folder sorts before the exporters' destructive tests on purpose: a drill expects its alert to
start firing, which it cannot while an earlier failover's alert still fires (the drill then waits
for it to clear first, up to 11 minutes).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from stack.drills.run import DrillError, run_drill
from stack.drills.scenarios import SCENARIOS
from stack.layout import REPO, default_layout
from stack.runner import Stack

QUICK = [name for name, sc in SCENARIOS.items() if sc.quick]
SLOW = [name for name, sc in SCENARIOS.items() if not sc.quick]


def _check(stack: Stack, name: str, settle: float) -> None:
    report = run_drill(stack, name, settle=settle, progress=lambda m: None)
    assert report.ok, report.summary()
    assert report.lost_writes == [] and report.acked_writes > 100
    saved = sorted(stack.path("drills").glob(f"*-{name}.json"))
    assert saved, "drill report not written"
    data = json.loads(saved[-1].read_text())
    assert data["scenario"] == name and data["ok"] is True
    assert (saved[-1].with_suffix(".txt")).read_text().startswith(f"drill {name}: PASSED")


@pytest.mark.stack
@pytest.mark.timeout(1800)  # may first wait up to 11 minutes for an earlier event's alert to clear
@pytest.mark.parametrize("name", QUICK)
def test_quick_drill(stack: Stack, name: str) -> None:
    _check(stack, name, settle=20)


@pytest.mark.stack
def test_unknown_or_unsuitable_scenario_is_refused(stack: Stack) -> None:
    with pytest.raises(DrillError, match="known: patroni-primary-kill"):
        run_drill(stack, "no-such-drill")
    with pytest.raises(DrillError, match="needs 3 etcd members"):
        run_drill(stack, "etcd-member-down")
    with pytest.raises(DrillError, match="needs 2 sloapi instances"):  # the session stack runs one
        run_drill(stack, "sloapi-instance-down")


@pytest.fixture(scope="module")
def demo_stack() -> Iterator[Stack]:
    """A 3-member etcd stack of its own (offset 10000), for the drills that need it, with two sloapi
    instances on the HA PostgreSQL (the report-send drills need them)."""
    layout = default_layout(os.environ.get("NINES_DRILL_STACK_DIR") or REPO / ".stack-drills", 10000, 3)
    layout.sloapi_instances = 2
    s = Stack(layout)
    s.down(progress=lambda _: None)
    s.purge()
    s.up(progress=lambda _: None)
    yield s
    s.down(progress=lambda _: None)


@pytest.mark.drill
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("name", SLOW)
def test_drill(demo_stack: Stack, name: str) -> None:
    _check(demo_stack, name, settle=120)
