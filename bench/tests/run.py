"""`make test` timed as a user runs it: lint, type check and the whole suite against the real stack.

Runs `make test` in the checkout (its Debian packages and .venv already installed), times it, and
prints a Markdown section: the wall time against the goal (12 minutes on this machine), how the
time splits between lint/type check and pytest, and the slowest tests pytest listed.

Usage: .venv/bin/python bench/tests/run.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOAL_SECONDS = 12 * 60
SLOWEST_SHOWN = 10
SUMMARY = re.compile(r"=+ (?P<counts>.*?) in (?P<seconds>[\d.]+)s")
DURATION = re.compile(r"^(?P<seconds>[\d.]+)s (?P<phase>call|setup|teardown)\s+(?P<test>\S+)")


def load() -> str:
    """The load averages, as `uptime` prints them."""
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def workers() -> str:
    """The Makefile's default number of pytest workers."""
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^TEST_WORKERS \?= (\d+)$", text, re.MULTILINE)
    return found[1] if found else "?"


def slowest(output: str) -> list[tuple[float, str, str]]:
    """The slowest tests pytest listed: (seconds, phase, test id)."""
    found = [DURATION.match(line) for line in output.splitlines()]
    return [(float(m["seconds"]), m["phase"], m["test"]) for m in found if m][:SLOWEST_SHOWN]


def section(
    wall: float, pytest_seconds: float, counts: str, rows: list[tuple[float, str, str]], before: str
) -> str:
    """The Markdown section."""
    verdict = (
        f"goal (under {GOAL_SECONDS // 60} minutes) **met**"
        if wall < GOAL_SECONDS
        else f"goal (under {GOAL_SECONDS // 60} minutes) **not met, by {wall / GOAL_SECONDS - 1:.0%}**"
    )
    lines = [
        f"`make test` in this checkout (packages and .venv installed), "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {before} before, "
        f"{load()} after ({os.cpu_count()} CPUs).",
        "",
        "| stage | seconds |",
        "|---|---:|",
        f"| packages and venv checked, lint, format and type check | {wall - pytest_seconds:.0f} |",
        f"| pytest, {workers()} workers ({counts}) | {pytest_seconds:.0f} |",
        f"| `make test` | {wall:.0f} |",
        "",
        f"`make test`: {wall / 60:.1f} minutes, {verdict}.",
        "",
        "How: one pytest-xdist worker runs every test of the session stack, in order, on the one stack "
        "(the drills first, the destructive tests after); the others take the remaining tests one by "
        "one (their own throwaway Prometheus, VictoriaMetrics, keepalived pairs and stacks on other "
        "offsets). The longest failover drills run in `make drills`. The slowest tests, as pytest "
        "lists them at the end of `make test`:",
        "",
        "| seconds | phase | test |",
        "|---:|---|---|",
        *(f"| {s:.1f} | {phase} | `{test}` |" for s, phase, test in rows),
    ]
    return "\n".join(lines)


def main() -> int:
    before = load()
    print("bench tests: running make test (about 12 minutes)", file=sys.stderr, flush=True)
    started = time.monotonic()
    done = subprocess.run(
        ["make", "test"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
    )
    wall = time.monotonic() - started
    summary = SUMMARY.findall(done.stdout)
    if done.returncode != 0 or not summary:
        sys.stderr.write(done.stdout[-5000:])
        print(f"bench tests: make test failed (exit {done.returncode})", file=sys.stderr)
        return 1
    counts, seconds = summary[-1]
    print(section(wall, float(seconds), counts, slowest(done.stdout), before))
    return 0


if __name__ == "__main__":
    sys.exit(main())
