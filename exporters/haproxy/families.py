"""Build promex-compatible metric families from parsed `show info`, `show stat` and certificates.

The hot path formats each row's labels once and passes numeric CSV fields through as text.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from operator import and_, itemgetter

from exporters.core.metrics import Family, escape_label_value
from exporters.haproxy import states
from exporters.haproxy.columns import Column, closing, flags, memo_map, number, numeric, seconds
from exporters.haproxy.mapping import HTTP_CODES, INFO, INFO_FALLBACKS, KIND_PREFIX, MS, NAN, STAT
from exporters.haproxy.parse import BACKEND, FRONTEND, LISTENER, SERVER, Certificate, StatTable

NS = "haproxy"
_NAN_FOR_EMPTY = {"": "NaN"}
_KIND_CODE = {"F": FRONTEND, "B": BACKEND, "S": SERVER, "L": LISTENER}
_KIND_LETTER = {code: letter for letter, code in _KIND_CODE.items()}
_KINDS = (FRONTEND, BACKEND, SERVER, LISTENER)


@dataclass(frozen=True)
class Options:
    """Cardinality controls.

    Args:
        include: only proxies whose name matches (anchored regex) are exported.
        exclude: proxies whose name matches are not exported.
        no_maint: drop the per-server series of servers in MAINT (backend counts keep them).
        proxies_only: emit frontend, backend and listener series only, no per-server series.
    """

    include: re.Pattern[str] | None = None
    exclude: re.Pattern[str] | None = None
    no_maint: bool = False
    proxies_only: bool = False

    def keeps(self, proxy: str) -> bool:
        """Whether a proxy passes the include/exclude filters."""
        if self.include is not None and not self.include.fullmatch(proxy):
            return False
        return self.exclude is None or not self.exclude.fullmatch(proxy)


def info_families(info: dict[str, str]) -> list[Family]:
    """`haproxy_process_*` families from `show info`; keys HAProxy does not give are absent.

    Raises:
        ParseError: a value that should be numeric is not.
    """
    out: list[Family] = []
    for m in INFO:
        raw = info.get(m.key)
        scale = m.scale
        if raw is None and m.key in INFO_FALLBACKS:
            key, scale = INFO_FALLBACKS[m.key]
            raw = info.get(key)
        if raw is None or raw == "":
            continue
        value = number(raw)
        if scale != 1.0:
            value = float(value) * scale
        fam = Family(f"{NS}_process_{m.suffix}", m.type, m.help)
        fam.text_rows.append(("", value))
        out.append(fam)
    version = info.get("Build info") or info.get("Version")
    if version:
        fam = Family(f"{NS}_process_build_info", "gauge", "HAProxy version, as a label.", ("version",))
        fam.add((version,), 1)
        out.append(fam)
    return out


@dataclass(frozen=True)
class _Plan:
    """For one `show stat` header: which columns feed which family, per object kind."""

    specs: tuple[tuple[str, str, str, str], ...]  # (name, type, help, kind letter)
    steps: dict[str, tuple[tuple[int, int, int], ...]]  # kind code -> (family, column, conv)
    col: dict[str, int]


@lru_cache(maxsize=16)
def _plan(columns: tuple[str, ...]) -> _Plan:
    col = {name: i for i, name in enumerate(columns)}
    specs: list[tuple[str, str, str, str]] = []
    steps: dict[str, list[tuple[int, int, int]]] = {code: [] for code in _KIND_CODE.values()}
    for m in STAT:
        if m.column not in col:
            continue
        for letter in m.kinds:
            fam = len(specs)
            specs.append((f"{NS}_{KIND_PREFIX[letter]}_{m.suffix}", m.type, m.help, letter))
            conv = m.server_conv if letter == "S" else m.conv
            steps[_KIND_CODE[letter]].append((fam, col[m.column], conv))
    return _Plan(tuple(specs), {k: tuple(v) for k, v in steps.items()}, col)


def _state_family(kind: str, help_: str) -> Family:
    return Family(f"{NS}_{kind}_status", "gauge", help_, ("state",))


def _heads(kind: str, proxies: Column, names: Column) -> list[str]:
    """Each row's label text, open (no closing brace): `proxy="p"` or `proxy="p",server="s"`."""
    esc = escape_label_value
    px = memo_map(esc, proxies)
    if kind in (FRONTEND, BACKEND):
        return [f'proxy="{p}"' for p in px]
    label = "server" if kind == SERVER else "listener"
    return [f'proxy="{p}",{label}="{n}"' for p, n in zip(px, memo_map(esc, names), strict=True)]


class _Rows:
    """The rows of one object kind: a picker of their fields from a whole column (one C-level
    pass), and their label texts without (`open`) and with (`closed`) the closing `} `."""

    def __init__(self, kind: str, indices: list[int], table: StatTable) -> None:
        self.kind = kind
        self.data = table.data
        self.index = table.index()
        self.total = len(table)
        self.indices = indices
        self.take = _picker(indices, self.total)
        self.open = _heads(kind, self.get("pxname"), self.get("svname"))
        self.closed = closing(self.open, "} ")

    def __len__(self) -> int:
        return len(self.indices)

    def get(self, name: str) -> Column:
        """The kind's fields of column `name`; empty fields when HAProxy has no such column."""
        i = self.index.get(name)
        return self.take(self.data[i]) if i is not None else [""] * len(self)

    def at(self, i: int) -> Column:
        """The kind's fields of column number `i`."""
        return self.take(self.data[i])

    def only(self, mask: list[bool]) -> _Rows:
        """The rows where `mask` (one flag per row of this kind) is true."""
        out = copy.copy(self)
        out.indices = list(compress(self.indices, mask))
        out.take = _picker(out.indices, self.total)
        out.open = list(compress(self.open, mask))
        out.closed = list(compress(self.closed, mask))
        return out


def _picker(indices: list[int], total: int) -> Callable[[list[str]], Column]:
    """A function picking the fields at `indices` (sorted) from a column of `total` rows.

    Servers come in long runs (a backend's servers follow each other): their fields are copied
    a run at a time, a slice each, which is faster than testing every row.
    """
    if len(indices) == total:
        return lambda column: column
    runs = _runs(indices)
    if 8 * len(runs) <= len(indices):

        def pick(column: list[str]) -> Column:
            out: list[str] = []
            for start, stop in runs:
                out += column[start:stop]
            return out

        return pick
    if len(indices) == 1:
        one = indices[0]
        return lambda column: [column[one]]
    if not indices:
        return lambda column: []
    return itemgetter(*indices)


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    """Contiguous runs [start, stop) of sorted row indices."""
    runs: list[tuple[int, int]] = []
    start = prev = indices[0] if indices else 0
    for i in indices[1:]:
        if i != prev + 1:
            runs.append((start, prev + 1))
            start = i
        prev = i
    if indices:
        runs.append((start, prev + 1))
    return runs


class StatFamilies:
    """The families of one scrape's `show stat`, built block of rows by block as they arrive.

    `add` the blocks (all parsed under one header) in the order HAProxy sent them, then call
    `families()` once. Column-wise:
    each kind's rows of a block are copied together once, so a column is one slice; each row's
    labels are formatted once; each family holds (heads, tails) columns that the writer joins
    without a Python loop per sample. A family's samples come out in the order one table of all
    rows gives: the pieces of each slot (a state, an HTTP code) are kept apart and put together
    slot by slot at the end, whatever the number of blocks.
    """

    def __init__(self, opts: Options | None = None) -> None:
        self.opts = opts or Options()
        self.plan: _Plan | None = None  # from the first block's columns
        self.fams: list[Family] = []
        self.status = {
            FRONTEND: _state_family("frontend", "Frontend status, one series per state."),
            BACKEND: _state_family("backend", "Backend status, one series per state."),
            SERVER: _state_family("server", "Server status (normalised), one series per state."),
            LISTENER: _state_family("listener", "Listener status, one series per state."),
        }
        self.check = Family(
            f"{NS}_server_check_status", "gauge", "Last health check result, per state.", ("state",)
        )
        self.check_code = Family(
            f"{NS}_server_check_code", "gauge", "Layer 5-7 code of the last health check (0: none)."
        )
        self.http = {
            k: Family(
                f"{NS}_{KIND_PREFIX[_KIND_LETTER[k]]}_http_responses_total",
                "counter",
                "HTTP responses by status class.",
                ("code",),
            )
            for k in (FRONTEND, BACKEND, SERVER)
        }
        self.active = Family(f"{NS}_server_active", "gauge", "1 for an active (non-backup) server.")
        self.backup = Family(f"{NS}_server_backup", "gauge", "1 for a backup server.")
        self._slots: dict[int, dict[int, list[tuple[Column, Column]]]] = {}
        self._agg: Counter[tuple[str, str]] = Counter()
        self._agg_check: Counter[tuple[str, str]] = Counter()
        self._backends: tuple[list[str], list[str]] = ([], [])  # label texts, proxy names

    def _put(self, fam: Family, slot: int, heads: Column, tails: Column) -> None:
        self._slots.setdefault(id(fam), {}).setdefault(slot, []).append((heads, tails))

    def _kinds(self, table: StatTable) -> dict[str, list[int]]:
        """Row indices per object kind, after the proxy filters (C-level passes over the column)."""
        types = table.column("type")
        rows = range(len(types))
        if self.opts.include is None and self.opts.exclude is None:
            return {k: list(compress(rows, map(k.__eq__, types))) for k in _KINDS}
        proxies = table.column("pxname")
        keeps = {p: self.opts.keeps(p) for p in set(proxies)}
        kept = list(map(keeps.__getitem__, proxies))
        return {k: list(compress(rows, map(and_, map(k.__eq__, types), kept))) for k in _KINDS}

    def add(self, table: StatTable) -> None:
        """Add a block of rows (parsed under the header given at construction).

        Raises:
            ParseError: a numeric field holds something else.
        """
        if self.plan is None:
            self.plan = _plan(table.columns)
            self.fams = [Family(n, t, h) for n, t, h, _ in self.plan.specs]  # type: ignore[arg-type]
        plan = self.plan
        kinds = {k: _Rows(k, idx, table) for k, idx in self._kinds(table).items()}
        servers = kinds[SERVER]
        server_states = memo_map(states.server_state, servers.get("status"))
        checks = memo_map(states.check_state, servers.get("check_status"))
        proxies = servers.get("pxname")
        self._agg.update(zip(proxies, server_states, strict=True))
        self._agg_check.update(p for p in zip(proxies, checks, strict=True) if p[1])
        if self.opts.proxies_only or self.opts.no_maint:
            keep = [not self.opts.proxies_only and s != "MAINT" for s in server_states]
            kinds[SERVER] = servers.only(keep)
            server_states = list(compress(server_states, keep))
            checks = list(compress(checks, keep))
        for rows in kinds.values():
            if len(rows):
                self._columns(rows, plan)
        self._statuses(kinds, server_states)
        self._server_extras(kinds[SERVER], checks, plan)
        self._backends[0].extend(kinds[BACKEND].open)
        self._backends[1].extend(kinds[BACKEND].get("pxname"))

    def families(self) -> list[Family]:
        """Every family, its columns in whole-table order (call once, after the last `add`)."""
        out = [
            *self.fams,
            *self.status.values(),
            self.check,
            self.check_code,
            *self.http.values(),
            self.active,
            self.backup,
        ]
        for fam in out:
            slots = self._slots.get(id(fam), {})
            fam.columns = [piece for slot in sorted(slots) for piece in slots[slot]]
        return [*out, *_aggregates(*self._backends, self._agg, self._agg_check)]

    def _columns(self, rows: _Rows, plan: _Plan) -> None:
        """The plain numeric families of one kind, and its HTTP responses by class."""
        for fam, ci, conv in plan.steps[rows.kind]:
            values = rows.at(ci)
            if conv == NAN and "" in values:
                values = list(map(_NAN_FOR_EMPTY.get, values, values))
            heads, values = numeric(rows.closed, values)
            if conv == MS:
                values = seconds(values)
            if values:
                self._put(self.fams[fam], 0, heads, values)
        http = self.http.get(rows.kind)
        if http is None:
            return
        for slot, (c, code) in enumerate(HTTP_CODES):
            if c in plan.col:
                heads, values = numeric(rows.open, rows.get(c))
                if values:
                    self._put(http, slot, heads, memo_map(f',code="{code}"}} '.__add__, values))

    def _statuses(self, kinds: dict[str, _Rows], server_states: list[str]) -> None:
        normalise = {
            FRONTEND: states.frontend_state,
            BACKEND: states.backend_state,
            LISTENER: states.listener_state,
        }
        names = {
            FRONTEND: states.FRONTEND_STATES,
            BACKEND: states.BACKEND_STATES,
            SERVER: states.SERVER_STATES,
            LISTENER: states.LISTENER_STATES,
        }
        for kind, rows in kinds.items():
            if not len(rows):
                continue
            column = server_states if kind == SERVER else memo_map(normalise[kind], rows.get("status"))
            for slot, name in enumerate(names[kind]):
                self._put(self.status[kind], slot, rows.open, flags(column, name))

    def _server_extras(self, rows: _Rows, checks: list[str], plan: _Plan) -> None:
        col = plan.col
        if "check_status" in col:
            mask = list(map(bool, rows.get("check_status")))
            checked = rows.only(mask)
            column = list(compress(checks, mask))
            for slot, name in enumerate(states.CHECK_STATES):
                self._put(self.check, slot, checked.open, flags(column, name))
            codes = checked.get("check_code") if "check_code" in col else ["0"] * len(checked)
            if "" in codes:
                codes = [c or "0" for c in codes]
            self._put(self.check_code, 0, *numeric(checked.closed, codes))
        for name, fam in (("act", self.active), ("bck", self.backup)):
            if name in col:
                self._put(fam, 0, *numeric(rows.closed, rows.get(name)))


def _aggregates(
    heads: list[str], proxies: list[str], agg: Counter[tuple[str, str]], agg_check: Counter[tuple[str, str]]
) -> list[Family]:
    """Per backend, how many of its servers are in each state and each check result."""
    fams = [
        Family(
            f"{NS}_backend_agg_server_status",
            "gauge",
            "Servers of the backend per normalised state.",
            ("state",),
        ),
        Family(
            f"{NS}_backend_agg_server_check_status",
            "gauge",
            "Servers of the backend per state (promex's deprecated name of agg_server_status).",
            ("state",),
        ),
    ]
    agg_check_fam = Family(
        f"{NS}_backend_agg_check_status",
        "gauge",
        "Servers of the backend per last health check result.",
        ("state",),
    )
    for name in states.SERVER_STATES:
        tails = [f',state="{name}"}} {agg.get((p, name), 0)}' for p in proxies]
        for fam in fams:
            fam.columns.append((heads, tails))
    for name in states.CHECK_STATES:
        tails = [f',state="{name}"}} {agg_check.get((p, name), 0)}' for p in proxies]
        agg_check_fam.columns.append((heads, tails))
    return [*fams, agg_check_fam]


def stat_families(table: StatTable, opts: Options | None = None) -> list[Family]:
    """Frontend, backend, server and listener families from a parsed `show stat`.

    Raises:
        ParseError: a numeric field holds something else.
    """
    built = StatFamilies(opts)
    built.add(table)
    return built.families()


def cert_families(certs: list[Certificate]) -> list[Family]:
    """`haproxy_ssl_certificate_expiry_timestamp_seconds{file,subject}` (notAfter, Unix time)."""
    fam = Family(
        f"{NS}_ssl_certificate_expiry_timestamp_seconds",
        "gauge",
        "When the certificate expires (notAfter), in Unix seconds.",
        ("file", "subject"),
    )
    for cert in certs:
        fam.add((cert.file, cert.subject), cert.not_after)
    return [fam]
