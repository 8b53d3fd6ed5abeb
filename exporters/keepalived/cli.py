"""`keepalived-exporter`: keepalived's VRRP state on the shared exporter framework (port 9165).

Targets come from `--config.file` (see `exporters.keepalived.config`: each target names the pid
file of one keepalived) or from `--keepalived.pid-file` (+ `--keepalived.dump-dir`) for one.
The framework's own config loader wants an `address` per target, so `main` hands the config
file to this exporter's loader (through a hidden flag) and keeps everything else the framework's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from exporters.core.cli import build as build_exporter
from exporters.core.cli import run
from exporters.core.collect import Collector
from exporters.core.config import Target
from exporters.core.server import ExporterServer
from exporters.core.spec import ExporterSpec, Scrape
from exporters.keepalived.config import load_targets
from exporters.keepalived.scrape import KeepalivedScraper, check_target

DEFAULT_LISTEN = "127.0.0.1:9165"
_CONFIG_FLAG = "--keepalived.config-file"


def add_flags(p: argparse.ArgumentParser) -> None:
    """`--keepalived.pid-file` and `--keepalived.dump-dir` (the one target given by flags)."""
    g = p.add_argument_group("keepalived")
    g.add_argument(
        "--keepalived.pid-file",
        dest="pid_file",
        help="pid file of keepalived's main process (the one target), e.g. /run/keepalived.pid",
    )
    g.add_argument(
        "--keepalived.dump-dir",
        dest="dump_dir",
        help="folder keepalived writes its dumps to (default: its own /tmp, /proc/<pid>/root/tmp)",
    )
    g.add_argument(_CONFIG_FLAG, dest="keepalived_config", help=argparse.SUPPRESS)


def options_from_flags(args: argparse.Namespace) -> dict[str, Any]:
    """`dump_dir` from its flag (the config file's targets have their own)."""
    return {"dump_dir": args.dump_dir} if args.dump_dir and not args.keepalived_config else {}


def targets_from_flags(args: argparse.Namespace) -> list[Target]:
    """The config file's targets, or the one target of `--keepalived.pid-file`.

    Raises:
        ConfigError: a bad config file.
    """
    if args.keepalived_config:
        return load_targets(args.keepalived_config)
    if not args.pid_file:
        return []
    return [Target(name="keepalived", address=args.pid_file, timeout=args.target_timeout)]


def make_spec(scraper: KeepalivedScraper | None = None, from_file: bool = False) -> ExporterSpec:
    """The exporter's spec; `from_file`: targets come from a config file (always `target`-labelled)."""
    scraper = scraper or KeepalivedScraper()

    def collector(namespace: str, targets: Sequence[Target], scrape: Scrape, target_label: bool) -> Collector:
        return Collector(namespace, targets, scrape, target_label or from_file)

    return ExporterSpec(
        namespace="keepalived",
        description="nines keepalived exporter (VRRP state, priorities, VIPs, track scripts)",
        default_listen=DEFAULT_LISTEN,
        scrape=scraper.scrape,
        targets_from_flags=targets_from_flags,
        add_flags=add_flags,
        options_from_flags=options_from_flags,
        check_target=check_target,
        collector_factory=collector,
    )


def framework_argv(argv: Sequence[str]) -> tuple[list[str], bool]:
    """Hand `--config.file` to this exporter's loader: the argv for the framework, and whether it did."""
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--config.file", dest="config_file")
    known, rest = pre.parse_known_args(list(argv))
    if not known.config_file:
        return rest, False
    return [*rest, _CONFIG_FLAG, known.config_file], True


def build(argv: Sequence[str], scraper: KeepalivedScraper | None = None) -> tuple[Collector, ExporterServer]:
    """The framework's `build` for this exporter (bound, not serving).

    Raises:
        ConfigError: invalid flags or config.
    """
    args, from_file = framework_argv(argv)
    return build_exporter(make_spec(scraper, from_file), args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the exporter (console script `keepalived-exporter`); 2 on a configuration error."""
    args, from_file = framework_argv(sys.argv[1:] if argv is None else argv)
    return run(make_spec(from_file=from_file), args)
