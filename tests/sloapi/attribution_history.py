"""Known history for budget attribution: one HAProxy backend, three servers, injected failures.

Per minute (the interval (t - 60, t] named by its end t) each server of backend `shop` answers
200 requests. Server `s1` fails 1 request every minute (a slow background burn, 1/600 of the
backend's traffic: burn rate 0.17 at 99%). Server `s2` fails every request for 30 minutes two days
before the end (`outage`); server `s3` fails 60% for 20 minutes one day before the end (`burst`).
Counters are sampled every 30 s and grow evenly inside a minute, as in `slo_history`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from slo_history import DAY, SCRAPE, counter

SERVERS = ("s1", "s2", "s3")
PER_SERVER = 200.0
OBJECTIVE = "99"
BUDGET = 0.01


@dataclass
class ShopHistory:
    """Per-minute truth per server, ending at `end` (a multiple of 3600)."""

    end: int
    days: int = 4
    minute_ends: np.ndarray = field(init=False)
    errors: dict[str, np.ndarray] = field(init=False)
    outage: tuple[int, int] = field(init=False)
    burst: tuple[int, int] = field(init=False)

    def __post_init__(self) -> None:
        start = self.end - self.days * DAY
        self.minute_ends = np.arange(start + 60, self.end + 1, 60, dtype=np.int64)
        t = self.minute_ends
        self.outage = (self.end - 2 * DAY, self.end - 2 * DAY + 1800)
        self.burst = (self.end - DAY, self.end - DAY + 1200)
        self.errors = {name: np.zeros(len(t)) for name in SERVERS}
        self.errors["s1"][:] = 1.0
        self.errors["s2"][(t > self.outage[0]) & (t <= self.outage[1])] = PER_SERVER
        self.errors["s3"][(t > self.burst[0]) & (t <= self.burst[1])] = 0.6 * PER_SERVER

    def series(self, exclude: tuple[int, int] | None = None) -> list[tuple[str, str, dict[str, str], list]]:
        """The OpenMetrics series; `exclude` = (t0, t1) deletes the samples in [t0, t1]."""
        start = self.end - self.days * DAY
        times = np.arange(start, self.end + 1, SCRAPE, dtype=np.int64)
        keep = (
            np.ones(len(times), dtype=bool)
            if exclude is None
            else ~((times >= exclude[0]) & (times <= exclude[1]))
        )
        base = {"job": "haproxy", "proxy": "shop"}
        out = []
        for server in SERVERS:
            good = counter(PER_SERVER - self.errors[server], times, start)
            bad = counter(self.errors[server], times, start)
            for code, values in (("2xx", good), ("5xx", bad)):
                points = list(zip(times[keep].astype(float).tolist(), values[keep].tolist(), strict=True))
                out.append(
                    (
                        "haproxy_server_http_responses_total",
                        "counter",
                        {**base, "server": server, "code": code},
                        points,
                    )
                )
        return out

    def window(self, at: int, seconds: int) -> dict[str, float]:
        """Error events per server and `total` over (at - seconds, at]."""
        t = self.minute_ends
        inside = (t > at - seconds) & (t <= at)
        result = {name: float(errs[inside].sum()) for name, errs in self.errors.items()}
        result["total"] = float(inside.sum()) * PER_SERVER * len(SERVERS)
        return result


_METRIC = 'haproxy_server_http_responses_total{job="haproxy", proxy="shop"'
SPEC = f"""version: "prometheus/v1"
service: "shop"
slos:
  - name: "availability"
    objective: {OBJECTIVE}
    sli:
      events:
        error_query: sum(rate({_METRIC}, code="5xx"}}[{{{{.window}}}}]))
        total_query: sum(rate({_METRIC}}}[{{{{.window}}}}]))
"""
