"""Pure functions turning console answers (column names, rows of text) into metric families.

PgBouncer's console answers in the text format of the simple query protocol, so every cell
is a `str` or `None` (SQL NULL). Each function either returns families or raises
`ParseError`; none does I/O.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

from exporters.core.errors import ParseError
from exporters.core.metrics import Family, format_labels
from exporters.pgbouncer import mapping
from exporters.pgbouncer.mapping import View

Cell = str | None
Rows = Sequence[Sequence[Cell]]
Keep = Callable[[str], bool]


def check_shape(view: str, columns: Sequence[str], rows: Rows) -> dict[str, int]:
    """Check that every row has one cell per column; return the column-name index.

    Raises:
        ParseError: a column name is not a string, or a row's width differs.
    """
    index: dict[str, int] = {}
    for i, name in enumerate(columns):
        if not isinstance(name, str):
            raise ParseError(f"{view}: column {i} has no name")
        index.setdefault(name, i)
    width = len(columns)
    for n, row in enumerate(rows):
        if len(row) != width:
            raise ParseError(f"{view}: row {n} has {len(row)} cells, expected {width}")
    return index


def to_float(view: str, column: str, cell: Cell) -> float:
    """Parse a numeric cell.

    Raises:
        ParseError: the cell is not a finite number.
    """
    if not isinstance(cell, str):
        raise ParseError(f"{view}: column {column} holds {type(cell).__name__}, not text")
    try:
        value = float(cell)
    except ValueError:
        raise ParseError(f"{view}: column {column} is not a number: {cell[:40]!r}") from None
    if not math.isfinite(value):
        raise ParseError(f"{view}: column {column} is not finite: {cell[:40]!r}")
    return value


def _label(cell: Cell) -> str:
    if cell is None:
        return ""
    if not isinstance(cell, str):
        raise ParseError(f"label cell holds {type(cell).__name__}, not text")
    return cell


def _first(index: dict[str, int], names: tuple[str, ...]) -> int | None:
    for name in names:
        col = index.get(name)
        if col is not None:
            return col
    return None


def parse_view(view: View, columns: Sequence[str], rows: Rows, keep: Keep | None = None) -> list[Family]:
    """Turn a tabular view (POOLS, STATS_TOTALS/STATS, DATABASES) into families.

    Args:
        view: the mapping table of the view.
        columns: column names as PgBouncer sent them.
        rows: text cells, one sequence per row.
        keep: predicate on the database name; rows it rejects are dropped.

    Returns:
        One family per metric whose columns exist in this PgBouncer version (empty families
        included, so an idle PgBouncer still documents its metrics).

    Raises:
        ParseError: a required label column is missing, a row is ragged, or a value is not
            numeric. NULL values are skipped.
    """
    index = check_shape(view.command, columns, rows)
    label_cols: list[int | None] = []
    for label in view.labels:
        col = _first(index, label.names)
        if col is None and label.required:
            raise ParseError(f"{view.command}: missing column {label.names[0]!r}")
        label_cols.append(col)
    key_pos = [lab.name for lab in view.labels].index(view.key)
    label_names = tuple(lab.name for lab in view.labels)

    plans: list[tuple[Family, list[tuple[int, float, str]]]] = []
    for metric in view.metrics:
        parts = [
            (col, part.divisor, columns[col])
            for part in metric.parts
            if (col := _first(index, part.names)) is not None
        ]
        if parts:
            plans.append((Family(metric.name, metric.type, metric.help, label_names), parts))

    for row in rows:
        labels = tuple(_label(row[c]) if c is not None else "" for c in label_cols)
        if keep is not None and not keep(labels[key_pos]):
            continue
        label_text = format_labels(label_names, labels)  # once per row, for all its metrics
        for family, parts in plans:
            sample = _sample(view.command, row, parts)
            if sample is not None:
                family.text_rows.append((label_text, sample))
    return [family for family, _ in plans]


def _sample(view: str, row: Sequence[Cell], parts: list[tuple[int, float, str]]) -> float | str | None:
    """The value of one metric in one row: a plain integer cell is passed on as is."""
    if len(parts) == 1:
        col, divisor, name = parts[0]
        cell = row[col]
        if cell is None:
            return None
        value = to_float(view, name, cell)
        if divisor == 1.0:
            return cell if cell.isascii() and cell.isdigit() else value
        return value / divisor
    total: float | None = None
    for col, divisor, name in parts:
        cell = row[col]
        if cell is not None:
            total = (total or 0.0) + to_float(view, name, cell) / divisor
    return total


def parse_pools(columns: Sequence[str], rows: Rows, keep: Keep | None = None) -> list[Family]:
    """Families of SHOW POOLS (`pgbouncer_pools_*{database,user}`)."""
    return parse_view(mapping.POOLS, columns, rows, keep)


def parse_stats(columns: Sequence[str], rows: Rows, keep: Keep | None = None) -> list[Family]:
    """Families of SHOW STATS_TOTALS, or of SHOW STATS (its `total_*` columns)."""
    return parse_view(mapping.STATS, columns, rows, keep)


def parse_databases(columns: Sequence[str], rows: Rows, keep: Keep | None = None) -> list[Family]:
    """Families of SHOW DATABASES (`pgbouncer_databases_*{name,host,port,database,...}`)."""
    return parse_view(mapping.DATABASES, columns, rows, keep)


def _key_values(view: str, columns: Sequence[str], rows: Rows, key: str, value: str) -> Rows:
    index = check_shape(view, columns, rows)
    if key not in index or value not in index:
        raise ParseError(f"{view}: expected columns {key!r} and {value!r}")
    k, v = index[key], index[value]
    return [(row[k], row[v]) for row in rows]


def _key_value_families(
    view: str, table: dict[str, tuple[str, str]], pairs: Rows, value: str
) -> list[Family]:
    out: list[Family] = []
    for name, cell in pairs:
        if not isinstance(name, str) or name not in table:
            continue
        metric, help_ = table[name]
        family = Family(metric, "gauge", help_)
        family.rows.append(((), to_float(view, f"{value} of {name}", cell)))
        out.append(family)
    return out


def parse_lists(columns: Sequence[str], rows: Rows) -> list[Family]:
    """Families of SHOW LISTS (`list`, `items`): one gauge per known list, unknown ones skipped."""
    pairs = _key_values("SHOW LISTS", columns, rows, "list", "items")
    return _key_value_families("SHOW LISTS", mapping.LISTS, pairs, "items")


def parse_config(columns: Sequence[str], rows: Rows) -> list[Family]:
    """Families of SHOW CONFIG (`key`, `value`, ...): the numeric settings in `mapping.CONFIG`."""
    pairs = _key_values("SHOW CONFIG", columns, rows, "key", "value")
    return _key_value_families("SHOW CONFIG", mapping.CONFIG, pairs, "value")


def parse_version(columns: Sequence[str], rows: Rows) -> list[Family]:
    """`pgbouncer_version_info{version}` from SHOW VERSION (one row, column `version`)."""
    index = check_shape("SHOW VERSION", columns, rows)
    if "version" not in index or len(rows) != 1:
        raise ParseError("SHOW VERSION: expected one row with a 'version' column")
    version = rows[0][index["version"]]
    if not isinstance(version, str) or not version:
        raise ParseError("SHOW VERSION: empty version")
    family = Family(mapping.VERSION_METRIC, "gauge", "The PgBouncer version info.", ("version",))
    family.rows.append(((version,), 1.0))
    return [family]


def aggregate_connections(
    view: str,
    columns: Sequence[str],
    rows: Rows,
    application_name: bool = False,
    keep: Keep | None = None,
) -> list[Family]:
    """Count SHOW CLIENTS or SHOW SERVERS rows by (database, user, state).

    Args:
        view: `SHOW CLIENTS` or `SHOW SERVERS`.
        columns: column names.
        rows: text cells.
        application_name: also group by `application_name` (opt-in: unbounded cardinality).
        keep: predicate on the database name.

    Returns:
        `pgbouncer_client_connections` or `pgbouncer_server_connections`.

    Raises:
        ParseError: `database`, `user` or `state` is missing, or a row is ragged.
    """
    index = check_shape(view, columns, rows)
    for required in ("database", "user", "state"):
        if required not in index:
            raise ParseError(f"{view}: missing column {required!r}")
    cols = [index["database"], index["user"]]
    if application_name:
        app = index.get("application_name")
        cols.append(-1 if app is None else app)
    cols.append(index["state"])
    counts: Counter[tuple[str, ...]] = Counter()
    for row in rows:
        key = tuple("" if c < 0 else _label(row[c]) for c in cols)
        if keep is not None and not keep(key[0]):
            continue
        counts[key] += 1
    labels = (
        ("database", "user", "application_name", "state")
        if application_name
        else (
            "database",
            "user",
            "state",
        )
    )
    if view == "SHOW CLIENTS":
        family = Family(
            mapping.CLIENTS_METRIC, "gauge", "Client connections by database, user and state.", labels
        )
    else:
        family = Family(
            mapping.SERVERS_METRIC, "gauge", "Server connections by database, user and state.", labels
        )
    family.rows.extend((key, float(n)) for key, n in sorted(counts.items()))
    return [family]


def pool_utilization(pools: Table, databases: Table, keep: Keep | None = None) -> list[Family]:
    """`pgbouncer_pools_server_utilization_ratio{database,user}`: servers in use / pool_size.

    A pool's server connections in every state (active, idle, used, tested, login) over its
    database's `pool_size` from SHOW DATABASES. Pools whose database has no positive pool
    size are left out.

    Raises:
        ParseError: a column is missing or a value is not numeric.
    """
    db_index = check_shape("SHOW DATABASES", databases[0], databases[1])
    if "name" not in db_index or "pool_size" not in db_index:
        raise ParseError("SHOW DATABASES: missing column 'name' or 'pool_size'")
    name_col, size_col = db_index["name"], db_index["pool_size"]
    sizes = {
        row[name_col]: to_float("SHOW DATABASES", "pool_size", row[size_col])
        for row in databases[1]
        if row[size_col] is not None
    }
    index = check_shape("SHOW POOLS", pools[0], pools[1])
    if "database" not in index or "user" not in index:
        raise ParseError("SHOW POOLS: missing column 'database' or 'user'")
    db_col, user_col = index["database"], index["user"]
    server_cols = [(index[c], c) for c in POOL_SERVER_COLUMNS if c in index]
    family = Family(
        mapping.UTILIZATION_METRIC,
        "gauge",
        "Server connections of the pool (active, idle, used, tested, login) over the database's pool_size.",
        ("database", "user"),
    )
    for row in pools[1]:
        database = _label(row[db_col])
        if keep is not None and not keep(database):
            continue
        size = sizes.get(database, 0.0)
        if size > 0:
            used = sum(to_float("SHOW POOLS", c, row[i]) for i, c in server_cols if row[i] is not None)
            family.add((database, _label(row[user_col])), used / size)
    return [family]


POOL_SERVER_COLUMNS = ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login")
Table = tuple[Sequence[str], Rows]
