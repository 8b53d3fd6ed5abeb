"""Command line: the flags every exporter shares, config loading, and serving."""

from __future__ import annotations

import argparse
import logging
import os
import platform
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import FrameType

from exporters.core.collect import Collector
from exporters.core.config import DEFAULT_TIMEOUT, Target, load_config, parse_duration
from exporters.core.envflags import apply_env
from exporters.core.errors import ConfigError
from exporters.core.logs import LEVELS, mask, setup_logging
from exporters.core.selfmetrics import self_metrics, version
from exporters.core.server import (
    DEFAULT_MAX_REQUESTS,
    DEFAULT_READ_TIMEOUT,
    ExporterServer,
    ServerOptions,
    make_server,
)
from exporters.core.spec import ExporterSpec
from exporters.core.webconfig import WebConfigFile

log = logging.getLogger("exporters.cli")


def _duration(value: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _count(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"not a count >= 0: {value!r}")
    return n


def make_parser(spec: ExporterSpec, env: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """Build the parser: the shared flags, then the exporter's own; `env` supplies defaults.

    Every flag may also be given by an environment variable (see `exporters.core.envflags`),
    named in its help; a flag on the command line wins.
    """
    p = argparse.ArgumentParser(prog=f"{spec.namespace}-exporter", description=spec.description)
    p.add_argument(
        "--version",
        action="version",
        version=f"{spec.namespace}-exporter, version {version()} (python {platform.python_version()})",
    )
    p.add_argument(
        "--web.listen-address",
        dest="listen_address",
        default=spec.default_listen,
        help=f"host:port to serve on (default {spec.default_listen})",
    )
    p.add_argument(
        "--web.telemetry-path",
        dest="telemetry_path",
        default="/metrics",
        help="path of the metrics of all targets (default /metrics)",
    )
    p.add_argument(
        "--config.file",
        dest="config_file",
        default=None,
        help="YAML file of named targets; when given, flag targets are ignored",
    )
    p.add_argument(
        "--web.config.file",
        dest="web_config_file",
        default=None,
        help="YAML file of TLS and basic auth settings (exporter-toolkit format), re-read on change",
    )
    p.add_argument(
        "--web.max-requests",
        dest="max_requests",
        type=_count,
        default=DEFAULT_MAX_REQUESTS,
        help=f"concurrent scrapes served, 503 beyond; 0 for no limit (default {DEFAULT_MAX_REQUESTS})",
    )
    p.add_argument(
        "--web.read-timeout",
        dest="read_timeout",
        type=_duration,
        default=DEFAULT_READ_TIMEOUT,
        help="time for a request's line and headers to arrive (default 10s)",
    )
    p.add_argument(
        "--web.disable-exporter-metrics",
        dest="disable_exporter_metrics",
        action="store_true",
        help="leave the process_* and python_info series out of /metrics",
    )
    p.add_argument("--log.level", dest="log_level", choices=list(LEVELS), default="info")
    p.add_argument("--log.format", dest="log_format", choices=["logfmt", "json"], default="logfmt")
    p.add_argument(
        f"--{spec.namespace}.timeout",
        dest="target_timeout",
        type=_duration,
        default=DEFAULT_TIMEOUT,
        help="timeout of the target given by flags (default 5s)",
    )
    spec.add_flags(p)
    apply_env(p, spec.namespace, os.environ if env is None else env)
    return p


def load_targets(spec: ExporterSpec, args: argparse.Namespace) -> tuple[list[Target], bool]:
    """Return the targets and whether they carry a `target` label.

    They do when they come from a config file (even one target, so that adding a second later
    changes no series) or when there is more than one of them (several flag targets).

    Raises:
        ConfigError: bad config file, bad target, or no target at all.
    """
    defaults = spec.options_from_flags(args)
    if args.config_file:
        targets = load_config(args.config_file, defaults).targets
        from_file = True
    else:
        targets = [replace(t, options={**defaults, **t.options}) for t in spec.targets_from_flags(args)]
        from_file = False
        if not targets:
            raise ConfigError(
                f"no target: give --config.file or the {spec.namespace} target flags (see --help)"
            )
    for t in targets:
        try:
            spec.check_target(t)
        except ConfigError as e:
            raise ConfigError(f"{t.source}: {e}") from None
    return targets, from_file or len(targets) > 1


def server_options(spec: ExporterSpec, args: argparse.Namespace) -> ServerOptions:
    """The server's guards from the `--web.*` flags.

    Raises:
        ConfigError: the web config file does not load.
    """
    web = WebConfigFile(args.web_config_file) if args.web_config_file else None
    return ServerOptions(
        max_requests=args.max_requests,
        read_timeout=args.read_timeout,
        web_config=web,
        extra=self_metrics(spec.namespace, process=not args.disable_exporter_metrics),
    )


def build(
    spec: ExporterSpec, argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None
) -> tuple[Collector, ExporterServer]:
    """Parse flags, load targets, set up logging and bind the server (without serving).

    Args:
        spec: the exporter.
        argv: the command line (default `sys.argv[1:]`).
        env: environment for flag defaults (default `os.environ`).

    Raises:
        ConfigError: invalid flags or config.
        SystemExit: argparse usage errors.
    """
    args = make_parser(spec, env).parse_args(argv)
    setup_logging(args.log_level, args.log_format)
    options = server_options(spec, args)
    targets, labelled = load_targets(spec, args)
    collector = spec.collector_factory(spec.namespace, targets, spec.scrape, labelled)
    try:
        server = make_server(collector, args.listen_address, args.telemetry_path, spec.description, options)
    except ValueError as e:
        collector.close()
        raise ConfigError(f"--web.listen-address: {e}") from None
    except OSError as e:
        collector.close()
        raise ConfigError(f"--web.listen-address {args.listen_address}: {e.strerror}") from None
    log.info(
        "listening",
        extra={
            "fields": {
                "address": args.listen_address,
                "tls": server.tls,
                "targets": ",".join(collector.targets),
            }
        },
    )
    return collector, server


def run(spec: ExporterSpec, argv: Sequence[str] | None = None) -> int:
    """Run an exporter until SIGINT/SIGTERM; returns the exit status (2 on a config error)."""
    try:
        collector, server = build(spec, argv)
    except ConfigError as e:
        print(f"{spec.namespace}-exporter: {mask(str(e))}", file=sys.stderr)
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
    return 0
