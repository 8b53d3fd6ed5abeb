"""A report send under fault, for drills with several sloapi instances.

The drill holds the send mid-flight by freezing the SMTP sink (SIGSTOP): the sending instance has
committed its delivery claims and waits for the sink's greeting, so nothing has been accepted yet.
The fault (a SIGKILL of the instance, a Patroni switchover) lands then; the sink is thawed
(SIGCONT) and the drill waits until every copy is `sent`, then counts what the sink received.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg

from stack import process
from stack.components.nines import SLOAPI_DATABASE, SLOAPI_NAMES
from stack.components.patroni import leader_port
from stack.runner import Stack
from stack.sink import read_mail

SINK = "sink"
SEND_TIMEOUT = 120.0  # the API call; the kill ends it sooner
CLAIMS_WITHIN = 60.0  # the report's computation comes before the claims
DELIVERED_WITHIN = 150.0  # claim lease (30 s) + retry period (10 s) + scheduler takeover (10 s), with room


class SendDrillError(RuntimeError):
    """The send could not be set up (no free month, no lease holder, no claims)."""


@dataclass
class Send:
    """One report send started by a drill: its month, instance, and what the API answered."""

    month: str
    instance: str
    started: float
    answer: dict[str, Any] = field(default_factory=dict)
    delivered_s: float | None = None  # seconds from the send's start until every copy was `sent`
    thread: threading.Thread | None = None


def needs_instances(stack: Stack, count: int, scenario: str) -> str | None:
    """Why `scenario` cannot run on `stack` (fewer sloapi instances than `count`), or None."""
    have = stack.layout.sloapi_instances
    if have >= count:
        return None
    return (
        f"{scenario} needs {count} sloapi instances on the HA PostgreSQL; this stack runs {have} "
        "(start it with `python -m stack up --sloapi-instances 2`; existing state: "
        "`python -m stack down`, then up again with the flag)"
    )


def query(stack: Stack, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run `sql` on sloapi's database at the current leader, as the superuser."""
    port = leader_port(stack.layout)
    if port is None:
        raise SendDrillError("no Patroni leader to read sloapi's database from")
    with psycopg.connect(
        host="127.0.0.1",
        port=port,
        dbname=SLOAPI_DATABASE,
        user="postgres",
        password=stack.secret("postgres"),
        connect_timeout=5,
    ) as conn:
        return list(conn.execute(sql, params).fetchall())


def lease_holder(stack: Stack, timeout: float = 30.0) -> str:
    """The component (`sloapi`, `sloapi-2`) holding the scheduler lease now."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = query(
            stack,
            "SELECT holder FROM report_scheduler_lease WHERE name = 'reports' AND expires_at > now()",
        )
        if rows:
            return component_of(str(rows[0][0]))
        time.sleep(1)
    raise SendDrillError(f"no sloapi instance took the scheduler lease within {timeout:.0f}s")


def component_of(holder: str) -> str:
    """`sloapi-2:4242` (instance name, pid) -> the component `sloapi-2`; `sloapi-1:…` -> `sloapi`."""
    number = int(holder.split(":", 1)[0].rsplit("-", 1)[1])
    return SLOAPI_NAMES[number - 1]


def free_month(stack: Stack) -> str:
    """The latest closed month nobody has sent yet (each drill run uses a fresh one)."""
    now = datetime.now(UTC)
    year, month = now.year, now.month
    for _ in range(120):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        key = f"{year:04d}-{month:02d}"
        if not query(stack, "SELECT 1 FROM report_deliveries WHERE month = %s", (key,)):
            return key
    raise SendDrillError("every month of the last ten years was sent already")


def start_send(stack: Stack, instance: str) -> Send:
    """Freeze the sink, then ask `instance` to mail a fresh month (in a thread; it blocks)."""
    send = Send(free_month(stack), instance, time.time())
    freeze_sink(stack, True)
    url = f"http://{stack.addr(instance)}/api/v1/reports/{send.month}/send"
    token = stack.secret("sloapi_token")

    def post() -> None:
        try:
            r = httpx.post(url, headers={"Authorization": f"Bearer {token}"}, timeout=SEND_TIMEOUT)
            send.answer = {"status": r.status_code, "body": r.text[:500]}
        except httpx.HTTPError as exc:
            send.answer = {"error": type(exc).__name__}

    send.thread = threading.Thread(target=post, name="report-send", daemon=True)
    send.thread.start()
    return send


def wait_claims(stack: Stack, send: Send) -> list[str]:
    """Wait until the send's claims are committed; return the claimed recipients."""
    deadline = time.monotonic() + CLAIMS_WITHIN
    while time.monotonic() < deadline:
        rows = query(
            stack,
            "SELECT recipient FROM report_deliveries WHERE month = %s AND status = 'sending'",
            (send.month,),
        )
        if rows:
            return [str(r[0]) for r in rows]
        time.sleep(0.2)
    freeze_sink(stack, False)
    raise SendDrillError(f"no delivery claim for {send.month} within {CLAIMS_WITHIN:.0f}s: {send.answer}")


def freeze_sink(stack: Stack, frozen: bool) -> None:
    """SIGSTOP (frozen) or SIGCONT the SMTP sink: connections wait for its greeting meanwhile."""
    pid = stack.pid(SINK)
    if pid is None:
        raise SendDrillError("the SMTP sink is not running")
    os.kill(pid, signal.SIGSTOP if frozen else signal.SIGCONT)


def kill_instance(stack: Stack, instance: str) -> None:
    """SIGKILL one sloapi instance (no clean shutdown: its lease and claims stay until they expire)."""
    pid = stack.pid(instance)
    if pid is None:
        raise SendDrillError(f"{instance} is not running")
    process.kill(pid, signal.SIGKILL)


def wait_delivered(stack: Stack, send: Send) -> dict[str, tuple[str, str | None, str | None]]:
    """Wait until every copy of the send's month is `sent` (noting when in `send.delivered_s`);
    recipient -> (status, message id, holder)."""
    deadline = time.monotonic() + DELIVERED_WITHIN
    rows: list[tuple[Any, ...]] = []
    while time.monotonic() < deadline:
        rows = query(
            stack,
            "SELECT recipient, status, message_id, claimed_by FROM report_deliveries WHERE month = %s",
            (send.month,),
        )
        if rows and all(r[1] == "sent" for r in rows):
            send.delivered_s = send.delivered_s or round(time.time() - send.started, 1)
            break
        time.sleep(0.5)
    return {str(r[0]): (str(r[1]), r[2], r[3]) for r in rows}


def mails_since(stack: Stack, since: float) -> list[tuple[str, list[str]]]:
    """(Message-ID, recipients) of every mail the sink stored since `since` (epoch seconds)."""
    return [
        (str(m.message.get("Message-ID", "")).strip(), m.recipients)
        for m in read_mail(stack.path("sink", "mail"))
        if m.path.stat().st_mtime + 1 >= since
    ]


def judge_delivery(stack: Stack, send: Send, finisher: str | None = None) -> list[tuple[str, bool, str]]:
    """The send's expectations: every copy `sent` (by instance `finisher` when given), the sink
    holds exactly one mail per recipient, under its copy's own Message-ID. (name, held, detail)."""
    copies = wait_delivered(stack, send)
    mails = mails_since(stack, send.started)
    unsent = {r: c[0] for r, c in copies.items() if c[0] != "sent"}
    counts = {r: sum(r in rcpts for _, rcpts in mails) for r in copies}
    foreign = [r for r, (_, mid, _) in copies.items() if any(r in rc and m != mid for m, rc in mails)]
    ids = [c[1] for c in copies.values()]
    holders = sorted({str(c[2]).split(":", 1)[0] for c in copies.values()})
    out = [
        (
            f"every copy of {send.month} sent within {DELIVERED_WITHIN:.0f}s",
            bool(copies) and not unsent,
            f"{len(copies)} copies, all sent {send.delivered_s}s after the send started; "
            f"not sent: {unsent or 'none'}; sent by: {', '.join(holders)}",
        ),
        (
            "exactly one mail per recipient in the sink",
            bool(counts) and set(counts.values()) == {1},
            f"mails per recipient: {counts}; the API call: {send.answer or 'no answer'}",
        ),
        (
            "one Message-ID per copy, the mail's own",
            len(set(ids)) == len(ids) and None not in ids and not foreign,
            f"{len(set(ids))} distinct of {len(ids)}; other Message-IDs for: {foreign or 'none'}",
        ),
    ]
    if finisher:
        out.append((f"{finisher} finished the send", holders == [finisher], f"sent by: {holders}"))
    return out
