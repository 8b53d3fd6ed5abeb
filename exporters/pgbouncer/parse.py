"""Pure functions turning console answers (column names, rows of text) into metric families.

PgBouncer's console answers in the text format of the simple query protocol, so every cell
is a `str` or `None` (SQL NULL). Each function either returns families or raises
`ParseError`; none does I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from itertools import compress, repeat

from exporters.core.errors import ParseError
from exporters.core.metrics import Family, escape_label_value, format_labels, format_value
from exporters.core.values import finite
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
    if rows and set(map(len, rows)) != {width}:
        n, row = next((n, row) for n, row in enumerate(rows) if len(row) != width)
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
    return finite(value, f"{view}: column {column} ({cell[:40]!r})")


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

    Column by column: each row's labels are formatted once, each metric's cells are checked
    and converted once per distinct value, and each family gets one (heads, tails) column that
    the writer joins without a Python loop per sample.

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
    label_names = tuple(lab.name for lab in view.labels)
    labels = [_label_column(rows, c) for c in label_cols]
    if keep is not None:
        kept = list(map(keep, labels[label_names.index(view.key)]))
        rows = list(compress(rows, kept))
        labels = [list(compress(column, kept)) for column in labels]
    heads = label_heads(label_names, labels)
    families: list[Family] = []
    for metric in view.metrics:
        parts = [
            (col, part.divisor, columns[col])
            for part in metric.parts
            if (col := _first(index, part.names)) is not None
        ]
        if not parts:
            continue
        family = Family(metric.name, metric.type, metric.help, label_names)
        if heads is None:  # a row without any label: the row-wise writer leaves out the braces
            for lv, row in zip(zip(*labels, strict=True), rows, strict=True):
                value = _row_sum(view.command, row, parts)
                if value is not None:
                    family.text_rows.append((format_labels(label_names, lv), value))
        else:
            family.columns.append(_values(view.command, rows, heads, parts))
        families.append(family)
    return families


def _label_column(rows: Rows, col: int | None) -> list[str]:
    """The cells of a label column, NULL as "" (one C-level check when all are text)."""
    if col is None:
        return [""] * len(rows)
    cells = [row[col] for row in rows]
    try:
        "".join(cells)  # type: ignore[arg-type]
    except TypeError:  # NULL, or not text (then a ParseError)
        return [_label(c) for c in cells]
    return cells  # type: ignore[return-value]


def label_heads(names: Sequence[str], columns: Sequence[list[str]]) -> list[str] | None:
    """Each row's label text closed by `} ` (labels with an empty value left out, as
    `format_labels` does); None when some row has no label at all."""
    esc = escape_label_value
    frags = [
        memo_map(lambda v, n=name: f'{n}="{esc(v)}"' if v else "", column)  # type: ignore[misc]
        for name, column in zip(names, columns, strict=True)
    ]
    if not frags:
        return None
    if any("" in f for f in frags):
        texts = [",".join(x for x in row if x) for row in zip(*frags, strict=True)]
    else:
        texts = list(map(",".join, zip(*frags, strict=True)))
    if "" in texts:
        return None
    return [t + "} " for t in texts]


def memo_map(func: Callable[[str], str], column: Sequence[str]) -> list[str]:
    """`[func(v) for v in column]`, calling `func` once per distinct value."""
    table = {v: func(v) for v in set(column)}
    return list(map(table.__getitem__, column))


def _values(
    view: str, rows: Rows, heads: list[str], parts: list[tuple[int, float, str]]
) -> tuple[list[str], list[str]]:
    """(heads, formatted values) of one metric, rows whose cells are all NULL left out."""
    if len(parts) > 1:
        sums = _sums(view, rows, parts)
        kept = [v is not None for v in sums]
        return list(compress(heads, kept)), _formatted([v for v in sums if v is not None])
    col, divisor, name = parts[0]
    cells = [row[col] for row in rows]
    if None in cells:
        kept = [c is not None for c in cells]
        heads = list(compress(heads, kept))
        cells = list(compress(cells, kept))
    texts: list[str] = cells  # type: ignore[assignment]
    try:
        joined = "".join(texts)
    except TypeError:
        bad = next(c for c in cells if not isinstance(c, str))
        raise ParseError(f"{view}: column {name} holds {type(bad).__name__}, not text") from None
    if divisor == 1.0:
        if joined.isdigit() and joined.isascii():
            return heads, texts
        return heads, memo_map(lambda c: _integer_text(c) or format_value(to_float(view, name, c)), texts)
    return heads, memo_map(lambda c: format_value(to_float(view, name, c) / divisor), texts)


def _integer_text(cell: str) -> str:
    """The cell itself if it is a plain unsigned integer, else ""."""
    return cell if cell.isascii() and cell.isdigit() else ""


def _sums(view: str, rows: Rows, parts: list[tuple[int, float, str]]) -> list[float | None]:
    """Per row, the sum of a metric's non-NULL parts in order (None where all are NULL)."""
    columns = []
    for col, divisor, name in parts:
        cells = [row[col] for row in rows]
        try:
            table = {c: None if c is None else to_float(view, name, c) / divisor for c in set(cells)}
        except TypeError:  # an unhashable cell
            raise ParseError(f"{view}: column {name} holds a value that is not text") from None
        columns.append(list(map(table.__getitem__, cells)))
    sums: list[float | None] = []
    for values in zip(*columns, strict=True):
        total: float | None = None
        for v in values:
            if v is not None:
                total = (total or 0.0) + v
        sums.append(total)
    return sums


def _formatted(values: list[float]) -> list[str]:
    """`format_value` of each value, once per distinct value."""
    table = {v: format_value(v) for v in set(values)}
    return list(map(table.__getitem__, values))


def _row_sum(view: str, row: Sequence[Cell], parts: list[tuple[int, float, str]]) -> float | str | None:
    """The value of one metric in one row: the sum of its non-NULL parts (None if none)."""
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
    keys = list(zip(*(_label_column(rows, None if c < 0 else c) for c in cols), strict=True))
    if keep is not None:
        keys = [k for k in keys if keep(k[0])]
    counts = Counter(keys)
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
    rows = pools[1]
    databases_ = _label_column(rows, index["database"])
    family = Family(
        mapping.UTILIZATION_METRIC,
        "gauge",
        "Server connections of the pool (active, idle, used, tested, login) over the database's pool_size.",
        ("database", "user"),
    )
    kept = [size > 0 for size in map(sizes.get, databases_, repeat(0.0))]
    if keep is not None:
        kept = [k and keep(d) for k, d in zip(kept, databases_, strict=True)]
    rows, databases_ = list(compress(rows, kept)), list(compress(databases_, kept))
    users = _label_column(rows, index["user"])
    counts = [
        _numbers("SHOW POOLS", c, [row[index[c]] for row in rows]) for c in POOL_SERVER_COLUMNS if c in index
    ]
    used = map(sum, zip(*counts, strict=True)) if counts else repeat(0, len(rows))
    ratios = [u / sizes[d] for u, d in zip(used, databases_, strict=True)]
    heads = label_heads(family.labels, [databases_, users])
    if heads is None:
        for d, u, ratio in zip(databases_, users, ratios, strict=True):
            family.add((d, u), ratio)
    else:
        family.columns.append((heads, _formatted(ratios)))
    return [family]


def _numbers(view: str, column: str, cells: list[Cell]) -> list[float]:
    """The cells as floats, NULL as 0 (each distinct cell parsed once).

    Raises:
        ParseError: a cell that is not a finite number.
    """
    try:
        table = {c: 0.0 if c is None else to_float(view, column, c) for c in set(cells)}
    except TypeError:  # an unhashable cell
        raise ParseError(f"{view}: column {column} holds a value that is not text") from None
    return list(map(table.__getitem__, cells))


POOL_SERVER_COLUMNS = ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login")
Table = tuple[Sequence[str], Rows]
