"""`sloapi convert PATH --to FORMAT`: write specs as Sloth, Pyrra or OpenSLO documents.

PATH is a spec file or directory in any accepted format. `--to sloth` (default) writes Sloth
`prometheus/v1`, `sloth-k8s` `PrometheusServiceLevel` resources, `pyrra` `ServiceLevelObjective`s,
`openslo` OpenSLO v1 `SLO`s. Exit 2 naming each SLO the format cannot express (nothing written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sloapi.commands import add_out_option, write_out
from sloapi.config import Settings
from sloapi.errors import InvalidSpecsError, SpecError
from sloapi.specs import SLOSpec, read_dir, read_file
from sloapi.specs.convert import WRITERS, convert


def _read(path: Path) -> tuple[list[SLOSpec], list[SpecError]]:
    return read_dir(path) if path.is_dir() else read_file(path)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print (or write `--out`) the converted specs; exit 2 on invalid or inexpressible specs."""
    specs, errors = _read(Path(args.path) if args.path else settings.slos_dir)
    text = ""
    if not errors:
        try:
            text = convert(specs, args.to)
        except InvalidSpecsError as exc:
            errors = exc.errors
    if errors:
        for error in errors:
            print(f"sloapi convert: {error}", file=sys.stderr)
        return 2
    return write_out(text, args.out)


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add `convert`."""
    parser = subparsers.add_parser(
        "convert", parents=[common], help="write specs as Sloth, Pyrra or OpenSLO documents"
    )
    parser.add_argument("path", nargs="?", help="spec file or directory (default: --slos / settings)")
    parser.add_argument(
        "--to", choices=sorted(WRITERS), default="sloth", help="output format (default sloth)"
    )
    add_out_option(parser)
    parser.set_defaults(func=run)
