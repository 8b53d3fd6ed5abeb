"""`pgbouncer-exporter`: PgBouncer's admin console as Prometheus metrics, on the shared framework."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from exporters.core.cli import run
from exporters.core.config import Target
from exporters.core.errors import ConfigError
from exporters.core.spec import ExporterSpec
from exporters.pgbouncer.console import resolve_dsn
from exporters.pgbouncer.scrape import make_scrape, options_from

DEFAULT_LISTEN = "127.0.0.1:9127"


def add_flags(p: argparse.ArgumentParser) -> None:
    """Add the PgBouncer flags (single target without a config file, and defaults for all)."""
    p.add_argument(
        "--pgbouncer.dsn",
        "--pgBouncer.connectionString",  # prometheus-community pgbouncer_exporter's name
        dest="pgbouncer_dsn",
        default=None,
        help="DSN of the one target, e.g. postgresql://nines_stats@127.0.0.1:6432/pgbouncer",
    )
    p.add_argument(
        "--pgbouncer.password-file",
        dest="password_file",
        default=None,
        help="file holding the console password (first line)",
    )
    p.add_argument(
        "--pgbouncer.password-env",
        dest="password_env",
        default=None,
        help="environment variable holding the console password",
    )
    p.add_argument(
        "--pgbouncer.include-databases",
        dest="include_databases",
        default=None,
        help="regex: export only databases whose name matches it entirely",
    )
    p.add_argument(
        "--pgbouncer.exclude-databases",
        dest="exclude_databases",
        default=None,
        help="regex: drop databases whose name matches it entirely",
    )
    p.add_argument(
        "--pgbouncer.application-name",
        dest="application_name",
        action="store_true",
        help="add an application_name label to client/server connection counts",
    )
    p.add_argument(
        "--no-pgbouncer.clients",
        dest="clients",
        action="store_false",
        help="skip SHOW CLIENTS and SHOW SERVERS (one row per connection)",
    )


def options_from_flags(args: argparse.Namespace) -> dict[str, Any]:
    """Options from flags; config-file keys override them."""
    out: dict[str, Any] = {}
    for key in ("password_file", "password_env", "include_databases", "exclude_databases"):
        value = getattr(args, key, None)
        if value:
            out[key] = value
    if getattr(args, "application_name", False):
        out["application_name"] = True
    if not getattr(args, "clients", True):
        out["clients"] = False
    return out


def targets_from_flags(args: argparse.Namespace) -> list[Target]:
    """The single target given by `--pgbouncer.dsn` (none without it)."""
    if not args.pgbouncer_dsn:
        return []
    return [Target(name="pgbouncer", address=args.pgbouncer_dsn, timeout=args.target_timeout)]


def make_check(env: Mapping[str, str]) -> Callable[[Target], None]:
    """Validate a target at start: options, DSN and password source."""

    def check_target(target: Target) -> None:
        options = options_from(target.options)
        try:
            resolve_dsn(target.address, options.password_file, options.password_env, env)
        except ConfigError as e:
            raise ConfigError(f"target {target.name}: {e}") from None

    return check_target


def make_spec(env: Mapping[str, str]) -> ExporterSpec:
    """The exporter's spec; `env` supplies the variables named by `password_env`."""
    return ExporterSpec(
        namespace="pgbouncer",
        description="PgBouncer exporter (admin console SHOW views)",
        default_listen=DEFAULT_LISTEN,
        scrape=make_scrape(env),
        targets_from_flags=targets_from_flags,
        add_flags=add_flags,
        options_from_flags=options_from_flags,
        check_target=make_check(env),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Console script entry point."""
    return run(make_spec(os.environ), argv)


if __name__ == "__main__":
    raise SystemExit(main())
