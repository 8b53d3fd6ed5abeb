"""The exposition of PgBouncer's views stays byte for byte what the row-wise writer gave.

The digests were taken from the row-wise parser and writer the column-wise ones replaced, on
the recorded answers and on generated views that hold what a column-wise path can get wrong:
NULL cells, decimals and negative numbers, microseconds, label values to escape, empty label
values, rows without any label, pools whose database has no pool size, and filters.
"""

import hashlib
import json
import random
import re
from pathlib import Path

import pytest

from exporters.core.metrics import Family, merge, render
from exporters.pgbouncer.console import QueryError, Run, Table
from exporters.pgbouncer.scrape import Options, collect_views

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pgbouncer"
OPTIONS = {
    "default": Options(),
    "filtered": Options(include=re.compile("app|d0.*"), exclude=re.compile("d01")),
    "app": Options(application_name=True),
}
DIGESTS = {
    "1.12-default": "7232e2fac9dc59dfe0fa",
    "1.12-default-target": "5b2979b6bf963a5e0050",
    "1.12-filtered": "0a628d1803010f291681",
    "1.12-filtered-target": "841b885819df3932b9d9",
    "1.12-app": "7232e2fac9dc59dfe0fa",
    "1.12-app-target": "5b2979b6bf963a5e0050",
    "1.18-default": "f6a0bf0374bf4d45955f",
    "1.18-default-target": "3b7cd1cc02e73f5a2b48",
    "1.18-filtered": "21ee498040d471775fbb",
    "1.18-filtered-target": "87dad64342e8c822b3e1",
    "1.18-app": "f6a0bf0374bf4d45955f",
    "1.18-app-target": "3b7cd1cc02e73f5a2b48",
    "1.24-default": "0d5970ec7a23a4d26297",
    "1.24-default-target": "33f9feb7918b7c081960",
    "1.24-filtered": "d812967eff0f14507432",
    "1.24-filtered-target": "2bc61914e922cea81f67",
    "1.24-app": "a64b5c9f30fcec0e00e7",
    "1.24-app-target": "3bdcc3ead3a4774128e6",
    "generated-default": "c219913d15f04f41bcbf",
    "generated-default-target": "9ee26471ef110ad3199b",
    "generated-filtered": "a83f16c36904e9cb1306",
    "generated-filtered-target": "ef59e89432c5a1bddc47",
    "generated-app": "2c113aad8f43b390f7af",
    "generated-app-target": "7874e3441c665f4578ce",
}


def recorded(version: str) -> Run:
    def run(sql: str) -> Table:
        path = FIXTURES / version / f"{sql.removeprefix('SHOW ').lower()}.json"
        if not path.exists():
            raise QueryError(f"{sql}: ERROR: invalid command")
        data = json.loads(path.read_text())
        return data["columns"], data["rows"]

    return run


def _cell(rng: random.Random) -> str | None:
    return rng.choice([None, "0", "1", "7", "1.5", "-3", "120000", "2500000", str(rng.randrange(10**6))])


def generated() -> Run:
    """SHOW views of 300 pools over 30 databases, with the awkward cells above."""
    rng = random.Random(18)
    names = [f"d{i:02d}" for i in range(29)] + ['we"ird\\db\n']
    users = ["u0", "u1", "", 'q"u', "u4", "u5", "u6", "u7", "u8", "u9"]
    pool_cols = ["database", "user", "cl_active", "cl_waiting", "sv_active", "sv_idle", "sv_used"]
    pool_cols += ["sv_tested", "sv_login", "maxwait", "maxwait_us", "pool_mode"]
    pools = [[d, u, *(_cell(rng) for _ in range(9)), "transaction"] for d in names for u in users]
    pools.append([None, None, "1", "2", "3", "4", "5", "6", "7", "8", "9", "session"])
    db_cols = ["name", "host", "port", "database", "force_user", "pool_size", "reserve_pool"]
    db_cols += ["pool_mode", "max_connections", "current_connections", "paused", "disabled"]
    dbs = [
        [
            d,
            "127.0.0.1",
            "5432",
            "postgres",
            None,
            rng.choice(["0", "20", "5"]),
            "0",
            None,
            "0",
            "3",
            "0",
            "0",
        ]
        for d in names
    ]
    stat_cols = ["database", "xact_count", "query_count", "bytes_received", "bytes_sent", "xact_time"]
    stat_cols += ["query_time", "wait_time"]
    stats = [[d, *(_cell(rng) or "0" for _ in range(7))] for d in names]
    conn_cols = ["type", "user", "database", "state", "application_name"]
    conns = [
        ["C", rng.choice(users), rng.choice(names), rng.choice(["active", "waiting"]), "app"]
        for _ in range(200)
    ]
    tables = {
        "SHOW POOLS": (pool_cols, pools),
        "SHOW DATABASES": (db_cols, dbs),
        "SHOW STATS_TOTALS": (stat_cols, stats),
        "SHOW CLIENTS": (conn_cols, conns),
        "SHOW SERVERS": (conn_cols, conns[:50]),
        "SHOW VERSION": (["version"], [["PgBouncer 1.18.0"]]),
    }

    def run(sql: str) -> Table:
        if sql not in tables:
            raise QueryError(f"{sql}: ERROR: invalid command")
        return tables[sql]  # type: ignore[return-value]

    return run


def digest(families: list[Family]) -> str:
    return hashlib.sha256(render(families)).hexdigest()[:20]


@pytest.mark.parametrize("source", ["1.12", "1.18", "1.24", "generated"])
@pytest.mark.parametrize("option", OPTIONS)
def test_bytes_are_unchanged(source: str, option: str) -> None:
    run = generated() if source == "generated" else recorded(source)
    fams = collect_views(run, OPTIONS[option])
    labelled = merge([f.with_labels({"target": 'p"b'}) for f in fams])
    assert render(fams).count(b"\n") > 150
    assert (digest(fams), digest(labelled)) == (
        DIGESTS[f"{source}-{option}"],
        DIGESTS[f"{source}-{option}-target"],
    )
