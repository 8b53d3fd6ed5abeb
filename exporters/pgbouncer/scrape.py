"""Scrape one PgBouncer: run each SHOW view on one console connection, each failing on its own.

`collect_views` takes a `run(sql) -> (columns, rows)` function, so it works the same on a live
console and on recorded answers. A view the console refuses or that does not parse gives
`pgbouncer_exporter_view_up{view} 0` and the other views still export; a broken connection
or the deadline fails the whole target (the framework then emits `pgbouncer_up 0`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from exporters.core.config import Target
from exporters.core.errors import ConfigError, ParseError, TargetError
from exporters.core.logs import mask
from exporters.core.metrics import Family
from exporters.core.values import regex_option
from exporters.pgbouncer import mapping, parse
from exporters.pgbouncer.console import Console, QueryError, Run, Table, resolve_dsn

log = logging.getLogger("exporters.pgbouncer")

VIEWS = ("version", "lists", "config", "databases", "pools", "stats", "clients", "servers")
OPTION_KEYS = (
    "password_file",
    "password_env",
    "include_databases",
    "exclude_databases",
    "application_name",
    "clients",
)


@dataclass(frozen=True)
class Options:
    """What to collect from a target, from its config keys (see docs/exporters/pgbouncer.md).

    Args:
        include: only databases whose name matches (re.fullmatch); None: all.
        exclude: drop databases whose name matches (re.fullmatch), after `include`.
        application_name: add `application_name` to the client/server connection counts.
        clients: run SHOW CLIENTS and SHOW SERVERS (one row per connection).
        password_file: file holding the password (first line).
        password_env: environment variable holding the password.
    """

    include: re.Pattern[str] | None = None
    exclude: re.Pattern[str] | None = None
    application_name: bool = False
    clients: bool = True
    password_file: str | None = None
    password_env: str | None = None

    def keep(self, database: str) -> bool:
        """True if series of `database` are exported."""
        if self.include is not None and not self.include.fullmatch(database):
            return False
        return not (self.exclude is not None and self.exclude.fullmatch(database))

    @property
    def filters(self) -> bool:
        """True if include or exclude is set."""
        return self.include is not None or self.exclude is not None


def _flag(options: Mapping[str, Any], key: str, default: bool) -> bool:
    value = options.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    return value


def _text(options: Mapping[str, Any], key: str) -> str | None:
    value = options.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{key}: expected a string")
    return value


def options_from(options: Mapping[str, Any]) -> Options:
    """Validate a target's options.

    Raises:
        ConfigError: an unknown key, a bad regex or a value of the wrong type (named).
    """
    unknown = sorted(set(options) - set(OPTION_KEYS))
    if unknown:
        raise ConfigError(f"unknown option {unknown[0]!r} (known: {', '.join(OPTION_KEYS)})")
    opts = Options(
        include=regex_option(options, "include_databases"),
        exclude=regex_option(options, "exclude_databases"),
        application_name=_flag(options, "application_name", False),
        clients=_flag(options, "clients", True),
        password_file=_text(options, "password_file"),
        password_env=_text(options, "password_env"),
    )
    if opts.password_file and opts.password_env:
        raise ConfigError("give password_file or password_env, not both")
    return opts


def _stats(run: Run, keep: parse.Keep | None) -> list[Family]:
    try:
        columns, rows = run("SHOW STATS_TOTALS")
    except QueryError:  # before 1.8: only SHOW STATS, with total_* columns
        columns, rows = run("SHOW STATS")
    return parse.parse_stats(columns, rows, keep)


def collect_views(run: Run, options: Options) -> list[Family]:
    """Run every view through `run` and return their families plus the per-view success gauge.

    Raises:
        TargetError: the connection broke, or every view failed.
        TimeoutError: the deadline passed.
    """
    keep = options.keep if options.filters else None
    tables: dict[str, Table] = {}

    def table(command: str) -> Table:
        tables[command] = run(command)
        return tables[command]

    steps: dict[str, Callable[[], list[Family]]] = {
        "version": lambda: parse.parse_version(*run("SHOW VERSION")),
        "lists": lambda: parse.parse_lists(*run("SHOW LISTS")),
        "config": lambda: parse.parse_config(*run("SHOW CONFIG")),
        "databases": lambda: parse.parse_databases(*table("SHOW DATABASES"), keep),
        "pools": lambda: parse.parse_pools(*table("SHOW POOLS"), keep),
        "stats": lambda: _stats(run, keep),
    }
    if options.clients:
        app = options.application_name
        steps["clients"] = lambda: parse.aggregate_connections(
            "SHOW CLIENTS", *run("SHOW CLIENTS"), application_name=app, keep=keep
        )
        steps["servers"] = lambda: parse.aggregate_connections(
            "SHOW SERVERS", *run("SHOW SERVERS"), application_name=app, keep=keep
        )
    view_up = Family(
        mapping.VIEW_UP_METRIC,
        "gauge",
        "1 if the console view was read and parsed in the last scrape, else 0.",
        ("view",),
    )
    results: dict[str, list[Family]] = {}
    errors: list[str] = []
    for view, step in steps.items():
        try:
            results[view] = step()
        except (QueryError, ParseError) as e:
            message = mask(str(e))
            errors.append(message)
            log.debug("view failed", extra={"fields": {"view": view, "error": message}})
            view_up.add((view,), 0.0)
        else:
            view_up.add((view,), 1.0)
    if not results:
        raise TargetError(f"every view failed; first: {errors[0]}")
    families = [view_up]
    for view in VIEWS:
        families.extend(results.get(view, ()))
    if "pools" in results and "databases" in results:
        families.extend(parse.pool_utilization(tables["SHOW POOLS"], tables["SHOW DATABASES"], keep))
    return families


def make_scrape(env: Mapping[str, str]) -> Callable[[Target], list[Family]]:
    """Return the framework's scrape function; `env` supplies `password_env` variables."""

    def scrape(target: Target) -> list[Family]:
        options = options_from(target.options)
        conninfo = resolve_dsn(target.address, options.password_file, options.password_env, env)
        with Console(conninfo, time.monotonic() + target.timeout) as console:
            return collect_views(console.query, options)

    return scrape
