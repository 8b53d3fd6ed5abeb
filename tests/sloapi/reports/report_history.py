"""Known history for the report tests: two whole months (August and September 2026, Paris).

Web requests (counters, one sample every 30 s) with outages, error bursts, a day without
traffic and a scrape gap; a PostgreSQL primary probe (gauge 1/0). The ground truth is kept as
per-minute arrays so tests compute the expected figures independently of the report code.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from stack.throwaway import free_port

T0 = datetime(2026, 7, 31, tzinfo=UTC)
T1 = datetime(2026, 10, 1, 1, tzinfo=UTC)
SCRAPE = 30
NOW = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)  # August and September are closed


def at(text: str) -> datetime:
    """``"2026-08-10 14:00"`` (UTC) as an aware datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def minute(moment: datetime) -> int:
    """Index of the minute starting at ``moment``."""
    return int((moment - T0).total_seconds() // 60)


# (start, end, error share) of web errors, UTC
WEB_ERRORS = [
    ("2026-08-10 14:00", "2026-08-10 14:45", 1.0),  # outage
    ("2026-08-20 09:00", "2026-08-20 11:00", 0.05),  # burst, burn 50x
    ("2026-08-22 00:00", "2026-08-23 00:00", 0.005),  # slow burn, 5x: no incident
    ("2026-08-25 03:00", "2026-08-25 03:10", 1.0),  # two outages 3 min apart: one incident
    ("2026-08-25 03:13", "2026-08-25 03:20", 1.0),
    ("2026-08-25 03:40", "2026-08-25 03:45", 1.0),  # 20 min later: its own incident
    ("2026-08-31 21:50", "2026-08-31 22:10", 1.0),  # across the Paris month boundary
    ("2026-09-03 01:00", "2026-09-03 01:30", 1.0),
]
# expected incidents of the web SLO per month (start, end), UTC
WEB_INCIDENTS = {
    "2026-08": [
        ("2026-08-10 14:00", "2026-08-10 14:45"),
        ("2026-08-20 09:00", "2026-08-20 11:00"),
        ("2026-08-25 03:00", "2026-08-25 03:20"),
        ("2026-08-25 03:40", "2026-08-25 03:45"),
        ("2026-08-31 21:50", "2026-08-31 22:00"),
    ],
    "2026-09": [
        ("2026-08-31 22:00", "2026-08-31 22:10"),
        ("2026-09-03 01:00", "2026-09-03 01:30"),
    ],
}
NO_TRAFFIC = ("2026-08-04 22:00", "2026-08-05 22:00")  # 5 August in Paris
SCRAPE_GAP = ("2026-08-15 12:00", "2026-08-15 12:10")  # no samples of any series
PROBE_DOWN = [("2026-08-12 08:00", "2026-08-12 08:20"), ("2026-09-18 10:00", "2026-09-18 10:05")]


@dataclass(frozen=True)
class History:
    """Per-minute truth and the sampled series."""

    total: np.ndarray  # requests in each minute
    errors: np.ndarray  # failed requests in each minute
    sample_times: np.ndarray  # unix seconds of every sample (gap removed)
    probe: np.ndarray  # probe value at each sample time


def build() -> History:
    """Build the history."""
    minutes = minute(T1)
    starts = np.array([T0.timestamp() + 60 * m for m in range(minutes)])
    hours = ((starts // 3600) % 24).astype(int)
    total = np.where(hours < 6, 60.0, 180.0)
    lo, hi = minute(at(NO_TRAFFIC[0])), minute(at(NO_TRAFFIC[1]))
    total[lo:hi] = 0.0
    errors = np.zeros(minutes)
    for start, end, share in WEB_ERRORS:
        a, b = minute(at(start)), minute(at(end))
        errors[a:b] = total[a:b] * share
    times = T0.timestamp() + SCRAPE * np.arange(minutes * 60 // SCRAPE + 1)
    gap_lo, gap_hi = at(SCRAPE_GAP[0]).timestamp(), at(SCRAPE_GAP[1]).timestamp()
    times = times[(times < gap_lo) | (times >= gap_hi)]
    probe = np.ones(len(times))
    for start, end in PROBE_DOWN:
        probe[(times >= at(start).timestamp()) & (times < at(end).timestamp())] = 0.0
    return History(total, errors, times, probe)


def counter_values(history: History, per_minute: np.ndarray) -> np.ndarray:
    """Counter value at each sample time (linear inside each minute)."""
    cumulative = np.concatenate([[0.0], np.cumsum(per_minute)])
    offset = (history.sample_times - T0.timestamp()) / 60.0
    whole = np.minimum(offset.astype(int), len(per_minute) - 1)
    frac = offset - whole
    return cumulative[whole] + frac * per_minute[whole]


def series(history: History) -> list[tuple[str, str, dict[str, str], list[tuple[float, float]]]]:
    """The history as ``prometheus_history`` series definitions."""
    ok = counter_values(history, history.total - history.errors)
    bad = counter_values(history, history.errors)
    times = history.sample_times.tolist()
    return [
        (
            "http_requests_total",
            "counter",
            {"service": "web", "code": "200"},
            list(zip(times, ok.tolist(), strict=True)),
        ),
        (
            "http_requests_total",
            "counter",
            {"service": "web", "code": "500"},
            list(zip(times, bad.tolist(), strict=True)),
        ),
        (
            "pg_primary_up",
            "gauge",
            {"cluster": "demo"},
            list(zip(times, history.probe.tolist(), strict=True)),
        ),
    ]


SPECS = """\
version: prometheus/v1
service: web
labels:
  component: haproxy
slos:
  - name: availability
    objective: 99.9
    description: Web requests answered without a 5xx
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="web",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="web"}[{{.window}}]))
    alerting:
      page_alert: {disable: true}
      ticket_alert: {disable: true}
---
version: prometheus/v1
service: pg
labels:
  component: postgresql-primary
slos:
  - name: primary
    objective: 99.95
    description: A primary reachable through HAProxy
    recipients: [dba@example.com]
    sli:
      raw:
        error_ratio_query: 1 - avg_over_time(pg_primary_up{cluster="demo"}[{{.window}}])
    alerting:
      page_alert: {disable: true}
      ticket_alert: {disable: true}
"""


@dataclass(frozen=True)
class Expected:
    """Figures of one month computed straight from the history."""

    web_sli: float
    web_errors: float
    web_total: float
    web_downtime: float
    web_coverage: float
    web_steps: dict[int, tuple[float, float]]  # step end (unix) -> (errors, total), covered only
    pg_sli: float
    pg_downtime: float
    pg_coverage: float


def expected(history: History, start: datetime, end: datetime) -> Expected:
    """Independent figures for the month ``[start, end)`` at a one-minute step.

    A step ending at ``t`` sees the samples in ``[t - 60 s, t]`` (Prometheus's range
    selector); with fewer than two it has no rate and is uncovered.
    """
    times = history.sample_times
    web: dict[int, tuple[float, float]] = {}
    pg_ratios = []
    steps = 0
    t = start + timedelta(minutes=1)
    while t <= end:
        steps += 1
        ts = t.timestamp()
        lo = np.searchsorted(times, ts - 60, side="left")
        hi = np.searchsorted(times, ts, side="right")
        if hi - lo >= 2:
            m = minute(t) - 1
            web[int(ts)] = (float(history.errors[m]), float(history.total[m]))
        if hi - lo >= 1:
            pg_ratios.append(1.0 - float(history.probe[lo:hi].mean()))
        t += timedelta(minutes=1)
    err = sum(e for e, _ in web.values())
    tot = sum(n for _, n in web.values())
    downtime = sum(60.0 * e / n for e, n in web.values() if n > 0)
    return Expected(
        web_sli=1.0 - err / tot,
        web_errors=err,
        web_total=tot,
        web_downtime=downtime,
        web_coverage=len(web) / steps,
        web_steps=web,
        pg_sli=1.0 - float(np.mean(pg_ratios)),
        pg_downtime=60.0 * float(np.sum(pg_ratios)),
        pg_coverage=len(pg_ratios) / steps,
    )


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class SMTPSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it accepts.

    ``refuse`` answers the next N DATA commands with a temporary failure. ``swallow`` keeps
    every message it receives but never sends the final reply to DATA. ``hold_first`` stops
    the first conversation at RCPT until ``release`` is set (``held`` is set meanwhile).
    """

    def __init__(self, refuse: int = 0, swallow: bool = False, hold_first: bool = False) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse = refuse
        self.refused = 0
        self.swallow = swallow
        self.hold_first = hold_first
        self.held = threading.Event()
        self.held_address = ""
        self.release = threading.Event()
        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
                if sink.hold_first and not sink.held.is_set():
                    sink.held_address = address
                    sink.held.set()
                    while not sink.release.is_set():
                        await asyncio.sleep(0.05)
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
                if sink.refused < sink.refuse:
                    sink.refused += 1
                    return "451 4.3.0 mailbox busy, try again later"
                sink.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
                if sink.swallow:
                    await asyncio.sleep(3600)  # took the message; the final reply never comes
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> SMTPSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.controller.stop()

    def to(self, address: str) -> list[bytes]:
        return [content for rcpts, content in self.messages if address in rcpts]

    def message_ids(self, address: str) -> list[str]:
        """The Message-ID header of every copy ``address`` received."""
        return [_header(content, "Message-ID") for content in self.to(address)]


def _header(content: bytes, name: str) -> str:
    from email import policy
    from email.parser import BytesParser

    return str(BytesParser(policy=policy.default).parsebytes(content, headersonly=True)[name])
