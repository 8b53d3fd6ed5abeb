"""Session fixtures: the real local stack, started through the same code as `python -m stack up`.

`NINES_STACK_DIR` (default `.stack-test/`) and `NINES_PORT_OFFSET` (default 20000) keep the test
stack apart from a running demo. `NINES_TEST_KEEP_STACK=1` reuses a running test stack and leaves
it running afterwards (quicker iterations while developing).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
from hypothesis import settings

from stack.layout import REPO, default_layout
from stack.runner import Stack

# CI runs the property tests on a fixed seed sequence: a red run is reproducible, never a dice roll.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

TEST_OFFSET = 20000


def _progress(msg: str) -> None:
    sys.stderr.write(f"[stack] {msg}\n")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """The whole stack (1 etcd member) with our services, stopped after the session."""
    layout = default_layout(
        os.environ.get("NINES_STACK_DIR") or REPO / ".stack-test",
        int(os.environ.get("NINES_PORT_OFFSET", TEST_OFFSET)),
        etcd_members=1,
    )
    keep = os.environ.get("NINES_TEST_KEEP_STACK") == "1"
    s = Stack(layout)
    if not keep:
        s.down(progress=lambda _: None)
        s.purge()
    s.up(progress=_progress)
    yield s
    if not keep:
        s.down(progress=lambda _: None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI every tool is installed by `make test`: a test that skips there fails instead."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where make test installs every tool: {report.longrepr}"
