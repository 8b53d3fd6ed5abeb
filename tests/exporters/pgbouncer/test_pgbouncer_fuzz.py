"""Property tests: fed garbled, truncated or reshaped console answers, every parser either
returns families or raises ParseError, nothing else."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporters.core.errors import ParseError
from exporters.core.metrics import Family, render
from exporters.pgbouncer import parse

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pgbouncer"


def fixture(version: str, view: str) -> tuple[list[str], list[list[str | None]]]:
    data = json.loads((FIXTURES / version / f"{view}.json").read_text())
    return data["columns"], data["rows"]


Parser = Callable[[list[str], list[list[str | None]]], list[Family]]
PARSERS: dict[str, Parser] = {
    "pools": parse.parse_pools,
    "stats_totals": parse.parse_stats,
    "stats": parse.parse_stats,
    "databases": parse.parse_databases,
    "lists": parse.parse_lists,
    "config": parse.parse_config,
    "version": parse.parse_version,
    "clients": lambda c, r: parse.aggregate_connections("SHOW CLIENTS", c, r, True),
    "servers": lambda c, r: parse.aggregate_connections("SHOW SERVERS", c, r),
    "utilization-pools": lambda c, r: parse.pool_utilization((c, r), fixture("1.24", "databases")),
    "utilization-databases": lambda c, r: parse.pool_utilization(fixture("1.18", "pools"), (c, r)),
}
KNOWN = sorted(
    {c for v in FIXTURES.iterdir() if v.is_dir() for f in v.glob("*.json")
     for c in json.loads(f.read_text())["columns"]}
)  # fmt: skip
FIXTURE_OF = {"utilization-pools": "pools", "utilization-databases": "databases"}
CASES = [(v.name, view) for v in sorted(FIXTURES.iterdir()) if v.is_dir() for view in PARSERS]

cells = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["", "nan", "inf", "-1", "1e400", "0x10", " 7 ", "1_000"]),
)


def check(parser: Parser, columns: list[str], rows: list[list[str | None]]) -> None:
    try:
        families = parser(columns, rows)
    except ParseError:
        return
    render(families)  # whatever parsed must also render


@pytest.mark.parametrize(("version", "view"), CASES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_mutated_fixture(version: str, view: str, data: st.DataObject) -> None:
    base_columns, base_rows = fixture(version, FIXTURE_OF.get(view, view))
    columns: list[str] = list(base_columns)
    rows: list[list[str | None]] = [list(r) for r in base_rows]
    for _ in range(data.draw(st.integers(0, 4))):
        action = data.draw(st.sampled_from(["cell", "drop_col", "truncate_row", "cut_rows"]))
        if action == "cell" and rows and columns:
            r = data.draw(st.integers(0, len(rows) - 1))
            c = data.draw(st.integers(0, len(rows[r]) - 1)) if rows[r] else 0
            if rows[r]:
                rows[r][c] = data.draw(cells)
        elif action == "drop_col" and columns:
            c = data.draw(st.integers(0, len(columns) - 1))
            del columns[c]
            for row in rows:
                if c < len(row):
                    del row[c]
        elif action == "truncate_row" and rows:
            r = data.draw(st.integers(0, len(rows) - 1))
            rows[r] = rows[r][: data.draw(st.integers(0, len(rows[r])))]
        elif action == "cut_rows":
            rows = rows[: data.draw(st.integers(0, len(rows)))]
    check(PARSERS[view], columns, rows)


@pytest.mark.parametrize("view", sorted(PARSERS))
@settings(max_examples=50, deadline=None)
@given(
    columns=st.lists(st.one_of(st.sampled_from(KNOWN), st.text(max_size=8)), max_size=6),
    rows=st.lists(st.lists(cells, max_size=7), max_size=5),
)
def test_random_tables(view: str, columns: list[str], rows: list[list[str | None]]) -> None:
    check(PARSERS[view], columns, rows)
