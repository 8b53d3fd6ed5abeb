"""The exporter against a real 3-node Patroni cluster over etcd (see conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
import yaml
from live_cluster import LiveCluster
from patroni_cluster import free_port, wait_for
from prometheus_client.parser import text_string_to_metric_families

from exporters.patroni.cli import build
from exporters.patroni.scrape import PatroniScraper

pytestmark = [pytest.mark.stack, pytest.mark.slow]
PASSWORD_ENV = "PT_TEST_MONITOR_PASSWORD"
CHANGE_TIMEOUT = 120.0

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Prometheus' own parser: fails on any malformed line."""
    out: Samples = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def get(samples: Samples, metric: str, **labels: str) -> float | None:
    return samples.get((metric, frozenset(labels.items())))


@dataclass
class Exporter:
    url: str
    errors: list[str] = field(default_factory=list)

    text: str = ""

    def scrape(self) -> Samples:
        resp = httpx.get(f"{self.url}/metrics", timeout=30)
        assert resp.status_code == 200, resp.text
        self.text = resp.text
        return parse(resp.text)


def promtool_check(text: str) -> None:
    """`promtool check metrics` finds nothing to complain about."""
    out = subprocess.run(
        ["promtool", "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), out


@pytest.fixture
def exporter(cluster: LiveCluster, tmp_path: Path) -> Iterator[Exporter]:
    """The exporter in-process, serving the three nodes as named targets (config file)."""
    cfg = tmp_path / "patroni-exporter.yml"
    targets = [
        {"name": n, "address": u, "timeout": "5s", "labels": {"cluster": "demo"}}
        for n, u in cluster.urls.items()
    ]
    cfg.write_text(
        yaml.safe_dump(
            {
                "targets": targets,
                "monitoring_dsn": cluster.monitoring_dsn,
                "monitoring_hosts": cluster.monitoring_hosts,
                "monitoring_password_env": PASSWORD_ENV,
            }
        )
    )
    os.environ[PASSWORD_ENV] = cluster.monitoring_password
    scraper = PatroniScraper(env={PASSWORD_ENV: cluster.monitoring_password})
    collector, server, _ = build(["--config.file", str(cfg), "--web.listen-address", "127.0.0.1:0"], scraper)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield Exporter(f"http://{host}:{port}")
    finally:
        server.shutdown()
        server.server_close()
        collector.close()
        scraper.close()
        os.environ.pop(PASSWORD_ENV, None)


def patronictl_list(cluster: LiveCluster) -> list[dict[str, object]]:
    return list(json.loads(cluster.patronictl("list", "-f", "json")))


ROLE_NAMES = {"Leader": "leader", "Sync Standby": "sync_standby", "Replica": "replica"}


def test_roles_match_patronictl_list(cluster: LiveCluster, exporter: Exporter):
    listed = patronictl_list(cluster)
    s = exporter.scrape()
    promtool_check(exporter.text)
    assert len(listed) == 3
    for row in listed:
        member, role = str(row["Member"]), ROLE_NAMES[str(row["Role"])]
        c = {"cluster": "demo", "scope": "nines", "member": member}
        assert get(s, "patroni_cluster_member_role", **c, role=role) == 1, member
        others = {"leader", "sync_standby", "replica"} - {role}
        assert all(get(s, "patroni_cluster_member_role", **c, role=r) == 0 for r in others)
        assert get(s, "patroni_cluster_member_timeline", **c) == row["TL"]
        node = {"target": member, "cluster": "demo", "scope": "nines", "name": member}
        assert get(s, "patroni_up", target=member, cluster="demo") == 1
        assert get(s, "patroni_primary", **node) == float(role == "leader")
        assert get(s, "patroni_replica", **node) == float(role != "leader")
        assert get(s, "patroni_sync_standby", **node) == float(role == "sync_standby")
        assert get(s, "patroni_postgres_timeline", **node) == row["TL"]
        if role != "leader":
            rep = {"cluster": "demo", "scope": "nines", "member": member}
            sync = "sync" if role == "sync_standby" else "async"
            assert get(s, "patroni_replication_sync_state", **rep, sync_state=sync) == 1
            lag = get(s, "patroni_replication_replay_lag_seconds", **rep)
            assert lag is not None and 0 <= lag < 60
            assert get(s, "patroni_cluster_member_lag_bytes", **rep) is not None
    cl = {"cluster": "demo", "scope": "nines"}
    assert get(s, "patroni_cluster_members", **cl) == 3
    assert get(s, "patroni_cluster_leader_present", **cl) == 1
    assert get(s, "patroni_cluster_sync_standbys", **cl) == 1
    src = {"cluster": "demo", "source": "pg_stat_replication"}
    assert all(get(s, "patroni_exporter_source_up", target=m, **src) == 1 for m in cluster.urls)


def test_stopped_member_is_down_alone(cluster: LiveCluster, exporter: Exporter):
    roles = cluster.by_role()
    victim = roles["replica"][0]
    cluster.stop_node(victim)
    s = exporter.scrape()
    assert get(s, "patroni_up", target=victim, cluster="demo") == 0
    for other in set(cluster.urls) - {victim}:
        assert get(s, "patroni_up", target=other, cluster="demo") == 1
    assert get(s, "patroni_exporter_scrape_errors_total", target=victim, cluster="demo", kind="target") >= 1  # type: ignore[operator]
    c = {"cluster": "demo", "scope": "nines"}
    assert get(s, "patroni_cluster_leader_present", **c) == 1
    # no series of the stopped node survives; the cluster still lists it
    assert not [k for k in s if ("name", victim) in k[1] and k[0] != "patroni_up"]
    assert get(s, "patroni_cluster_member_role", **c, member=victim, role="replica") == 1


def test_console_script_single_target(cluster: LiveCluster):
    """`patroni-exporter --patroni.url URL` as a process: no target label, default help works."""
    port = free_port()
    url = next(iter(cluster.urls.values()))
    script = Path(sys.executable).with_name("patroni-exporter")
    proc = subprocess.Popen(
        [str(script), "--patroni.url", url, f"--web.listen-address=127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        text = wait_for(
            lambda: httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text, 30, "exporter"
        )
        promtool_check(text)
        s = parse(text)
        assert get(s, "patroni_up") == 1
        assert get(s, "patroni_cluster_members", scope="nines") == 3
    finally:
        proc.terminate()
        assert proc.wait(15) == 0


class Watcher:
    """Scrapes the exporter every 0.5 s in the background and records every anomaly."""

    def __init__(self, exporter: Exporter, stopped: set[str]) -> None:
        self.exporter = exporter
        self.stopped = stopped  # targets allowed to be down (their Patroni is stopped)
        self.problems: list[str] = []
        self.scrapes = 0
        self.last: Samples = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                s = self.exporter.scrape()
            except Exception as e:
                self.problems.append(f"scrape failed: {e}")
                continue
            self.scrapes += 1
            self.last = s
            for (name, labels), value in s.items():
                lab = dict(labels)
                kind = lab.get("kind")
                bad_kind = kind in ("parse", "internal") and value
                if name == "patroni_exporter_scrape_errors_total" and bad_kind:
                    self.problems.append(f"{lab['target']}: {lab['kind']} errors {value}")
                if name == "patroni_up" and value != 1 and lab["target"] not in self.stopped:
                    self.problems.append(f"{lab['target']} down while its Patroni runs")
            self._stop.wait(0.5)


def cluster_value(s: Samples, metric: str, **labels: str) -> float | None:
    return get(s, metric, cluster="demo", scope="nines", **labels)


def leader_of(s: Samples, members: list[str]) -> str | None:
    for m in members:
        if cluster_value(s, "patroni_cluster_member_role", member=m, role="leader") == 1:
            return m
    return None


def test_switchover_then_failover(cluster: LiveCluster, exporter: Exporter):
    members = sorted(cluster.urls)
    s0 = exporter.scrape()
    old = leader_of(s0, members)
    assert old is not None
    tl0 = get(s0, "patroni_postgres_timeline", target=old, cluster="demo", scope="nines", name=old)
    fo0 = cluster_value(s0, "patroni_cluster_failovers_total")
    assert tl0 is not None and fo0 is not None
    candidate = cluster.by_role()["sync_standby"][0]
    stopped: set[str] = set()
    with Watcher(exporter, stopped) as w:
        cluster.patronictl("switchover", "--leader", old, "--candidate", candidate, "--force")

        def switched() -> bool:
            s = w.last
            return (
                leader_of(s, members) == candidate
                and cluster_value(s, "patroni_cluster_failovers_total") == fo0 + 1
                and (cluster_value(s, "patroni_cluster_member_timeline", member=candidate) or 0) > tl0
                and cluster_value(s, "patroni_cluster_member_state", member=old, state="running") == 1
                and get(s, "patroni_replica", target=old, cluster="demo", scope="nines", name=old) == 1
            )

        wait_for(switched, CHANGE_TIMEOUT, "the switchover in the exporter's metrics")
        s1 = w.last
        tl1 = cluster_value(s1, "patroni_cluster_member_timeline", member=candidate)
        last = cluster_value(s1, "patroni_cluster_last_failover_timestamp_seconds")
        assert last is not None and abs(time.time() - last) < 300

        # failover: stop the new leader's Patroni, once a new sync standby may take over
        cluster.wait_healthy()
        stopped.add(candidate)
        cluster.stop_node(candidate)

        def failed_over() -> bool:
            s = w.last
            new = leader_of(s, members)
            return (
                new not in (None, candidate)
                and cluster_value(s, "patroni_cluster_failovers_total") == fo0 + 2
                and (cluster_value(s, "patroni_cluster_member_timeline", member=new) or 0) > tl1  # type: ignore[arg-type]
                and get(s, "patroni_up", target=candidate, cluster="demo") == 0
            )

        wait_for(failed_over, CHANGE_TIMEOUT, "the failover in the exporter's metrics")
        cluster.start_node(candidate)

        def rejoined() -> bool:
            s = w.last
            c = {"target": candidate, "cluster": "demo", "scope": "nines", "name": candidate}
            return (
                get(s, "patroni_up", target=candidate, cluster="demo") == 1
                and get(s, "patroni_replica", **c) == 1
                and get(s, "patroni_postgres_running", **c) == 1
            )

        wait_for(rejoined, CHANGE_TIMEOUT, "the old leader back as a replica")
        stopped.discard(candidate)
        cluster.wait_healthy()
        time.sleep(1.5)  # one more watcher round with everything up
    assert w.scrapes >= 10
    assert w.problems == []


PROBE_TABLE = "nines_patroni_lag_probe"


class Loop:
    """Runs `step(conn)` every `interval` seconds on one connection in a thread until stopped."""

    def __init__(self, dsn: str, interval: float, **connect: object) -> None:
        self.dsn, self.interval, self.connect = dsn, interval, connect
        self.runs = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def step(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True, **self.connect) as conn:  # type: ignore[arg-type]
            while not self._stop.is_set():
                try:
                    self.step(conn)
                    self.runs += 1
                except psycopg.Error as e:
                    self.errors.append(str(e))
                self._stop.wait(self.interval)


class Writer(Loop):
    """Inserts a row every 50 ms through PgBouncer (database and user `app`)."""

    def __init__(self, dsn: str) -> None:
        super().__init__(dsn, 0.05, prepare_threshold=None)

    def step(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        conn.execute(f"INSERT INTO {PROBE_TABLE} VALUES (now())")


class ReplayPause(Loop):
    """Keeps WAL replay paused on a replica (superuser DSN).

    Patroni 3.0 resumes a paused replay on PostgreSQL 14+ once per HA loop unless the cluster
    is in maintenance mode, so the pause is issued again every 0.1 s.
    """

    def __init__(self, dsn: str) -> None:
        super().__init__(dsn, 0.1)

    def step(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        conn.execute("SELECT pg_catalog.pg_wal_replay_pause()")

    def stop(self) -> None:
        super().stop()
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("SELECT pg_catalog.pg_wal_replay_resume()")


def test_stalled_replay_raises_lag_seconds_then_clears(
    cluster: LiveCluster, exporter: Exporter, request: pytest.FixtureRequest
):
    """Replay paused on a replica while writes flow: lag in seconds crosses 1 s, then returns to ~0."""
    if os.environ.get("NINES_PATRONI_OWN_CLUSTER") == "1":
        pytest.skip("needs the stack's PgBouncer")
    stack = request.getfixturevalue("stack")
    victim = cluster.by_role()["replica"][0]
    port = next(int(m["port"]) for m in cluster.cluster_json()["members"] if m["name"] == victim)
    superuser = (
        f"host=127.0.0.1 port={port} dbname=postgres user=postgres password={stack.secret('postgres')}"
    )
    bouncer = f"host={stack.layout.host('pgbouncer')} port={stack.port('pgbouncer')}"
    app = f"{bouncer} dbname=app user=app password={stack.secret('app')}"
    rep = {"cluster": "demo", "scope": "nines", "member": victim}

    def lags() -> tuple[float, float, float]:
        s = exporter.scrape()
        values = (
            get(s, "patroni_replication_replay_lag_seconds", **rep),
            get(s, "patroni_replication_replay_lag_estimate_seconds", **rep),
            get(s, "patroni_replication_replay_lag_bytes", **rep),
        )
        assert None not in values, values
        return values  # type: ignore[return-value]

    seconds, estimate, _ = lags()
    assert seconds < 1 and estimate < 1
    with psycopg.connect(app, autocommit=True, prepare_threshold=None) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {PROBE_TABLE} (at timestamptz NOT NULL)")
    writer, pause = Writer(app), ReplayPause(superuser)
    writer.start()
    try:
        pause.start()
        try:
            seconds, estimate, _ = wait_for(
                lambda: (v := lags())[0] > 1 and v[1] > 1 and v[2] > 0 and v,
                30,
                f"replay lag of {victim} above 1 s",
            )
            assert seconds == estimate  # the lag tracker's own value stays ~0 meanwhile
        finally:
            pause.stop()
        wait_for(lambda: (v := lags())[0] < 0.5 and v[1] < 0.5, 30, f"replay lag of {victim} back to ~0")
    finally:
        writer.stop()
        with psycopg.connect(app, autocommit=True, prepare_threshold=None) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {PROBE_TABLE}")
    # the lag crossed 1 s only because writes flowed for at least that long (one every 50 ms)
    assert writer.runs >= 10 and not writer.errors, writer.errors
    assert pause.runs > 5 and not pause.errors, pause.errors
