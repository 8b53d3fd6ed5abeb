"""`stack up --sloapi-instances 2`: what the stack renders for two sloapi instances (no processes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.components.nines import SloApi
from stack.components.observability import Prometheus, render_prometheus_config
from stack.components.pgbouncer import PgBouncer
from stack.drills.run import DrillError, run_drill
from stack.layout import Layout
from stack.runner import Stack

OFFSET = 20000


def _stack(tmp_path: Path, instances: int) -> Stack:
    return Stack(Layout(tmp_path, offset=OFFSET, etcd_members=1, sloapi_instances=instances))


def test_two_instances_share_one_postgresql_store_through_the_pgbouncer_vip(tmp_path: Path) -> None:
    stack = _stack(tmp_path, 2)
    lay = stack.layout
    first, second = stack.component("sloapi"), stack.component("sloapi-2")
    assert isinstance(first, SloApi) and isinstance(second, SloApi)
    env1, env2 = first.env(), second.env()
    url = f"postgresql://sloapi:{lay.secret('sloapi')}@{lay.net.vip('pgbouncer')}:{OFFSET + 6432}/sloapi"
    assert env1["SLOAPI_DATABASE_URL"] == env2["SLOAPI_DATABASE_URL"] == url
    assert (env1["SLOAPI_INSTANCE_NAME"], env2["SLOAPI_INSTANCE_NAME"]) == ("sloapi-1", "sloapi-2")
    shared = (
        "SLOAPI_API_TOKEN_FILE",
        "SLOAPI_SMTP_PORT",
        "SLOAPI_REPORT_RECIPIENTS",
        "SLOAPI_PROMETHEUS_URL",
    )
    assert all(env1[k] == env2[k] for k in shared)
    assert env1["SLOAPI_SMTP_PORT"] == str(OFFSET + 2525)
    assert len(env1["SLOAPI_REPORT_RECIPIENTS"].split(",")) == 3
    assert env1["SLOAPI_REPORT_SCHEDULER_LEASE_SECONDS"] == "10"
    assert env1["SLOAPI_REPORT_CLAIM_LEASE_SECONDS"] == "30"
    assert "SLOAPI_REPORT_CRON" not in env1  # the same default cron on both
    assert first.argv()[-1] == str(OFFSET + 8000) and second.argv()[-1] == str(OFFSET + 8001)


def test_one_instance_keeps_the_embedded_sqlite(tmp_path: Path) -> None:
    stack = _stack(tmp_path, 1)
    assert [c.name for c in stack.components if c.kind == "sloapi"] == ["sloapi"]
    env = stack.component("sloapi").env()
    assert env["SLOAPI_DATABASE_URL"] == f"sqlite:///{tmp_path / 'sloapi' / 'sloapi.db'}"
    assert env["SLOAPI_INSTANCE_NAME"] == "sloapi-1"
    assert "SLOAPI_REPORT_SCHEDULER_LEASE_SECONDS" not in env
    assert "sloapi" not in PgBouncer(stack.layout, "pgbouncer-a").ini().split("[pgbouncer]")[0]


@pytest.mark.parametrize("node", ["pgbouncer-a", "pgbouncer-b"])
def test_both_pgbouncer_nodes_route_the_sloapi_database_to_the_primary(tmp_path: Path, node: str) -> None:
    lay = _stack(tmp_path, 2).layout
    databases = PgBouncer(lay, node).ini().split("[pgbouncer]")[0].splitlines()
    primary = f"host={lay.net.vip('frontdoor')} port={OFFSET + 5000}"
    assert f"sloapi = {primary} dbname=sloapi" in databases
    assert f"app = {primary} dbname=app" in databases


@pytest.mark.parametrize(("instances", "targets"), [(1, [8000]), (2, [8000, 8001])])
def test_prometheus_scrapes_every_instance_under_job_sloapi(
    tmp_path: Path, instances: int, targets: list[int]
) -> None:
    stack = _stack(tmp_path, instances)
    prom = stack.component("prometheus")
    assert isinstance(prom, Prometheus)
    cfg = render_prometheus_config(stack.layout, prom.wanted)
    (job,) = [j for j in cfg["scrape_configs"] if j["job_name"] == "sloapi"]
    got = [t for group in job["static_configs"] for t in group["targets"]]
    assert got == [f"127.0.0.1:{OFFSET + p}" for p in targets]


@pytest.mark.parametrize("name", ["sloapi-instance-down", "report-send-switchover"])
def test_send_drills_refuse_a_stack_with_one_instance(tmp_path: Path, name: str) -> None:
    with pytest.raises(DrillError, match=r"needs 2 sloapi instances.*--sloapi-instances 2"):
        run_drill(_stack(tmp_path, 1), name)
