"""Mailing reports through a real SMTP server (aiosmtpd): content, exactly once, retries."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
import report_history as hist
from report_history import Clock, SMTPSink

from sloapi.reports.month import Month
from sloapi.reports.render import to_csv

SEP = Month(2026, 9, "Europe/Paris")


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    sink = SMTPSink().start()
    yield sink
    sink.stop()


def parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def test_message_parts_images_and_csv(make_service, smtp) -> None:  # type: ignore[no-untyped-def]
    service = make_service(smtp_port=smtp.port)
    outcomes = service.send(SEP)
    assert sorted((o.recipient, o.status) for o in outcomes) == [
        ("dba@example.com", "sent"),
        ("ops@example.com", "sent"),
    ]
    report, _ = service.report(SEP)
    (raw,) = smtp.to("ops@example.com")
    message = parse(raw)
    assert message["Subject"] == report.subject()
    assert message["Subject"].startswith("Availability report September 2026: ")
    assert message.get_content_type() == "multipart/mixed"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert "web-availability" in text.get_content()
    html_text = html.get_content()
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 2
    for image in images:
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html_text
        assert image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    (csv_part,) = [part for part in message.iter_attachments() if part.get_content_type() == "text/csv"]
    assert csv_part.get_filename() == "availability-2026-09.csv"
    assert csv_part.get_content().replace("\r\n", "\n") == to_csv(report).replace("\r\n", "\n")
    # the per-SLO recipient gets only its SLO
    (dba,) = smtp.to("dba@example.com")
    dba_html = parse(dba).get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "pg-primary" in dba_html and "web-availability" not in dba_html
    assert parse(dba)["Subject"].endswith(": 1 met, 0 missed")


def test_second_run_sends_nothing_and_force_resends(make_service, smtp) -> None:  # type: ignore[no-untyped-def]
    service = make_service(smtp_port=smtp.port)
    assert {o.status for o in service.scheduled()} == {"sent"}
    assert {o.status for o in service.scheduled()} == {"already_sent"}
    assert len(smtp.messages) == 2
    again = service.send(SEP, to=["ops@example.com"], force=True)
    assert [o.status for o in again] == ["sent"]
    assert len(smtp.to("ops@example.com")) == 2
    # a deliberate resend is a new message: a new Message-ID, the next generation
    first, second = smtp.message_ids("ops@example.com")
    assert first.endswith("-1@nines>") and second.endswith("-2@nines>")
    rows = {row.recipient: row for row in service.deliveries(SEP)}
    assert rows["ops@example.com"].sends == 2 and rows["dba@example.com"].sends == 1


def test_two_instances_send_one_copy(make_service, smtp) -> None:  # type: ignore[no-untyped-def]
    first = make_service(smtp_port=smtp.port, owner="instance-a")
    second = make_service(smtp_port=smtp.port, owner="instance-b")
    first.report(SEP)  # both serve the same snapshot
    results: list[list[str]] = []

    def run(service) -> None:  # type: ignore[no-untyped-def]
        results.append([o.status for o in service.scheduled()])

    threads = [threading.Thread(target=run, args=(s,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(results) == 2
    assert sorted(smtp.messages[i][0][0] for i in range(len(smtp.messages))) == [
        "dba@example.com",
        "ops@example.com",
    ]


def test_refusing_server_gets_exactly_one_copy_after_retries(make_service) -> None:  # type: ignore[no-untyped-def]
    sink = SMTPSink(refuse=3).start()
    clock = Clock()
    try:
        service = make_service(clock=clock, smtp_port=sink.port, report_recipients=["ops@example.com"])
        outcomes = {o.recipient: o for o in service.send(SEP, to=["ops@example.com"])}
        assert outcomes["ops@example.com"].status == "failed"
        assert "451" in outcomes["ops@example.com"].detail
        (row,) = service.deliveries(SEP)
        assert row.status == "failed" and row.attempts == 2 and "451" in (row.last_error or "")
        assert service.retry_failed() == []  # not due yet
        clock.now += timedelta(minutes=6)
        retried = service.retry_failed()
        assert [o.status for o in retried] == ["sent"]
        assert sink.refused == 3
        assert len(sink.messages) == 1
        clock.now += timedelta(hours=2)
        assert service.retry_failed() == []
        assert [o.status for o in service.send(SEP, to=["ops@example.com"])] == ["already_sent"]
        assert len(sink.messages) == 1
        (row,) = service.deliveries(SEP)
        assert row.status == "sent" and row.attempts == 3
    finally:
        sink.stop()


def test_server_down_for_hours_loses_nothing(make_service) -> None:  # type: ignore[no-untyped-def]
    sink = SMTPSink()
    clock = Clock()
    service = make_service(clock=clock, smtp_port=sink.port)  # nobody listens yet
    assert {o.status for o in service.send(SEP)} == {"failed"}
    for _ in range(5):  # hours of failing retries, backing off
        clock.now += timedelta(hours=1)
        assert {o.status for o in service.retry_failed()} == {"failed"}
    rows = service.deliveries(SEP)
    assert all(
        "Connection refused" in (row.last_error or "") or "Errno" in (row.last_error or "") for row in rows
    )
    sink.start()
    try:
        clock.now += timedelta(hours=1)
        assert {o.status for o in service.retry_failed()} == {"sent"}
        assert len(sink.messages) == 2
    finally:
        sink.stop()


def test_partial_month_is_not_sent(make_service, smtp) -> None:  # type: ignore[no-untyped-def]
    from sloapi.reports.errors import MonthError

    service = make_service(clock=Clock(hist.at("2026-09-20 10:00")), smtp_port=smtp.port)
    with pytest.raises(MonthError, match="not final"):
        service.send(SEP)
    assert smtp.messages == []


def test_stale_claim_of_a_dead_instance_is_taken_over_once(make_service, smtp) -> None:  # type: ignore[no-untyped-def]
    from sloapi.storage.report_tables import ReportDelivery

    clock = Clock()
    service = make_service(clock=clock, smtp_port=smtp.port)
    _, snapshot_id = service.report(SEP)
    with service.sessions() as session:  # an instance claimed it, then died before sending
        session.add(
            ReportDelivery(
                month="2026-09", recipient="ops@example.com", status="sending", attempts=0,
                sends=0, claimed_by="dead", claimed_at=clock.now, snapshot_id=snapshot_id,
            )
        )  # fmt: skip
        session.commit()
    assert service.retry_failed() == []  # its lease still runs
    (busy,) = service.send(SEP, to=["ops@example.com"])
    assert busy.status == "delayed" and "being sent by dead" in busy.detail
    clock.now += timedelta(minutes=16)
    other = make_service(clock=clock, smtp_port=smtp.port, owner="instance-b")
    outcomes = other.retry_failed() + service.retry_failed()
    assert [o.status for o in outcomes] == ["sent"]
    assert len(smtp.to("ops@example.com")) == 1
    (row,) = service.deliveries(SEP)
    assert (row.claimed_by or "").startswith("instance-b/") and row.sends == 1
    assert smtp.message_ids("ops@example.com") == [row.message_id]


def test_team_label_routes_an_slo_to_its_team(make_service) -> None:  # type: ignore[no-untyped-def]
    service = make_service(team_recipients={"dba": ["dba-team@example.com"], "web": ["web@example.com"]})
    pg = next(s for s in service.specs if s.service == "pg")
    service.specs = [
        dataclasses.replace(s, labels={**s.labels, "team": "dba"}) if s is pg else s for s in service.specs
    ]
    wanted = service.recipients()
    assert wanted["ops@example.com"] is None  # everything
    assert wanted["dba-team@example.com"] == {pg.id}
    assert "web@example.com" not in wanted  # no SLO is labelled team=web
    assert wanted["dba@example.com"] == {pg.id}  # the spec's own recipients still apply


def test_server_without_final_reply_gets_bounded_copies_with_one_message_id(make_service) -> None:  # type: ignore[no-untyped-def]
    """The server takes the body and never answers: no retry within the run, one slower retry
    later, then the copy is left ``unconfirmed``; every copy carries the same Message-ID."""
    sink = SMTPSink(swallow=True).start()
    clock = Clock()
    try:
        service = make_service(
            clock=clock, smtp_port=sink.port, smtp_timeout_seconds=1.0, report_recipients=["ops@example.com"]
        )
        service.retry = dataclasses.replace(service.retry, attempts=3, unconfirmed_copies=2)
        (first,) = service.send(SEP, to=["ops@example.com"])
        assert first.status == "unconfirmed" and "no final reply" in first.detail
        assert first.next_attempt_at == clock.now + timedelta(hours=1)
        assert first.next_attempt_at.utcoffset() == timedelta(0)
        assert len(sink.to("ops@example.com")) == 1  # not retried within the run
        clock.now += timedelta(minutes=30)
        assert service.retry_failed() == []  # the slower retry is not due yet
        clock.now += timedelta(minutes=31)
        (second,) = service.retry_failed()
        assert second.status == "unconfirmed" and second.next_attempt_at is None  # bound reached
        clock.now += timedelta(days=2)
        assert service.retry_failed() == []
        (again,) = service.send(SEP, to=["ops@example.com"])
        assert again.status == "unconfirmed" and "not retried" in again.detail
        ids = sink.message_ids("ops@example.com")
        (row,) = service.deliveries(SEP)
        assert len(ids) == 2 and set(ids) == {row.message_id}
        assert row.status == "unconfirmed" and row.unconfirmed == 2 and row.sends == 0
        assert service.delivery_counts()["unconfirmed"] == 1
    finally:
        sink.stop()
