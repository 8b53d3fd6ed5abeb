"""`haproxy-exporter`: HAProxy's runtime API as promex-compatible Prometheus metrics."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from exporters.core.cli import run
from exporters.core.config import Target
from exporters.core.spec import ExporterSpec
from exporters.haproxy.scrape import check_target, scrape


def add_flags(p: argparse.ArgumentParser) -> None:
    """The exporter's own flags: one target, and the cardinality controls."""
    g = p.add_argument_group("haproxy")
    g.add_argument(
        "--haproxy.scrape-uri",
        dest="scrape_uri",
        help="the one target: unix:/path, tcp:host:port or http(s)://host:port/stats;csv",
    )
    g.add_argument(
        "--haproxy.socket", dest="socket", help="the one target's stats socket: /path or unix:/path"
    )
    g.add_argument("--haproxy.include-proxies", dest="include_proxies", help="export only matching proxies")
    g.add_argument("--haproxy.exclude-proxies", dest="exclude_proxies", help="do not export matching proxies")
    g.add_argument(
        "--haproxy.no-maint",
        dest="no_maint",
        action="store_true",
        help="no per-server series for servers in MAINT (backend counts keep them)",
    )
    g.add_argument(
        "--haproxy.proxies-only",
        dest="proxies_only",
        action="store_true",
        help="frontend, backend and listener series only (no per-server series)",
    )
    g.add_argument(
        "--haproxy.no-ssl-certs",
        dest="no_ssl_certs",
        action="store_true",
        help="do not read certificates (show ssl cert)",
    )


def options_from_flags(args: argparse.Namespace) -> dict[str, Any]:
    """Flag values as exporter options (config file keys override them)."""
    opts: dict[str, Any] = {}
    if args.include_proxies:
        opts["include_proxies"] = args.include_proxies
    if args.exclude_proxies:
        opts["exclude_proxies"] = args.exclude_proxies
    if args.no_maint:
        opts["no_maint"] = True
    if args.proxies_only:
        opts["proxies_only"] = True
    if args.no_ssl_certs:
        opts["ssl_certs"] = False
    return opts


def targets_from_flags(args: argparse.Namespace) -> list[Target]:
    """The single target given by `--haproxy.scrape-uri` or `--haproxy.socket`."""
    socket = args.socket.removeprefix("unix:") if args.socket else None
    address = args.scrape_uri or (f"unix:{socket}" if socket else None)
    if not address:
        return []
    return [Target(name="haproxy", address=address, timeout=args.target_timeout)]


SPEC = ExporterSpec(
    namespace="haproxy",
    description="nines HAProxy exporter",
    default_listen="127.0.0.1:9101",
    scrape=scrape,
    targets_from_flags=targets_from_flags,
    add_flags=add_flags,
    options_from_flags=options_from_flags,
    check_target=check_target,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the exporter (console script `haproxy-exporter`)."""
    return run(SPEC, argv)
