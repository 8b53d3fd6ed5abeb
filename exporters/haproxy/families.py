"""Build promex-compatible metric families from parsed `show info`, `show stat` and certificates.

The hot path formats each row's labels once and passes numeric CSV fields through as text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

from exporters.core.errors import ParseError
from exporters.core.metrics import Family, escape_label_value, format_value
from exporters.haproxy import states
from exporters.haproxy.mapping import HTTP_CODES, INFO, INFO_FALLBACKS, KIND_PREFIX, MS, NAN, STAT
from exporters.haproxy.parse import BACKEND, FRONTEND, LISTENER, SERVER, Certificate, StatTable

NS = "haproxy"
_KIND_CODE = {"F": FRONTEND, "B": BACKEND, "S": SERVER, "L": LISTENER}
_KIND_LETTER = {code: letter for letter, code in _KIND_CODE.items()}


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


def number(field: str) -> str | float:
    """Validate a numeric field: an integer stays text, a decimal becomes a float.

    Raises:
        ParseError: not a finite number.
    """
    if field.isascii() and field.isdigit():
        return field
    try:
        return str(int(field))
    except ValueError:
        pass
    try:
        value = float(field)
    except ValueError:
        raise ParseError(f"not a number: {field[:40]!r}") from None
    if math.isinf(value):
        raise ParseError(f"not a finite number: {field[:40]!r}")
    return value


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


def _numeric(tails: list[str], values: list[str]) -> tuple[list[str], list[str]]:
    """Drop empty fields, validate the rest as numbers (one C-level check in the usual case)."""
    if "" in values:
        kept = [(t, v) for t, v in zip(tails, values, strict=True) if v]
        tails = [t for t, _ in kept]
        values = [v for _, v in kept]
    joined = "".join(values)
    if joined.isdigit() and joined.isascii():
        return tails, values
    # Validate each distinct value once (columns repeat few values); rewrite only odd ones.
    fixes = {u: _text(number(u)) for u in set(values) if not ((u.isdigit() and u.isascii()) or u in _PLAIN)}
    if fixes:
        values = [fixes.get(v, v) for v in values]
    return tails, values


_PLAIN = frozenset(("-1", "NaN"))


def _text(value: str | float) -> str:
    return value if isinstance(value, str) else format_value(value)


def _seconds(values: list[str]) -> list[str]:
    """Milliseconds -> seconds; integers by moving the decimal point (no float round trip)."""
    if values.count("0") == len(values):
        return values
    return [
        (f"{v[:-3] or '0'}.{v[-3:].rjust(3, '0')}" if v != "0" else "0")
        if v.isdigit() and v.isascii()
        else format_value(float(v) / 1000.0)
        for v in values
    ]


def _flags(states_: list[str], labels: list[str], names: tuple[str, ...], fam: Family) -> None:
    """One series per state name: 1 where the object's state is that name, else 0."""
    for name in names:
        suffix = f',state="{name}"}} '
        fam.columns.append(([lt + suffix for lt in labels], ["1" if s == name else "0" for s in states_]))


class _StatBuilder:
    """One scrape's families for a `show stat` table; call `build()` once.

    Column-wise: rows are grouped by object kind, each row's labels are formatted once, and
    each metric is a (shared label tails, values) pair rendered by one `str.join`.
    """

    def __init__(self, table: StatTable, opts: Options) -> None:
        self.table = table
        self.opts = opts
        self.plan = _plan(table.columns)
        self.fams = [Family(n, t, h) for n, t, h, _ in self.plan.specs]  # type: ignore[arg-type]
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

    def build(self) -> list[Family]:
        col = self.plan.col
        pi, si, ti = col["pxname"], col["svname"], col["type"]
        st = col.get("status")
        ck = col.get("check_status")
        opts = self.opts
        keep: dict[str, bool] = {}
        rows: dict[str, list[list[str]]] = {FRONTEND: [], BACKEND: [], SERVER: [], LISTENER: []}
        server_states: list[str] = []
        server_checks: list[str] = []
        # backend -> [state counts], [check counts]
        agg: dict[str, dict[str, int]] = {}
        agg_check: dict[str, dict[str, int]] = {}
        for row in self.table.rows:
            proxy = row[pi]
            kept = keep.get(proxy)
            if kept is None:
                kept = keep[proxy] = opts.keeps(proxy)
            if not kept:
                continue
            kind = row[ti]
            if kind == SERVER:
                state = states.server_state(row[st]) if st is not None else ""
                check = states.check_state(row[ck]) if ck is not None else ""
                counts = agg.setdefault(proxy, {})
                counts[state] = counts.get(state, 0) + 1
                if check:
                    checks = agg_check.setdefault(proxy, {})
                    checks[check] = checks.get(check, 0) + 1
                if opts.proxies_only or (opts.no_maint and state == "MAINT"):
                    continue
                server_states.append(state)
                server_checks.append(check)
            target = rows.get(kind)
            if target is not None:
                target.append(row)
        esc = escape_label_value
        labels = {
            FRONTEND: [f'proxy="{esc(r[pi])}"' for r in rows[FRONTEND]],
            BACKEND: [f'proxy="{esc(r[pi])}"' for r in rows[BACKEND]],
            SERVER: [f'proxy="{esc(r[pi])}",server="{esc(r[si])}"' for r in rows[SERVER]],
            LISTENER: [f'proxy="{esc(r[pi])}",listener="{esc(r[si])}"' for r in rows[LISTENER]],
        }
        tails = {k: [lt + "} " for lt in v] for k, v in labels.items()}
        for kind, kind_rows in rows.items():
            if not kind_rows:
                continue
            kind_tails = tails[kind]
            for fam, ci, conv in self.plan.steps[kind]:
                values = list(map(itemgetter(ci), kind_rows))
                if conv == NAN:
                    values = [v or "NaN" for v in values]
                t, v = _numeric(kind_tails, values)
                if conv == MS:
                    v = _seconds(v)
                if v:
                    self.fams[fam].columns.append((t, v))
            if kind in self.http:
                for c, code in HTTP_CODES:
                    if c in col:
                        suffix = f',code="{code}"}} '
                        code_tails = [lt + suffix for lt in labels[kind]]
                        t, v = _numeric(code_tails, [r[col[c]] for r in kind_rows])
                        if v:
                            self.http[kind].columns.append((t, v))
        self._statuses(rows, labels, st, server_states)
        self._server_extras(rows[SERVER], labels[SERVER], tails[SERVER], server_checks)
        return [
            *self.fams,
            *self.status.values(),
            self.check,
            self.check_code,
            *self.http.values(),
            self.active,
            self.backup,
            *self._aggregates(rows[BACKEND], labels[BACKEND], pi, agg, agg_check),
        ]

    def _statuses(
        self,
        rows: dict[str, list[list[str]]],
        labels: dict[str, list[str]],
        st: int | None,
        server_states: list[str],
    ) -> None:
        raw = {k: [r[st] if st is not None else "" for r in v] for k, v in rows.items()}
        _flags(
            [states.frontend_state(s) for s in raw[FRONTEND]],
            labels[FRONTEND],
            states.FRONTEND_STATES,
            self.status[FRONTEND],
        )
        _flags(
            [states.backend_state(s) for s in raw[BACKEND]],
            labels[BACKEND],
            states.BACKEND_STATES,
            self.status[BACKEND],
        )
        _flags(
            [states.listener_state(s) for s in raw[LISTENER]],
            labels[LISTENER],
            states.LISTENER_STATES,
            self.status[LISTENER],
        )
        _flags(server_states, labels[SERVER], states.SERVER_STATES, self.status[SERVER])

    def _server_extras(
        self, rows: list[list[str]], labels: list[str], tails: list[str], checks: list[str]
    ) -> None:
        col = self.plan.col
        ck, cc = col.get("check_status"), col.get("check_code")
        if ck is not None:
            checked = [i for i, r in enumerate(rows) if r[ck]]
            lts = [labels[i] for i in checked]
            _flags([checks[i] for i in checked], lts, states.CHECK_STATES, self.check)
            codes = [rows[i][cc] or "0" if cc is not None else "0" for i in checked]
            t, v = _numeric([tails[i] for i in checked], codes)
            self.check_code.columns.append((t, v))
        for name, fam in (("act", self.active), ("bck", self.backup)):
            if name in col:
                ci = col[name]
                fam.columns.append(_numeric(tails, [r[ci] for r in rows]))

    @staticmethod
    def _aggregates(
        rows: list[list[str]],
        labels: list[str],
        pi: int,
        agg: dict[str, dict[str, int]],
        agg_check: dict[str, dict[str, int]],
    ) -> list[Family]:
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
        proxies = [r[pi] for r in rows]
        for name in states.SERVER_STATES:
            suffix = f',state="{name}"}} '
            t = [lt + suffix for lt in labels]
            v = [str(agg.get(p, {}).get(name, 0)) for p in proxies]
            for fam in fams:
                fam.columns.append((t, v))
        for name in states.CHECK_STATES:
            suffix = f',state="{name}"}} '
            t = [lt + suffix for lt in labels]
            v = [str(agg_check.get(p, {}).get(name, 0)) for p in proxies]
            agg_check_fam.columns.append((t, v))
        return [*fams, agg_check_fam]


def stat_families(table: StatTable, opts: Options | None = None) -> list[Family]:
    """Frontend, backend, server and listener families from a parsed `show stat`.

    Raises:
        ParseError: a numeric field holds something else.
    """
    return _StatBuilder(table, opts or Options()).build()


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
