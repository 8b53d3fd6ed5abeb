"""Coverage of an event SLI from sample counts, against the step-by-step count, on a real
Prometheus holding scrapes as targets leave them: steady, stopped for a few minutes and
restarted (its counter from zero), restarted within a scrape, and scraped every minute.

Each status's covered steps must equal Prometheus's own step-by-step count and an independent
count from the sample times (a minute `(t - 60, t]` is covered when its closed window
`[t - 60, t]` holds two samples, as Prometheus 2.x selects it), and its figures those the
step-by-step path gives.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import numpy as np
import pytest
import requests

from sloapi.deadline import Deadline
from sloapi.engine.windows import parse_window
from sloapi.prometheus.client import PromClient
from sloapi.prometheus.coverage import irregular_runs, regular_units
from sloapi.prometheus.selectors import counted_selector
from sloapi.specs.loader import read_text
from sloapi.specs.model import SLOSpec
from sloapi.status.raw import StatusOptions, compute_status
from stack.history import Prometheus, Series

DAY = 86400
DAYS = 3
WINDOW = 2 * DAY
END = int(time.time()) // 3600 * 3600 - 3600
STOP = (END - DAY - 5000 + 95, END - DAY - 5000 + 95 + 250)  # 4 min 10 s without a scrape


@dataclass(frozen=True)
class Target:
    """A scraped target: its interval, the phase of its scrapes, a stop and a counter reset."""

    job: str
    interval: int
    phase: int
    stopped: tuple[int, int] | None = None
    reset_at: int | None = None
    instance: str = "a"
    born: int = END - DAYS * DAY

    def times(self) -> np.ndarray:
        """Its scrape times (none strictly inside the stop)."""
        times = np.arange(self.born + self.phase, END + 1, self.interval, dtype=np.int64)
        if self.stopped is not None:
            times = times[(times <= self.stopped[0]) | (times >= self.stopped[1])]
        return times

    def series(self) -> list[Series]:
        """`cov_requests_total{job, code}`: 10 requests a second, 1 in 1000 failing; the counter
        starts again from 0 after the reset."""
        times = self.times()
        since = times - (
            times[0] if self.reset_at is None else np.where(times >= self.reset_at, self.reset_at, times[0])
        )
        return [
            ("cov_requests_total", "counter", {"job": self.job, "instance": self.instance, "code": code},
             [(float(t), float(s) * rate) for t, s in zip(times, since, strict=True)])
            for code, rate in (("2xx", 10.0), ("5xx", 0.01))
        ]  # fmt: skip

    def covered_minutes(self, at: int, seconds: int) -> int:
        """Minutes `(t - 60, t]` of `(at - seconds, at]` whose closed window holds two samples."""
        ends = np.arange(at - seconds + 60, at + 1, 60, dtype=np.int64)
        times = self.times()
        inside = np.searchsorted(times, ends, side="right") - np.searchsorted(times, ends - 60, side="left")
        return int((inside >= 2).sum())


TARGETS = {
    t.job: t
    for t in (
        Target("steady", 15, 7),
        Target("stopped", 30, 13, stopped=STOP, reset_at=STOP[1]),
        Target("restarted", 30, 0, reset_at=END - DAY + 11),
        Target("minutely", 60, 20),
        Target("handover", 30, 3),
    )
}
#: a second, denser instance of "handover", started a day ago
NEWER = Target("handover", 15, 5, instance="b", born=END - DAY)
#: "mixed": a 15 s target with a 4 min 10 s gap early in the 20-minute unit ending 12 h before
#: END, and a 5 s target born 415 s before that unit's end, so that its 84 samples there are
#: the 15 s target's usual count: a count of any series alone would call the unit whole
UNIT_END = END - 36 * 1200
MIXED = (
    Target("mixed", 15, 2, stopped=(UNIT_END - 1200 + 60, UNIT_END - 1200 + 310)),
    Target("mixed", 5, 0, instance="b", born=UNIT_END - 415),
)


def spec_of(job: str, times: str = "", matcher: str = "") -> SLOSpec:
    """An event SLO over the target's requests (`times`: e.g. " * 1", a shape coverage cannot
    count samples of; `matcher`: one more label matcher)."""
    text = f"""
version: prometheus/v1
service: cov
slos:
  - name: {job}
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(cov_requests_total{{job="{job}",code="5xx"{matcher}}}[{{{{.window}}}}])){times}
        total_query: sum(rate(cov_requests_total{{job="{job}"{matcher}}}[{{{{.window}}}}])){times}
"""
    specs, errors = read_text(text, f"{job}.yml")
    assert not errors
    return specs[0]


class LoggingClient(PromClient):
    """A client that keeps the query of every request."""

    def __init__(self, url: str, max_range_seconds: int | None = None) -> None:
        super().__init__(url, timeout_seconds=60, max_range_seconds=max_range_seconds)
        self.queries: list[str] = []

    def _get(self, path: str, params: Mapping[str, str], deadline: Deadline | None) -> requests.Response:
        self.queries.append(params.get("query", ""))
        return super()._get(path, params, deadline)


@pytest.fixture(scope="module")
def prom(prometheus_history: Callable[..., Prometheus]) -> Prometheus:
    """A Prometheus holding every target's samples."""
    series = [s for t in (*TARGETS.values(), NEWER, *MIXED) for s in t.series()]
    return prometheus_history("sloapi-coverage", series)


@pytest.fixture()
def client(prom: Prometheus) -> Iterator[LoggingClient]:
    """A fresh logging client on `prom`."""
    logging = LoggingClient(prom.url)
    yield logging
    logging.close()


def instant(prom: Prometheus, query: str, at: int = END) -> float:
    """The one value of `query` at `at` (0 when empty)."""
    body = httpx.get(f"{prom.url}/api/v1/query", params={"query": query, "time": at}, timeout=60).json()
    result = body["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def step_by_step(prom: Prometheus, job: str, at: int = END) -> tuple[int, float, float]:
    """Prometheus's step-by-step count of the covered minutes of the window ending at `at`, and
    the errors and total of the per-minute path (summed covered minutes)."""
    sel = f'cov_requests_total{{job="{job}"'
    grid = f"[{WINDOW * 1000 - 1}ms:1m]"
    covered = instant(prom, f"count_over_time((sum(rate({sel}}}[1m]))){grid})", at)
    errors = instant(prom, f'sum_over_time((sum(rate({sel},code="5xx"}}[1m]))){grid})', at) * 60
    total = instant(prom, f"sum_over_time((sum(rate({sel}}}[1m]))){grid})", at) * 60
    return int(covered), errors, total


def status(client: PromClient, job: str, at: int = END, times: str = "", matcher: str = "") -> dict:
    """The SLO's status over the two days before `at`."""
    spec, moment = spec_of(job, times, matcher), datetime.fromtimestamp(at, UTC)
    return compute_status(client.batch(), spec, parse_window("2d"), moment, StatusOptions())


def stepwise_queries(client: LoggingClient) -> list[str]:
    """The step-by-step coverage counts the client sent."""
    return [q for q in client.queries if q.startswith("count_over_time((sum(")]


@pytest.mark.parametrize(("job", "lost"), [("steady", 0), ("restarted", 11)])
def test_regular_scrapes_are_fully_covered_from_counts_alone(
    prom: Prometheus, client: LoggingClient, job: str, lost: int
) -> None:
    body = status(client, job)
    expected = WINDOW // 60
    assert TARGETS[job].covered_minutes(END, WINDOW) == expected
    assert step_by_step(prom, job)[0] == expected
    assert body["data"] == {"coverage_ratio": 1.0, "status": "ok", "missing_steps": 0, "no_traffic": False}
    assert stepwise_queries(client) == []  # the counts alone proved it
    # whole-window totals: 10.01 requests a second, but the 11 s before the restart's reset
    assert body["error_budget"]["total_events"] == pytest.approx(10.01 * (WINDOW - lost), rel=1e-9)
    assert body["sli"] == pytest.approx(1 - 0.01 / 10.01, rel=1e-9)


def test_a_stopped_target_shows_its_missing_minutes(prom: Prometheus, client: LoggingClient) -> None:
    body = status(client, "stopped")
    covered, errors, total = step_by_step(prom, "stopped")
    expected = WINDOW // 60
    assert covered == TARGETS["stopped"].covered_minutes(END, WINDOW)
    assert expected - covered == 5  # 4 min 10 s without a scrape, a phase of 13 s
    assert body["data"] == {
        "coverage_ratio": pytest.approx(covered / expected, rel=1e-12),
        "status": "partial",
        "missing_steps": 5,
        "no_traffic": False,
    }
    budget = body["error_budget"]
    assert budget["total_events"] == pytest.approx(total, rel=1e-12)
    assert budget["error_events"] == pytest.approx(errors, rel=1e-12)
    # only the 20-minute units around the stop were counted step by step
    counted = stepwise_queries(client)
    assert len(counted) == 1
    assert "[1199999ms:1m]" in counted[0] or "[2399999ms:1m]" in counted[0]


def test_a_series_started_late_is_counted_step_by_step_before_it(
    prom: Prometheus, client: LoggingClient
) -> None:
    body = status(client, "handover")
    assert step_by_step(prom, "handover")[0] == WINDOW // 60
    assert body["data"]["coverage_ratio"] == 1.0 and body["data"]["missing_steps"] == 0
    # the newer instance (the most samples now) was counted first; before it started, the older
    # instance, scraped at another interval, cannot vouch for whole units: that day (and the
    # unit the newer one started in) counted step by step, in one query
    assert any('instance="b"' in q for q in client.queries if q.startswith("max(count_over_time("))
    counted = stepwise_queries(client)
    assert len(counted) == 1 and f"[{(DAY + 1200) * 1000 - 1}ms:1m]" in counted[0]
    # both instances' requests: the newer one's from its first sample (a counter from 0)
    assert body["error_budget"]["total_events"] == pytest.approx(10.01 * (WINDOW + DAY - 5), rel=1e-9)


def test_another_shape_is_counted_step_by_step_tile_by_tile(prom: Prometheus) -> None:
    """A total query coverage cannot count samples of: each tile's own step-by-step count, so
    the tile with the gap (not the oldest of four) sums its steps and the others take their
    whole-window totals, the figures those of the query of the countable shape."""
    shaped, counted = LoggingClient(prom.url, 12 * 3600), LoggingClient(prom.url, 12 * 3600)
    try:
        other = status(shaped, "stopped", times=" * 1")
        plain = status(counted, "stopped")
    finally:
        shaped.close()
        counted.close()
    assert not [q for q in shaped.queries if "count_over_time(cov_requests_total" in q]
    assert len(stepwise_queries(shaped)) == 4  # one a tile
    assert other["data"] == plain["data"] and other["data"]["missing_steps"] == 5
    assert other["error_budget"] == plain["error_budget"]


def test_long_queries_are_posted_with_the_same_figures(prom: Prometheus) -> None:
    """An SLI long enough that the joined burn-rate query would make a URL of about 60 KB:
    sent as a POST form, the status is that of the short query."""
    long, short = LoggingClient(prom.url), LoggingClient(prom.url)
    methods: list[str] = []
    long._session.hooks["response"].append(lambda r, *_a, **_k: methods.append(r.request.method))
    try:
        never = "|".join(f"code{n:04}" for n in range(400))  # 3.6 KB a query, no series dropped
        posted = status(long, "stopped", matcher=f',code!~"{never}"')
        plain = status(short, "stopped")
    finally:
        long.close()
        short.close()
    assert "POST" in methods  # the long ones
    assert max(len(q) for q in long.queries) > 40_000
    assert posted["data"] == plain["data"] and posted["error_budget"] == plain["error_budget"]
    assert posted["burn_rates"] == plain["burn_rates"]


def test_a_series_at_another_interval_cannot_pass_for_a_whole_unit(
    prom: Prometheus, client: LoggingClient
) -> None:
    covered, errors, total = step_by_step(prom, "mixed")
    body = status(client, "mixed")
    # the gap's minutes are missing, though the unit's most samples (84, the 5 s series' part)
    # equal the 15 s series' usual count
    assert covered == MIXED[0].covered_minutes(END, WINDOW) < WINDOW // 60
    assert body["data"]["missing_steps"] == WINDOW // 60 - covered
    assert body["error_budget"]["total_events"] == pytest.approx(total, rel=1e-12)
    assert body["error_budget"]["error_events"] == pytest.approx(errors, rel=1e-12)


@pytest.mark.parametrize("job", ["steady", "stopped", "handover"])
def test_coverage_at_a_moment_off_the_minute(prom: Prometheus, client: LoggingClient, job: str) -> None:
    # the minutes' windows straddle the 20-minute units: each unit's count reads the minute
    # before it too
    at = END - 437
    body = status(client, job, at)
    covered, _errors, _total = step_by_step(prom, job, at)
    assert body["data"]["missing_steps"] == WINDOW // 60 - covered
    assert body["data"]["coverage_ratio"] == pytest.approx(covered / (WINDOW // 60), rel=1e-12)
    assert covered == WINDOW // 60 - (5 if job == "stopped" else 0)
    if job == "steady":
        assert stepwise_queries(client) == []


def test_scrapes_every_minute_are_counted_step_by_step(prom: Prometheus, client: LoggingClient) -> None:
    body = status(client, "minutely")
    # one sample in each minute's window: `rate` has none, the SLI no data
    assert TARGETS["minutely"].covered_minutes(END, WINDOW) == step_by_step(prom, "minutely")[0] == 0
    assert body["data"]["coverage_ratio"] == 0.0 and body["data"]["status"] == "no_data"
    # its steady count (21 samples in 21 minutes) proves nothing: counted step by step
    assert len(stepwise_queries(client)) == 1


def test_regular_units_need_the_usual_count_of_a_short_enough_interval() -> None:
    # 20-minute units and the minute before: 42 samples at 30 s
    counts = np.array([42, 42, 41, np.nan, 42, 43, 42], dtype=float)
    assert regular_units(counts, 1200, 60).tolist() == [True, True, False, False, True, False, True]
    # 21 samples (60 s) leave minutes with one sample: never regular
    assert not regular_units(np.full(5, 21.0), 1200, 60).any()
    # 1260 / 40 is not a whole interval
    assert not regular_units(np.full(5, 40.0), 1200, 60).any()
    assert not regular_units(np.full(3, np.nan), 1200, 60).any()
    assert irregular_runs(np.array([True, False, False, True, False])) == [(1, 2), (4, 1)]


@pytest.mark.parametrize(
    ("query", "selector"),
    [
        ("sum(rate(x[1m]))", "x"),
        ('sum by (a) ((increase(x{code="5\\"xx",job=~"a\\\\.b"}[1m])))', 'x{code="5\\"xx",job=~"a\\\\.b"}'),
        ('rate({__name__=~"x|y"}[1m])', '{__name__=~"x|y"}'),
        ("sum(rate(x[5m]))", None),
        ("sum(rate(x[1m] offset 1m))", None),
        ("sum(rate(a[1m])) + sum(rate(b[1m]))", None),
        ("topk(1, rate(x[1m]))", None),
        ("sum(irate(x[1m]))", None),
        ("sum(rate(x[1m:]))", None),
        ("sum(rate(x[1m]) > 0)", None),
        ("not promql(", None),
    ],
)
def test_counted_selector(query: str, selector: str | None) -> None:
    assert counted_selector(query, 60) == selector
