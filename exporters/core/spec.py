"""What an exporter plugs into the framework."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from exporters.core.collect import Collector, Scrape
from exporters.core.config import Target

__all__ = ["CollectorFactory", "ExporterSpec", "Scrape", "plain_collector"]

# (namespace, targets, scrape, target_label) -> the collector the server serves
CollectorFactory = Callable[[str, Sequence[Target], Scrape, bool], Collector]


def _no_flags(parser: argparse.ArgumentParser) -> None:
    """Add nothing."""


def _no_options(args: argparse.Namespace) -> dict[str, Any]:
    return {}


def _accept(target: Target) -> None:
    """Accept every target."""


def plain_collector(
    namespace: str, targets: Sequence[Target], scrape: Scrape, target_label: bool
) -> Collector:
    """The default `collector_factory`: the framework's own `Collector`."""
    return Collector(namespace, targets, scrape, target_label)


@dataclass(frozen=True)
class ExporterSpec:
    """An exporter: its namespace, flags, targets and scrape function.

    Args:
        namespace: metric prefix and flag prefix, e.g. `haproxy`.
        description: one line, for `--help` and the landing page.
        default_listen: default `--web.listen-address`, e.g. `127.0.0.1:9101`.
        scrape: reads one target and returns its families; may raise (see README).
        targets_from_flags: the single target(s) the exporter's own flags describe ([] if none).
        add_flags: adds the exporter's own flags to the parser.
        options_from_flags: exporter options from flags (config keys override them).
        check_target: validates a target at start; raises `ConfigError`.
        collector_factory: builds the collector from `(namespace, targets, scrape,
            target_label)`; the framework's `Collector` by default (a subclass fits). Called
            after logging is set up; what it acquires, the collector's `close()` releases.
    """

    namespace: str
    description: str
    default_listen: str
    scrape: Scrape
    targets_from_flags: Callable[[argparse.Namespace], list[Target]]
    add_flags: Callable[[argparse.ArgumentParser], None] = _no_flags
    options_from_flags: Callable[[argparse.Namespace], dict[str, Any]] = _no_options
    check_target: Callable[[Target], None] = _accept
    collector_factory: CollectorFactory = plain_collector
