"""The `sloapi` console script: one argparse parser, subcommands registered by modules.

Each module in `SUBCOMMAND_MODULES` has `register(subparsers, common)`: it adds its parser
(with `parents=[common]` for `--slos` / `--prometheus-url`) and `set_defaults(func=...)`, a
callable `(args, settings) -> int` exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from sloapi.commands import check, convert, report, rules, serve
from sloapi.config import Settings

SUBCOMMAND_MODULES = (check, convert, rules, serve, report)


def common_parser() -> argparse.ArgumentParser:
    """Options every subcommand takes (they override the `SLOAPI_*` settings)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--slos", metavar="DIR", help="spec directory (SLOAPI_SLOS_DIR)")
    common.add_argument("--prometheus-url", metavar="URL", help="Prometheus base URL (SLOAPI_PROMETHEUS_URL)")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="sloapi", description="nines SLO service")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = common_parser()
    for module in SUBCOMMAND_MODULES:
        module.register(subparsers, common)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from the environment with the command line's overrides."""
    overrides = {}
    if getattr(args, "slos", None):
        overrides["slos_dir"] = args.slos
    if getattr(args, "prometheus_url", None):
        overrides["prometheus_url"] = args.prometheus_url
    for key in ("host", "port"):
        if getattr(args, key, None) is not None:
            overrides[key] = getattr(args, key)
    return Settings(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (2 on invalid input or settings)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"])
            print(f"sloapi: invalid setting SLOAPI_{field.upper()}: {error['msg']}", file=sys.stderr)
        return 2
    return int(args.func(args, settings))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
