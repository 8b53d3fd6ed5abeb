"""Known history for the SLO tests: per-minute traffic, errors and up/down, and their samples.

Everything is defined per minute (a "minute" is the interval (t - 60, t] named by its end t);
counters are sampled every 30 s and grow evenly inside a minute, so Prometheus's `rate` over one
minute at a minute boundary reads exactly that minute's events.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SCRAPE = 30
DAY = 86400


def counter(per_minute: np.ndarray, times: np.ndarray, start: int) -> np.ndarray:
    """Counter values at `times` for events spread evenly over each minute from `start`."""
    cumulative = np.concatenate([[0.0], np.cumsum(per_minute)])
    idx = (times - start) // 60
    frac = ((times - start) % 60) / 60.0
    nxt = np.minimum(idx, len(per_minute) - 1)
    return cumulative[np.minimum(idx, len(per_minute))] + frac * per_minute[nxt] * (idx < len(per_minute))


@dataclass
class History:
    """Per-minute truth for the test series, ending at `end` (a multiple of 3600)."""

    end: int
    days: int = 35
    minute_ends: np.ndarray = field(init=False)
    web_total: np.ndarray = field(init=False)
    web_errors: np.ndarray = field(init=False)
    pgb_up: np.ndarray = field(init=False)
    gap: tuple[int, int] = field(init=False)

    def __post_init__(self) -> None:
        start = self.end - self.days * DAY
        self.minute_ends = np.arange(start + 60, self.end + 1, 60, dtype=np.int64)
        t = self.minute_ends
        # the hour of day as if the history ended at 07:00, at night: the figures never depend on
        # the hour the tests run at
        hour = ((t - self.end) // 3600 + 7) % 24
        # traffic: 600 req/min at night, 1500 by day, none for one hour 20 days ago
        total = np.where((hour >= 8) & (hour < 20), 1500.0, 600.0)
        total[(t > self.end - 20 * DAY) & (t <= self.end - 20 * DAY + 3600)] = 0.0
        errors = np.zeros_like(total)
        # an old outage, outside a 30-day window
        errors[(t > self.end - 33 * DAY) & (t <= self.end - 33 * DAY + 1800)] = 1.0
        # a 20-minute full outage 2 days ago
        errors[(t > self.end - 2 * DAY) & (t <= self.end - 2 * DAY + 1200)] = 1.0
        # a 2-hour burst of 5 % errors 10 days ago
        errors[(t > self.end - 10 * DAY) & (t <= self.end - 10 * DAY + 7200)] = 0.05
        # burning now: 0.5 % errors over the last 2 hours
        errors[t > self.end - 7200] = 0.005
        self.web_total = total
        self.web_errors = np.round(total * errors)
        # PgBouncer down 15 minutes 7 days ago and 3 minutes half an hour ago
        up = np.ones_like(total)
        up[(t > self.end - 7 * DAY) & (t <= self.end - 7 * DAY + 900)] = 0.0
        up[(t > self.end - 1800) & (t <= self.end - 1800 + 180)] = 0.0
        self.pgb_up = up
        # a 30-minute scrape gap 5 days ago: no sample strictly inside (g0, g1)
        self.gap = (self.end - 5 * DAY, self.end - 5 * DAY + 1800)

    def sample_times(self) -> np.ndarray:
        """Scrape times (every 30 s from the start), without the gap."""
        start = self.end - self.days * DAY
        times = np.arange(start, self.end + 1, SCRAPE, dtype=np.int64)
        g0, g1 = self.gap
        return times[(times <= g0) | (times >= g1)]

    def _counter(self, per_minute: np.ndarray, times: np.ndarray) -> np.ndarray:
        return counter(per_minute, times, self.end - self.days * DAY)

    def series(self) -> list[tuple[str, str, dict[str, str], list[tuple[float, float | None]]]]:
        """The OpenMetrics series for `prometheus_history`."""
        times = self.sample_times()
        good = self._counter(self.web_total - self.web_errors, times)
        bad = self._counter(self.web_errors, times)
        zero = np.zeros(len(times))
        # gauge value at a scrape time = the state of the minute that contains it
        start = self.end - self.days * DAY
        minute = np.clip((times - start - 1) // 60, 0, len(self.pgb_up) - 1)
        up = self.pgb_up[minute]
        ts = times.astype(float)

        def pts(values: np.ndarray) -> list[tuple[float, float | None]]:
            return list(zip(ts.tolist(), values.tolist(), strict=True))

        name = "haproxy_backend_http_responses_total"
        base = {"job": "haproxy", "cluster": "demo", "target": "haproxy-a"}
        return [
            (name, "counter", {**base, "proxy": "web", "code": "2xx"}, pts(good)),
            (name, "counter", {**base, "proxy": "web", "code": "5xx"}, pts(bad)),
            (name, "counter", {**base, "proxy": "api", "code": "2xx"}, pts(zero)),
            (name, "counter", {**base, "proxy": "api", "code": "5xx"}, pts(zero)),
            ("pgbouncer_up", "gauge", {"job": "pgbouncer", "cluster": "demo"}, pts(up)),
        ]

    # ---- independent expectations -------------------------------------------------------

    def covered(self, t: np.ndarray) -> np.ndarray:
        """Minute steps whose window [t-60, t] holds at least two samples."""
        g0, g1 = self.gap
        return ~((t > g0) & (t <= g1))

    def web_window(self, at: int, seconds: int) -> tuple[float, float, int, int]:
        """(errors, total, covered steps, expected steps) of web over (at - seconds, at]."""
        t = self.minute_ends
        inside = (t > at - seconds) & (t <= at)
        ok = inside & self.covered(t)
        return (
            float(self.web_errors[ok].sum()),
            float(self.web_total[ok].sum()),
            int(ok.sum()),
            int(inside.sum()),
        )

    def web_ratio(self, at: int, seconds: int) -> float:
        """Traffic-weighted error ratio of web over (at - seconds, at] from all minutes."""
        t = self.minute_ends
        inside = (t > at - seconds) & (t <= at)
        return float(self.web_errors[inside].sum() / self.web_total[inside].sum())

    def pgb_step_ratio(self, at: int, seconds: int) -> tuple[float, int, int]:
        """(sum of per-step error ratios, covered steps, expected steps) of pgbouncer.

        Each 1-minute step averages the samples in (t - 60, t] (two samples): sloapi gives raw
        SLIs the half-open window `[59999ms]`, as Prometheus 3 and VictoriaMetrics select it.
        """
        times = self.sample_times()
        series = self.series()[-1][3]
        values = dict(zip(times.tolist(), [v for _t, v in series], strict=True))
        steps = self.minute_ends[(self.minute_ends > at - seconds) & (self.minute_ends <= at)]
        total = 0.0
        covered = 0
        for t in steps.tolist():
            window = [values[s] for s in range(t - 60 + SCRAPE, t + 1, SCRAPE) if s in values]
            if not window:
                continue
            covered += 1
            total += 1.0 - sum(window) / len(window)
        return total, covered, len(steps)
