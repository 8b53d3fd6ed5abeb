"""`/history` (the cluster's timeline switches) -> failover/switchover count and last time.

Each line is `[timeline, lsn, reason, timestamp, new_leader]` (the last two are missing on lines
written by old Patroni versions). Every line is one promotion: Patroni does not record whether
it was a failover or a switchover, so both are counted together.
"""

from __future__ import annotations

from dataclasses import dataclass

from exporters.core.errors import ParseError
from exporters.core.metrics import Family
from exporters.patroni.shape import number, text, timestamp


@dataclass(frozen=True)
class Promotion:
    """One line of `/history`: the timeline that ended and when/who took over."""

    timeline: float
    lsn: float | None
    reason: str | None
    at: float | None
    new_leader: str | None


def parse_history(doc: object) -> list[Promotion]:
    """Parse a `/history` body.

    Raises:
        ParseError: not a list of lists starting with a timeline number.
    """
    if not isinstance(doc, list):
        raise ParseError(f"/history: expected a list, got {type(doc).__name__}")
    out: list[Promotion] = []
    for i, line in enumerate(doc):
        what = f"/history[{i}]"
        if not isinstance(line, list) or not line:
            raise ParseError(f"{what}: expected a non-empty list")
        timeline = number(line[0], f"{what}[0]")
        if timeline is None:
            raise ParseError(f"{what}: no timeline")
        padded = [*line[1:5], None, None, None, None]
        out.append(
            Promotion(
                timeline=timeline,
                lsn=number(padded[0], f"{what}[1]"),
                reason=text(padded[1], f"{what}[2]"),
                at=timestamp(padded[2], f"{what}[3]"),
                new_leader=text(padded[3], f"{what}[4]"),
            )
        )
    return out


def history_families(lines: list[Promotion], scope: str) -> list[Family]:
    """`patroni_cluster_failovers_total` and the time of the last one (when Patroni recorded it)."""
    count = Family(
        "patroni_cluster_failovers_total",
        "counter",
        "Promotions recorded in /history (failovers and switchovers: Patroni does not tell them apart).",
        ("scope",),
    )
    count.add((scope,), float(len(lines)))
    out = [count]
    stamps = [p.at for p in lines if p.at is not None]
    if stamps:
        last = Family(
            "patroni_cluster_last_failover_timestamp_seconds",
            "gauge",
            "When the last promotion (failover or switchover) happened, seconds since the epoch.",
            ("scope",),
        )
        last.add((scope,), max(stamps))
        out.append(last)
    if lines:
        tl = Family(
            "patroni_cluster_last_failover_timeline",
            "gauge",
            "The timeline the last promotion started (the ended timeline + 1).",
            ("scope",),
        )
        tl.add((scope,), max(p.timeline for p in lines) + 1)
        out.append(tl)
    return out
