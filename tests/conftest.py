"""Session fixtures: the real local stack, started through the same code as `python -m stack up`.

`NINES_STACK_DIR` (default `.stack-test/`) and `NINES_PORT_OFFSET` (default 20000) keep the test
stack apart from a running demo. `NINES_TEST_KEEP_STACK=1` reuses a running test stack and leaves
it running afterwards (quicker iterations while developing).

Under pytest-xdist (`make test` runs two workers), every test that uses the session stack is one unit
of work, which one worker runs in collection order; the other tests (their own throwaway Prometheus,
their own stacks on other offsets, no processes at all) are spread over the workers one by one. One
stack is started, and the order the stack tests rely on (drills before destructive tests) holds.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings

from stack.layout import REPO, default_layout
from stack.runner import Stack

# CI runs the property tests on a fixed seed sequence: a red run is reproducible, never a dice roll.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

TEST_OFFSET = 20000
# The fixtures that are (or ask for) the session stack: their tests run in the `stack` xdist group.
SESSION_STACK = {"stack", "live_cluster"}
STACK_TESTS_ENV = "NINES_XDIST_STACK_TESTS"


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
    with _held(layout.root.with_name(layout.root.name + ".lock")):
        s = Stack(layout)
        if not keep:
            s.down(progress=lambda _: None)
            s.purge()
        s.up(progress=_progress)
        yield s
        if not keep:
            s.down(progress=lambda _: None)


@contextmanager
def _held(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` for this process, or a clear error when another holds it (a
    second pytest on the same stack, or an xdist worker given a stack test the scheduler did not
    group): every test that asks for the stack then errors with the message."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(
                f"the test stack of {path.with_suffix('')} is used by another test process: wait "
                "for it, or set NINES_STACK_DIR and NINES_PORT_OFFSET for a stack of your own (a "
                "test that asks for the stack in a way SESSION_STACK in tests/conftest.py does not "
                "list must be added there)"
            ) from None
        yield  # closing the file releases the lock, as the process's end does


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist, the controller names a file where its workers list the session stack's tests."""
    if getattr(config.option, "dist", "no") != "no" and not hasattr(config, "workerinput"):
        folder = Path(tempfile.mkdtemp(prefix="nines-xdist-"))
        os.environ[STACK_TESTS_ENV] = str(folder / "stack-tests")  # the workers inherit it


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and (listing := os.environ.pop(STACK_TESTS_ENV, None)):
        shutil.rmtree(Path(listing).parent, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The session stack's tests first, in their order (they are the longest work, and the stack
    starts while the other tests run); under xdist, their ids written for the scheduler."""
    uses_stack = [item for item in items if SESSION_STACK & set(getattr(item, "fixturenames", ()))]
    chosen = {id(item) for item in uses_stack}
    items[:] = uses_stack + [item for item in items if id(item) not in chosen]
    if (listing := os.environ.get(STACK_TESTS_ENV)) and os.environ.get("PYTEST_XDIST_WORKER"):
        worker = Path(f"{listing}.{os.environ['PYTEST_XDIST_WORKER']}")
        worker.write_text("".join(f"{item.nodeid}\n" for item in uses_stack), encoding="utf-8")
        os.replace(worker, listing)  # every worker collects the same tests: the last one wins


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """For xdist's default `--dist load`: its scope scheduling with one scope for all the session
    stack's tests (one worker runs them in order, on one stack), and one scope per test for the
    rest. Another `--dist` asked for is left to xdist."""
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class StackScopeScheduling(LoadScopeScheduling):  # type: ignore[misc]
        _stack_tests: frozenset[str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self._stack_tests is None:  # read once: the workers wrote it before their collection
                text = Path(os.environ[STACK_TESTS_ENV]).read_text(encoding="utf-8")
                self._stack_tests = frozenset(text.split("\n"))
            return "stack" if nodeid in self._stack_tests else nodeid

    return StackScopeScheduling(config, log)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI every tool is installed by `make test`: a test that skips there fails instead."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where make test installs every tool: {report.longrepr}"
