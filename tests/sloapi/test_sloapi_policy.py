"""Error-budget policy and the deploy gate against a real Prometheus holding known history
(slo_history.py), the override audit, and the policy block of the spec."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from slo_history import DAY, History
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from sloapi.config import Settings
from sloapi.engine.policy import BudgetPolicy, policy_state
from sloapi.errors import SpecError
from sloapi.main import create_app
from sloapi.reports.html import to_html
from sloapi.reports.month import parse_month
from sloapi.reports.render import to_text
from sloapi.reports.service import ReportService
from sloapi.specs import load_dir
from sloapi.storage.audit import AuditRowError, GateOverride, record_override
from sloapi.storage.db import make_engine, make_session_factory
from sloapi.storage.migrate import upgrade
from tests.exporters.pgbouncer.pgbouncer_daemons import Postgres, postgres, workdir  # noqa: F401 (fixtures)

TOKEN = "s3cret"
SPEC = """\
version: "prometheus/v1"
service: "{service}"
{policy}
slos:
  - name: "availability"
    objective: 99.9
    sli:
      events:
        error_query: sum(rate({metric}{{proxy="{proxy}", code="5xx"}}[{{{{.window}}}}]))
        total_query: sum(rate({metric}{{proxy="{proxy}"}}[{{{{.window}}}}]))
"""
METRIC = "haproxy_backend_http_responses_total"


def remaining(history: History) -> float:
    """The web SLO's share of the budget left over 30 days at the history's end (independent)."""
    errors, total, _covered, _expected = history.web_window(history.end, 30 * DAY)
    return 1 - errors / total / 0.001


@pytest.fixture(scope="module")
def specs_dir(tmp_path_factory: pytest.TempPathFactory, history: History) -> Path:
    """Four services on the known history: web (frozen), tight (warn), calm (ok), api (no traffic)."""
    left = 100 * remaining(history)
    assert 30 < left < 70  # by construction: the month's outages spent about 60 % of the budget
    folder = tmp_path_factory.mktemp("policy-specs")
    policies = {
        "web": f"policy:\n  warn_below_percent: {left + 10:.3f}\n  freeze_below_percent: {left + 5:.3f}",
        "tight": f"policy:\n  warn_below_percent: {left + 5:.3f}",
        "calm": "",
        "api": "",
    }
    for service, policy in policies.items():
        proxy = "api" if service == "api" else "web"
        (folder / f"{service}.yml").write_text(
            SPEC.format(service=service, policy=policy, proxy=proxy, metric=METRIC), encoding="utf-8"
        )
    return folder


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, prom_url: str, history: History, specs_dir: Path
) -> Iterator[TestClient]:
    """The API on those specs, clock at the history's end, token `s3cret`."""
    tmp = tmp_path_factory.mktemp("policy-api")
    settings = Settings(
        slos_dir=specs_dir,
        prometheus_url=prom_url,
        database_url=f"sqlite:///{tmp / 'sloapi.db'}",
        prometheus_timeout_seconds=60,
        api_token=TOKEN,  # type: ignore[arg-type]
    )
    now = datetime.fromtimestamp(history.end, UTC)
    with TestClient(create_app(settings, clock=lambda: now)) as test_client:
        yield test_client


def test_policy_freezes_below_the_spec_threshold(client: TestClient, history: History) -> None:
    body = client.get("/api/v1/slos/web-availability/policy").json()
    assert body["state"] == "freeze"
    assert body["remaining_ratio"] == pytest.approx(remaining(history), rel=1e-9)
    assert body["policy"]["freeze_below_ratio"] == pytest.approx(remaining(history) + 0.05, abs=1e-5)
    assert body["reasons"] == [f"web-availability: {100 * remaining(history):.1f}% of the budget left "
                               f"(at or below {100 * remaining(history) + 5:.1f}%)"]  # fmt: skip
    assert client.get("/api/v1/slos/calm-availability/policy").json()["state"] == "ok"
    api = client.get("/api/v1/slos/api-availability/policy").json()
    assert (api["state"], api["verdict"], api["remaining_ratio"]) == ("ok", "no_traffic", None)
    assert client.get("/api/v1/slos/nope/policy").status_code == 404


def test_gate_refuses_with_409_and_lets_fixes_through(client: TestClient) -> None:
    refused = client.post("/api/v1/gate", json={"service": "web", "change": "deploy"})
    assert refused.status_code == 409
    body = refused.json()
    assert (body["allowed"], body["state"], body["overridden"]) == (False, "freeze", False)
    assert "frozen except for fix, rollback, revert, security" in body["reasons"][0]
    fix = client.post("/api/v1/gate", json={"service": "web", "change": "fix"})
    assert (fix.status_code, fix.json()["allowed"]) == (200, True)


def test_gate_at_warn_refuses_only_risky_changes(client: TestClient) -> None:
    risky = client.post("/api/v1/gate", json={"service": "tight", "change": "migration"})
    assert risky.status_code == 409
    assert "'migration' changes are frozen (risky)" in risky.json()["reasons"][0]
    deploy = client.post("/api/v1/gate", json={"service": "tight", "change": "deploy"})
    assert (deploy.status_code, deploy.json()["state"]) == (200, "warn")
    calm = client.post("/api/v1/gate", json={"service": "calm", "change": "risky"})
    assert (calm.status_code, calm.json()["state"], calm.json()["reasons"]) == (200, "ok", [])


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"service": "nope", "change": "deploy"}, 404),
        ({"service": "web", "change": "Deploy!"}, 422),
        ({"service": "web"}, 422),
        ({"service": "web", "change": "deploy", "extra": 1}, 422),
        ({"service": "web", "change": "deploy", "override": {"by": "ann", "reason": "  "}}, 422),
    ],
)
def test_gate_bad_requests(client: TestClient, body: dict, code: int) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert client.post("/api/v1/gate", json=body, headers=headers).status_code == code


def test_override_needs_the_token_and_is_recorded(client: TestClient, history: History) -> None:
    override = {"by": "ann", "reason": "security fix <CVE-2026-1> shipped as a deploy"}
    body = {"service": "web", "change": "deploy", "override": override}
    assert client.post("/api/v1/gate", json=body).status_code == 401
    wrong = client.post("/api/v1/gate", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert client.get("/api/v1/gate/overrides").json()["overrides"] == []
    done = client.post("/api/v1/gate", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert done.status_code == 200
    answer = done.json()
    assert (answer["allowed"], answer["overridden"]) == (False, True)
    (row,) = client.get("/api/v1/gate/overrides").json()["overrides"]
    assert row["id"] == answer["override_id"]
    assert (row["by"], row["reason"], row["service"], row["change"], row["state"]) == (
        "ann", override["reason"], "web", "deploy", "freeze"
    )  # fmt: skip
    assert row["at"] == datetime.fromtimestamp(history.end, UTC).isoformat()
    assert row["refusals"] == answer["reasons"]
    # an allowed change needs no override: nothing is recorded
    fix = {"service": "web", "change": "fix", "override": override}
    assert (
        client.post("/api/v1/gate", json=fix, headers={"Authorization": f"Bearer {TOKEN}"}).json()[
            "overridden"
        ]
        is False
    )
    assert len(client.get("/api/v1/gate/overrides").json()["overrides"]) == 1


def test_audit_rows_are_never_changed_or_deleted(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    upgrade(engine)
    sessions = make_session_factory(engine)
    at = datetime(2026, 11, 3, 9, tzinfo=UTC)
    with sessions() as session:
        row = record_override(
            session,
            at=at,
            actor="ann",
            reason="why",
            service="web",
            change="deploy",
            state="freeze",
            refusals=["r"],
        )
        session.delete(row)
        with pytest.raises(AuditRowError):
            session.flush()
        session.rollback()
        row = session.get(GateOverride, row.id)
        assert row is not None
        row.reason = "rewritten"
        with pytest.raises(AuditRowError):
            session.commit()
        session.rollback()
    # below the ORM, the database itself refuses
    with engine.connect() as connection:
        for statement in ("DELETE FROM gate_overrides", "UPDATE gate_overrides SET reason = 'x'"):
            with pytest.raises(DatabaseError, match="never changed or deleted"):
                connection.execute(text(statement))
            connection.rollback()
        assert connection.execute(text("SELECT actor, reason FROM gate_overrides")).all() == [("ann", "why")]
    engine.dispose()


def test_overrides_are_listed_in_the_months_report(client: TestClient, history: History) -> None:
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.sessions() as session:
        record_override(
            session, at=datetime.fromtimestamp(history.end - 60, UTC), actor="bob", reason="<b>late</b> fix",
            service="tight", change="migration", state="warn", refusals=["tight: below"],
        )  # fmt: skip
    service: ReportService = ctx.reports()
    end = datetime.fromtimestamp(history.end, UTC)
    month = parse_month(f"{end:%Y-%m}", "UTC")
    report = service.compute(month)
    (bob,) = [o for o in report.overrides if o.by == "bob"]
    assert (bob.change, bob.state, bob.at) == (
        "migration",
        "warn",
        datetime.fromtimestamp(history.end - 60, UTC),
    )
    assert report.overrides == sorted(report.overrides, key=lambda o: o.at)
    assert "bob: migration to tight (warn): <b>late</b> fix" in to_text(report)
    html = to_html(report)
    assert "Error-budget policy overrides" in html and "&lt;b&gt;late&lt;/b&gt; fix" in html
    assert "<b>late</b> fix" in [o["reason"] for o in report.model_dump(mode="json")["overrides"]]


def test_policy_states_at_the_thresholds() -> None:
    policy = BudgetPolicy(warn_below=0.25, freeze_below=0.0)
    assert policy_state("a", 0.25, "met", policy).state == "ok"
    assert policy_state("a", 0.2499, "met", policy).state == "warn"
    assert policy_state("a", 0.0, "missed", policy).state == "freeze"
    assert policy_state("a", -0.5, "missed", policy).reason == "a: -50.0% of the budget left (exhausted)"
    assert policy_state("a", None, "no_data", policy).state == "warn"


def test_policy_block_of_the_spec(tmp_path: Path) -> None:
    def load(policy: str, slo_policy: str = "") -> BudgetPolicy:
        text_ = SPEC.format(service="s", policy=policy, proxy="web", metric=METRIC)
        if slo_policy:
            text_ += f"    policy:\n{slo_policy}"
        (tmp_path / "s.yml").write_text(text_, encoding="utf-8")
        (spec,) = load_dir(tmp_path)
        return spec.policy

    assert load("") == BudgetPolicy()
    service_level = load("policy:\n  warn_below_percent: 50\n  risky: [deploy]")
    assert (service_level.warn_below, service_level.risky, service_level.fixes) == (
        0.5,
        ("deploy",),
        BudgetPolicy().fixes,
    )
    slo_level = load("policy:\n  warn_below_percent: 50", "      freeze_below_percent: 10\n")
    assert (slo_level.warn_below, slo_level.freeze_below) == (0.5, 0.1)
    for bad, reason in [
        ("policy:\n  warn_below_percent: 120", "from 0 to 100"),
        ("policy:\n  warn_below_percent: 5\n  freeze_below_percent: 5", "must be above"),
        ("policy:\n  risky: deploy", "list of change kinds"),
        ("policy:\n  freeze: 1", "unknown key 'freeze'"),
    ]:
        with pytest.raises(SpecError, match=reason):
            load(bad)


def test_postgresql_refuses_to_change_or_delete_audit_rows(postgres: Postgres) -> None:  # noqa: F811
    engine = make_engine(f"postgresql://postgres@127.0.0.1:{postgres.port}/postgres")
    try:
        upgrade(engine)
        with make_session_factory(engine)() as session:
            record_override(
                session, at=datetime(2026, 11, 3, 9, tzinfo=UTC), actor="ann", reason="why",
                service="web", change="deploy", state="freeze", refusals=[],
            )  # fmt: skip
        with engine.connect() as connection:
            for statement in ("DELETE FROM gate_overrides", "UPDATE gate_overrides SET reason = 'x'",
                              "TRUNCATE gate_overrides"):  # fmt: skip
                with pytest.raises(DatabaseError, match="never changed or deleted"):
                    connection.execute(text(statement))
                connection.rollback()
            assert connection.execute(text("SELECT actor, reason FROM gate_overrides")).all() == [
                ("ann", "why")
            ]
    finally:
        engine.dispose()
