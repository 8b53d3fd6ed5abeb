"""`patroni-exporter`: Patroni REST API targets on the shared exporter framework."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from exporters.core.cli import build as build_exporter
from exporters.core.cli import run
from exporters.core.collect import Collector
from exporters.core.config import Target
from exporters.core.server import ExporterServer
from exporters.core.spec import ExporterSpec, Scrape
from exporters.patroni.client import check_url, make_client
from exporters.patroni.collector import PatroniCollector
from exporters.patroni.pgstat import monitoring_password
from exporters.patroni.scrape import PatroniScraper, monitoring_endpoints

DEFAULT_LISTEN = "127.0.0.1:9547"
# flag dest -> option key (the same keys are accepted in the config file)
OPTION_FLAGS = {
    "basic_auth_user": "user name for Patroni's REST API basic auth",
    "basic_auth_password_file": "file holding the basic auth password",
    "basic_auth_password_env": "environment variable holding the basic auth password",
    "ca_file": "CA bundle to verify Patroni's TLS certificate",
    "cert_file": "client certificate (TLS) for Patroni's REST API",
    "key_file": "key of the client certificate",
    "monitoring_dsn": "libpq DSN (without host/port) to read pg_stat_replication on the leader",
    "monitoring_password_file": "file holding the monitoring DSN's password",
    "monitoring_password_env": "environment variable holding the monitoring DSN's password",
    "monitoring_hosts": "comma-separated hosts, besides the targets' own, the monitoring DSN may reach",
}


def add_flags(p: argparse.ArgumentParser) -> None:
    """`--patroni.url` (repeatable) and the TLS/auth/monitoring options."""
    p.add_argument(
        "--patroni.url",
        dest="patroni_url",
        action="append",
        default=[],
        help="Patroni REST API base URL, e.g. http://127.0.0.1:8008 (repeatable)",
    )
    for dest, text in OPTION_FLAGS.items():
        p.add_argument(f"--patroni.{dest.replace('_', '-')}", dest=dest, default=None, help=text)
    p.add_argument(
        "--patroni.insecure-skip-verify",
        dest="insecure_skip_verify",
        action="store_true",
        help="do not verify Patroni's TLS certificate",
    )


def options_from_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The options given by flags (config keys override them)."""
    out: dict[str, Any] = {k: getattr(args, k) for k in OPTION_FLAGS if getattr(args, k)}
    if args.insecure_skip_verify:
        out["insecure_skip_verify"] = True
    return out


def targets_from_flags(args: argparse.Namespace) -> list[Target]:
    """One target per `--patroni.url`, named by its `host:port` (several get a `target` label)."""
    targets: list[Target] = []
    for url in args.patroni_url:
        name = urlsplit(url).netloc.rsplit("@", 1)[-1] or url
        targets.append(Target(name=name, address=url, timeout=args.target_timeout))
    return targets


def check_target(t: Target) -> None:
    """Validate the URL and that the TLS files and secrets can be loaded."""
    check_url(t.address)
    make_client(t.options, t.timeout).close()
    if t.options.get("monitoring_dsn"):
        monitoring_password(t.options, os.environ)
        monitoring_endpoints(t)  # checks the `monitoring_hosts` entries


def make_spec(scraper: PatroniScraper | None = None) -> ExporterSpec:
    """The exporter's spec around one scraper (a new one if not given).

    Its collector de-duplicates the cluster series across targets and closes the scraper when
    it is closed.
    """
    scraper = scraper or PatroniScraper()

    def collector(
        namespace: str, targets: Sequence[Target], scrape: Scrape, target_label: bool
    ) -> PatroniCollector:
        # httpx logs every request at info; keep it to warnings (logging is set up by now)
        logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
        scraper.allow_hosts(targets)
        return PatroniCollector(namespace, targets, scrape, target_label, on_close=scraper.close)

    return ExporterSpec(
        namespace="patroni",
        description="Patroni exporter (node, cluster, failovers, replication lag)",
        default_listen=DEFAULT_LISTEN,
        scrape=scraper.scrape,
        targets_from_flags=targets_from_flags,
        add_flags=add_flags,
        options_from_flags=options_from_flags,
        check_target=check_target,
        collector_factory=collector,
    )


def build(
    argv: Sequence[str] | None = None, scraper: PatroniScraper | None = None
) -> tuple[Collector, ExporterServer, PatroniScraper]:
    """The framework's `build` for this exporter, also returning the scraper it uses.

    Raises:
        ConfigError: invalid flags or config.
    """
    scraper = scraper or PatroniScraper()
    collector, server = build_exporter(make_spec(scraper), argv)
    return collector, server, scraper


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGINT/SIGTERM (console script `patroni-exporter`); 2 on a configuration error."""
    return run(make_spec(), argv)
