"""`patroni-exporter`: Patroni REST API targets on the shared exporter framework."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from exporters.core.cli import load_targets, make_parser
from exporters.core.config import Target
from exporters.core.errors import ConfigError
from exporters.core.logs import mask, setup_logging
from exporters.core.server import ExporterServer, make_server
from exporters.core.spec import ExporterSpec
from exporters.patroni.client import check_url, make_client
from exporters.patroni.collector import PatroniCollector
from exporters.patroni.pgstat import monitoring_password
from exporters.patroni.scrape import PatroniScraper

log = logging.getLogger("exporters.cli")
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
    """One target per `--patroni.url`, named by its `host:port`."""
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


def make_spec(scraper: PatroniScraper) -> ExporterSpec:
    """The exporter's spec around one scraper."""
    return ExporterSpec(
        namespace="patroni",
        description="Patroni exporter (node, cluster, failovers, replication lag)",
        default_listen=DEFAULT_LISTEN,
        scrape=scraper.scrape,
        targets_from_flags=targets_from_flags,
        add_flags=add_flags,
        options_from_flags=options_from_flags,
        check_target=check_target,
    )


def build(
    argv: Sequence[str] | None = None, scraper: PatroniScraper | None = None
) -> tuple[PatroniCollector, ExporterServer, PatroniScraper]:
    """Parse flags, load targets and bind the server without serving.

    Several `--patroni.url` flags get a `target` label, as targets from a config file do.

    Raises:
        ConfigError: invalid flags or config.
    """
    scraper = scraper or PatroniScraper()
    spec = make_spec(scraper)
    args = make_parser(spec).parse_args(argv)
    setup_logging(args.log_level, args.log_format)
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    targets, labelled = load_targets(spec, args)
    collector = PatroniCollector(
        spec.namespace, targets, spec.scrape, target_label=labelled or len(targets) > 1
    )
    try:
        server = make_server(collector, args.listen_address, args.telemetry_path, spec.description)
    except (ValueError, OSError) as e:
        collector.close()
        scraper.close()
        raise ConfigError(f"--web.listen-address {args.listen_address}: {e}") from None
    log.info(
        "listening",
        extra={"fields": {"address": args.listen_address, "targets": ",".join(collector.targets)}},
    )
    return collector, server, scraper


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGINT/SIGTERM; exit status 2 on a configuration error."""
    try:
        collector, server, scraper = build(argv)
    except ConfigError as e:
        print(f"patroni-exporter: {mask(str(e))}", file=sys.stderr)
        return 2

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        collector.close()
        scraper.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
