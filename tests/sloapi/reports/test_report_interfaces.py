"""The report's HTTP API and CLI, against the real Prometheus and a real SMTP server."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from report_history import Clock, SMTPSink

from sloapi.cli import main
from sloapi.config import Settings
from sloapi.main import create_app

TOKEN = "s3cret-token"


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    sink = SMTPSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def client(tmp_path: Path, report_prometheus, specs_dir: Path, smtp):  # type: ignore[no-untyped-def]
    settings = Settings(
        prometheus_url=report_prometheus.url,
        database_url=f"sqlite:///{tmp_path / 'api.db'}",
        slos_dir=specs_dir,
        report_timezone="Europe/Paris",
        report_recipients=["ops@example.com"],
        mail_from="nines@example.com",
        smtp_port=smtp.port,
        api_token=TOKEN,
    )
    with TestClient(create_app(settings, clock=Clock())) as test_client:
        yield test_client


def test_json_report_fields(client) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/api/v1/reports/2026-09")
    assert answer.status_code == 200
    body = answer.json()
    assert body["month"] == "2026-09" and body["timezone"] == "Europe/Paris"
    assert body["partial"] is False and body["generated_at"]
    web = next(slo for slo in body["slos"] if slo["id"] == "web-availability")
    assert web["objective"] == 0.999
    assert 0.99 < web["sli"] < 1 and isinstance(web["met"], bool)
    assert web["error_budget"]["allowed_seconds"] == pytest.approx(0.001 * 30 * 86400)
    assert web["error_budget"]["consumed_ratio"] + web["error_budget"]["remaining_ratio"] == pytest.approx(1)
    assert web["downtime_seconds"] > 0 and web["coverage_ratio"] == 1.0
    first = web["incidents"][0]
    assert first["start"] == "2026-08-31T22:00:00Z" and first["end"] == "2026-08-31T22:10:00Z"
    assert first["duration_seconds"] == 600 and first["budget_consumed_ratio"] > 0
    assert len(web["daily"]) == 30 and web["daily"][0]["date"] == "2026-09-01"
    assert client.get("/api/v1/reports/2026-09").json()["slos"] == body["slos"]


def test_reads_store_nothing(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A GET of a closed month computes it but keeps no snapshot; mailing keeps one, which
    later GETs then serve."""
    from sloapi.storage import report_snapshots as store

    sessions = client.app.state.ctx.sessions
    for name in ("2026-09", "2026-09.csv", "2026-09.html", "2026-08"):
        assert client.get(f"/api/v1/reports/{name}").status_code == 200
    with sessions() as session:
        assert store.snapshot_count(session, "2026-09", "Europe/Paris") == 0
        assert store.snapshot_count(session, "2026-08", "Europe/Paris") == 0
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert client.post("/api/v1/reports/2026-09/send", headers=auth).status_code == 200
    with sessions() as session:
        assert store.snapshot_count(session, "2026-09", "Europe/Paris") == 1
    kept = client.get("/api/v1/reports/2026-09").json()
    assert client.get("/api/v1/reports/2026-09").json() == kept  # served from the snapshot
    with sessions() as session:
        assert store.snapshot_count(session, "2026-09", "Europe/Paris") == 1


def test_deliveries_need_a_configured_token(tmp_path: Path, report_prometheus, specs_dir: Path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(
        prometheus_url=report_prometheus.url,
        database_url=f"sqlite:///{tmp_path / 'open.db'}",
        slos_dir=specs_dir,
        report_timezone="Europe/Paris",
    )
    with TestClient(create_app(settings, clock=Clock())) as open_client:
        assert open_client.get("/api/v1/reports/2026-09/deliveries").status_code == 403


def test_bad_months_and_formats(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/reports/2026-13").status_code == 422
    assert client.get("/api/v1/reports/sept").status_code == 422
    future = client.get("/api/v1/reports/2099-01")
    assert future.status_code == 422 and "not started" in future.json()["detail"]
    assert client.get("/api/v1/reports/2026-09.pdf").status_code == 404


def test_send_csv_matches_api_and_refuses_resend(client, smtp) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/api/v1/reports/2026-09/send").status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    sent = client.post("/api/v1/reports/2026-09/send", headers=auth)
    assert sent.status_code == 200
    assert {o["recipient"]: o["status"] for o in sent.json()["outcomes"]} == {
        "ops@example.com": "sent",
        "dba@example.com": "sent",
    }
    assert client.post("/api/v1/reports/2026-09/send", headers=auth).status_code == 409
    assert client.get("/api/v1/reports/2026-09/deliveries").status_code == 401
    wrong = client.get("/api/v1/reports/2026-09/deliveries", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "example.com" not in wrong.text
    deliveries = client.get("/api/v1/reports/2026-09/deliveries", headers=auth).json()["deliveries"]
    assert {(d["recipient"], d["status"], d["sends"]) for d in deliveries} == {
        ("dba@example.com", "sent", 1),
        ("ops@example.com", "sent", 1),
    }
    (raw,) = smtp.to("ops@example.com")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    (attachment,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/csv"]  # type: ignore[attr-defined]
    api_csv = client.get("/api/v1/reports/2026-09.csv")
    assert api_csv.headers["content-type"].startswith("text/csv")
    assert attachment.get_content() == api_csv.text
    forced = client.post("/api/v1/reports/2026-09/send?force=true", headers=auth)
    assert forced.status_code == 200 and len(smtp.messages) == 4


def test_not_final_month_is_not_sent(client) -> None:  # type: ignore[no-untyped-def]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    answer = client.post("/api/v1/reports/2026-10/send", headers=auth)
    assert answer.status_code == 422 and "not final" in answer.json()["detail"]
    partial = client.get("/api/v1/reports/2026-10").json()
    assert partial["partial"] is True


@pytest.fixture
def cli_env(monkeypatch, tmp_path: Path, report_prometheus, specs_dir: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SLOAPI_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SLOAPI_REPORT_TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("SLOAPI_MAIL_FROM", "nines@example.com")
    return ["--slos", str(specs_dir), "--prometheus-url", report_prometheus.url]


def test_cli_formats_and_exit_codes(cli_env, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "aug.json"
    assert main(["report", "2026-08", "--format", "json", "--out", str(out), *cli_env]) == 0
    report = json.loads(out.read_text())
    assert report["month"] == "2026-08" and len(report["slos"]) == 2
    assert main(["report", "2026-08", "--format", "csv", *cli_env]) == 0
    csv_text = capsys.readouterr().out
    assert csv_text.splitlines()[0].startswith("month,id,objective,sli,met")
    assert main(["report", "2026-08", "--refresh", "--format", "text", *cli_env]) == 0
    assert "Availability report August 2026" in capsys.readouterr().out
    assert main(["report", "2026-8", *cli_env]) == 2
    assert "malformed month" in capsys.readouterr().err
    assert main(["report", "2099-01", *cli_env]) == 2
    assert "has not started" in capsys.readouterr().err


def test_cli_partial_month_says_so(cli_env, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SLOAPI_REPORT_TIMEZONE", "UTC")
    current = datetime.now(UTC).strftime("%Y-%m")
    assert main(["report", current, "--format", "json", *cli_env]) == 0
    captured = capsys.readouterr()
    assert "partial report" in captured.err
    assert json.loads(captured.out)["partial"] is True


def test_cli_send_once(cli_env, smtp, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SLOAPI_SMTP_PORT", str(smtp.port))
    args = ["report", "2026-08", "--send", "--to", "boss@example.com", "--out", "/dev/null", *cli_env]
    assert main(args) == 0
    assert "boss@example.com: sent" in capsys.readouterr().err
    assert main(args) == 3  # already sent by an earlier run
    assert "--force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0
    assert len(smtp.to("boss@example.com")) == 2


def test_cli_send_exit_codes_failed_and_delayed(cli_env, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from stack.throwaway import free_port

    monkeypatch.setenv("SLOAPI_SMTP_PORT", str(free_port()))  # nobody listens
    args = ["report", "2026-08", "--send", "--to", "cron@example.com", "--out", "/dev/null", *cli_env]
    assert main(args) == 1
    failed = capsys.readouterr().err
    assert "cron@example.com: failed" in failed
    retry_at = datetime.fromisoformat(failed.split("next attempt at ")[1].split()[0])
    assert retry_at.utcoffset() is not None and retry_at > datetime.now(UTC)
    assert main(args) == 4  # the retry is not due yet: delayed
    assert "cron@example.com: delayed" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        (["sent"], 0),
        (["sent", "already_sent"], 0),
        (["already_sent", "already_sent"], 3),
        (["sent", "delayed"], 4),
        (["delayed", "unconfirmed"], 5),
        (["unconfirmed", "failed", "sent"], 1),
    ],
)
def test_send_exit_code_precedence(statuses: list[str], code: int) -> None:
    from sloapi.commands.report import send_exit_code

    assert send_exit_code(statuses) == code
