"""What an exporter plugs into the framework."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from exporters.core.config import Target
from exporters.core.metrics import Family

Scrape = Callable[[Target], Iterable[Family]]


def _no_flags(parser: argparse.ArgumentParser) -> None:
    """Add nothing."""


def _no_options(args: argparse.Namespace) -> dict[str, Any]:
    return {}


def _accept(target: Target) -> None:
    """Accept every target."""


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
    """

    namespace: str
    description: str
    default_listen: str
    scrape: Scrape
    targets_from_flags: Callable[[argparse.Namespace], list[Target]]
    add_flags: Callable[[argparse.ArgumentParser], None] = _no_flags
    options_from_flags: Callable[[argparse.Namespace], dict[str, Any]] = _no_options
    check_target: Callable[[Target], None] = _accept
