"""The monitoring password only goes to hosts the configuration names, never to one an answer names."""

from __future__ import annotations

import json
from pathlib import Path

from exporters.core.config import Target
from exporters.patroni.cluster import parse_cluster
from exporters.patroni.scrape import PatroniScraper

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "patroni"


def _target(**options: object) -> Target:
    opts = {
        "monitoring_dsn": "postgresql://nines_monitor@/postgres",
        "monitoring_password_env": "PW",
        **options,
    }
    return Target(name="pg-1", address="http://127.0.0.1:8008", timeout=1.0, options=opts)


def test_allowed_hosts_are_the_targets_hosts_and_the_listed_ones() -> None:
    scraper = PatroniScraper(env={"PW": "secret"})
    scraper.allow_hosts([_target(monitoring_hosts="10.0.0.5, db1"), _target(monitoring_hosts=["db2"])])
    # a target's own host and a bare host are allowed at the DSN's port (5432 without one)
    assert scraper.monitoring_hosts == {("127.0.0.1", 5432), ("10.0.0.5", 5432), ("db1", 5432), ("db2", 5432)}
    scraper.close()


def test_allowed_host_port_pairs() -> None:
    scraper = PatroniScraper(env={"PW": "secret"})
    target = _target(
        monitoring_dsn="postgresql://nines_monitor@/postgres?port=6543",
        monitoring_hosts=["db3:5433", "[::1]:5434", "::1", "db4"],
    )
    scraper.allow_hosts([target])
    assert scraper.monitoring_hosts == {
        ("127.0.0.1", 6543),
        ("db3", 5433),
        ("::1", 5434),
        ("::1", 6543),
        ("db4", 6543),
    }
    scraper.close()


def test_leader_on_an_allowed_host_but_another_port_is_not_contacted() -> None:
    doc = json.loads((FIXTURES / "healthy_cluster.json").read_text())
    view = parse_cluster(doc)  # every member on 127.0.0.1, the target's own host, at odd ports
    scraper = PatroniScraper(env={"PW": "secret"})
    target = _target()
    scraper.allow_hosts([target])
    ok: dict[str, bool] = {}
    assert scraper._read_leader(target, view, ok) is None
    assert ok == {"pg_stat_replication": False}
    assert scraper._warned[("pg-1", "pg_stat_replication")].startswith("leader 127.0.0.1:35229 is neither")
    scraper.close()


def test_leader_on_an_unlisted_host_is_not_contacted() -> None:
    doc = json.loads((FIXTURES / "healthy_cluster.json").read_text())
    for m in doc["members"]:
        m["host"] = "127.0.0.2"  # an address only the answer names
    view = parse_cluster(doc)
    scraper = PatroniScraper(env={"PW": "secret"})
    target = _target()
    scraper.allow_hosts([target])
    ok: dict[str, bool] = {}
    assert scraper._read_leader(target, view, ok) is None
    assert ok == {"pg_stat_replication": False}
    assert (
        "leader 127.0.0.2:35229 is neither a target's host at the monitoring DSN's port nor in "
        "monitoring_hosts" in scraper._warned[("pg-1", "pg_stat_replication")]
    )
    scraper.close()
