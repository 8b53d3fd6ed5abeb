"""Secrets never reach a host the configuration does not name, nor a log, nor the terminal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hostile import ExporterProcess, FakePatroni, FakePostgres, get, metric, run_exporter

from stack.throwaway import wait_for

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "patroni"
PASSWORD = "mon-Secret-4711"


@pytest.fixture
def fake_pg() -> Iterator[FakePostgres]:
    pg = FakePostgres()
    yield pg
    pg.close()


def _hostile_patroni(pg_port: int) -> FakePatroni:
    """A Patroni on an allowed host that names a port of its choosing as the leader's."""
    node = json.loads((FIXTURES / "replica_patroni.json").read_text())
    cluster = json.loads((FIXTURES / "healthy_cluster.json").read_text())
    for m in cluster["members"]:
        m["host"] = "127.0.0.1"
        if m["role"] == "leader":
            m["port"] = pg_port
    return FakePatroni({"/patroni": node, "/cluster": cluster, "/history": []})


def _run_patroni_exporter(
    tmp_path: Path, patroni: FakePatroni, **options: object
) -> tuple[ExporterProcess, str]:
    config = tmp_path / "patroni.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "targets": [{"name": "pg-2", "address": patroni.url, "timeout": "3s"}],
                "monitoring_dsn": "postgresql://nines_monitor@127.0.0.1/postgres",
                "monitoring_password_env": "MON_PW",
                **options,
            }
        )
    )
    exp = ExporterProcess(
        "patroni", [f"--config.file={config}"], tmp_path / "patroni.log", env={"MON_PW": PASSWORD}
    )
    exp.start()
    try:
        status, body = get(exp.url + "/metrics")
    finally:
        exp.stop()
    assert status == 200
    return exp, body


def test_leader_port_named_by_an_answer_gets_no_password(tmp_path: Path, fake_pg: FakePostgres) -> None:
    patroni = _hostile_patroni(fake_pg.port)
    try:
        exp, body = _run_patroni_exporter(tmp_path, patroni)
    finally:
        patroni.close()
    assert metric(body, 'patroni_up{target="pg-2"}') == 1
    assert metric(body, 'patroni_exporter_source_up{target="pg-2",source="pg_stat_replication"}') == 0
    assert fake_pg.connections == 0
    assert fake_pg.passwords == []
    log = exp.text()
    assert f"leader 127.0.0.1:{fake_pg.port} is neither" in log
    assert PASSWORD not in log


def test_listed_host_and_port_do_get_the_password(tmp_path: Path, fake_pg: FakePostgres) -> None:
    # the control: the same fake PostgreSQL, once configured, is asked and answered
    patroni = _hostile_patroni(fake_pg.port)
    try:
        exp, _ = _run_patroni_exporter(tmp_path, patroni, monitoring_hosts=f"127.0.0.1:{fake_pg.port}")
    finally:
        patroni.close()
    wait_for(lambda: fake_pg.passwords, 5, "the password at the fake PostgreSQL")
    assert fake_pg.passwords == [PASSWORD]
    assert PASSWORD not in exp.text()


def test_monitoring_hosts_with_a_bad_port_refuse_the_start() -> None:
    out = run_exporter(
        "patroni",
        ["--patroni.url=http://127.0.0.1:8008", "--patroni.monitoring-dsn=dbname=postgres",
         "--patroni.monitoring-hosts=db1:99999"],
    )  # fmt: skip
    assert out.returncode == 2
    assert "monitoring_hosts: 'db1:99999' is not host or host:port" in out.stderr


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("haproxy", ["--haproxy.scrape-uri=nines:Tail-Secret-1@127.0.0.1:9999"]),
        ("patroni", ["--patroni.url=nines:Tail-Secret-1@127.0.0.1:8008"]),
        ("pgbouncer", ["--pgbouncer.dsn=postgresql://stats:pa@Tail-Secret-1@127.0.0.1:1/pgbouncer"]),
    ],
)
def test_addresses_with_passwords_are_masked_at_start(name: str, args: list[str]) -> None:
    out = run_exporter(name, args)
    assert out.returncode == 2, out
    assert out.stderr.strip()
    assert "Secret" not in out.stdout + out.stderr
