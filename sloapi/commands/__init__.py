"""The `sloapi` subcommands (`check`, `rules`, `convert`, `explain`, `backtest`, `report`, `serve`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_out_option(parser: argparse.ArgumentParser) -> None:
    """`--out FILE`: where `write_out` writes instead of stdout."""
    parser.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")


def write_out(text: str, out: str | None) -> int:
    """Write `text` to the file `out` names, or to stdout; exit status 0."""
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
