"""The generated Grafana dashboards: up to date, well-formed, and valid PromQL on a real Prometheus."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from promql_names import REPO, dashboard_queries, dashboards, substitute

from stack.history import start_prometheus

BOARDS = dashboards()
UIDS = {
    "overview.json": "nines-overview",
    "haproxy.json": "nines-haproxy",
    "pgbouncer.json": "nines-pgbouncer",
    "patroni.json": "nines-patroni",
    "etcd.json": "nines-etcd",
    "slo.json": "nines-slo",
    "keepalived.json": "nines-keepalived",
}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "row"]


def test_generated_json_is_up_to_date() -> None:
    res = subprocess.run(
        [sys.executable, str(REPO / "dashboards" / "build.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_the_dashboards_of_the_issue_exist_with_stable_uids() -> None:
    assert {name: b["uid"] for name, b in BOARDS.items()} == UIDS


@pytest.mark.parametrize("name", sorted(UIDS))
def test_datasource_is_a_variable(name: str) -> None:
    board = BOARDS[name]
    text = (REPO / "dashboards" / "json" / name).read_text()
    assert "${DS_" not in text and "__inputs" not in board
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for var in variables.values():
        if var["type"] == "query":
            assert var["datasource"] == DATASOURCE
    for panel in _panels(board):
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert all(t["datasource"] == DATASOURCE for t in panel["targets"]), panel["title"]


@pytest.mark.parametrize("name", sorted(UIDS))
def test_cluster_and_instance_variables(name: str) -> None:
    variables = {v["name"]: v for v in BOARDS[name]["templating"]["list"]}
    assert {"cluster", "instance"} <= variables.keys()
    assert variables["instance"]["includeAll"] and variables["instance"]["allValue"] == ".*"
    queries = " ".join(e for _, e in dashboard_queries(BOARDS[name]))
    assert '=~"$cluster"' in queries and '=~"$instance"' in queries


@pytest.mark.parametrize("name", sorted(UIDS))
def test_every_panel_has_unit_description_and_queries(name: str) -> None:
    panels = _panels(BOARDS[name])
    assert len(panels) >= 6
    assert len({p["id"] for p in BOARDS[name]["panels"]}) == len(BOARDS[name]["panels"])
    for panel in panels:
        assert panel["description"].strip(), panel["title"]
        assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]
        assert panel["targets"], panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]


@pytest.mark.parametrize("name", sorted(UIDS))
def test_rates_use_the_rate_interval(name: str) -> None:
    for where, expr in dashboard_queries(BOARDS[name]):
        for window in re.findall(r"\b(?:rate|irate|deriv)\([^\[]*\[([^\]]+)\]", expr):
            assert window == "$__rate_interval", f"{where}: {expr}"


@pytest.mark.parametrize("name", sorted(UIDS))
def test_failovers_and_haproxy_state_changes_are_annotations(name: str) -> None:
    annotations = {a["name"]: a for a in BOARDS[name]["annotations"]["list"]}
    assert "patroni_cluster_failovers_total" in annotations["Failovers"]["expr"]
    assert "haproxy_server_status" in annotations["HAProxy state changes"]["expr"]
    assert annotations["Failovers"]["datasource"] == DATASOURCE


@pytest.mark.parametrize("name", ["overview.json", "haproxy.json", "pgbouncer.json", "keepalived.json"])
def test_boards_behind_a_floating_ip_mark_its_moves(name: str) -> None:
    annotations = {a["name"]: a for a in BOARDS[name]["annotations"]["list"]}
    assert "keepalived_become_master_total" in annotations["VIP moves"]["expr"]
    assert annotations["VIP moves"]["datasource"] == DATASOURCE


def test_overview_follows_a_request_through_each_hop() -> None:
    titles = [p["title"] for p in _panels(BOARDS["overview.json"])]
    hops = [t for t in titles if re.match(r"\d\. ", t)]
    assert hops == [
        "1. HAProxy (TLS, front door)",
        "2. App servers",
        "3. PgBouncer",
        "4. PostgreSQL primary",
    ]


def test_provisioning_files() -> None:
    prov = REPO / "dashboards" / "provisioning"
    ds = yaml.safe_load((prov / "datasources" / "prometheus.yml").read_text())
    assert ds["datasources"][0]["type"] == "prometheus"
    dash = yaml.safe_load((prov / "dashboards" / "nines.yml").read_text())
    provider = dash["providers"][0]
    assert provider["type"] == "file"
    assert provider["options"]["path"].startswith("/var/lib/grafana/dashboards")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real, empty Prometheus to parse and evaluate queries; yields its base URL."""
    home = tmp_path_factory.mktemp("prometheus")
    (home / "prometheus.yml").write_text("global:\n  scrape_interval: 1m\n")
    instance = start_prometheus(home / "prometheus.yml", home / "data", home / "log", timeout=60)
    try:
        yield instance.url
    finally:
        instance.stop()


def test_every_query_is_valid_promql(prometheus: str) -> None:
    errors = []
    checked = 0
    with httpx.Client(base_url=prometheus, timeout=10) as client:
        for name, board in BOARDS.items():
            for where, expr in dashboard_queries(board):
                resp = client.get("/api/v1/query", params={"query": substitute(expr)})
                checked += 1
                if resp.status_code != 200:
                    errors.append(f"{name} {where}: {resp.json().get('error')}: {expr}")
    assert checked > 100
    assert errors == []


def test_an_invalid_query_is_rejected(prometheus: str) -> None:
    resp = httpx.get(f"{prometheus}/api/v1/query", params={"query": "sum(rate(x[1m])"}, timeout=10)
    assert resp.status_code == 400
