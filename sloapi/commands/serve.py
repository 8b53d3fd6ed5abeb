"""`sloapi serve`: run the API with uvicorn."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sloapi.config import Settings
from sloapi.errors import SpecError
from sloapi.specs import load_dir


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Validate the specs, then serve until interrupted (exit 2 on an invalid spec)."""
    import uvicorn

    from sloapi.main import create_app

    try:
        load_dir(settings.slos_dir)
        settings.token()
    except SpecError as exc:
        print(f"sloapi serve: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"sloapi serve: invalid setting {exc}", file=sys.stderr)
        return 2
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
    )
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add `serve`."""
    parser = subparsers.add_parser("serve", parents=[common], help="run the HTTP API")
    parser.add_argument("--host", help="bind address (SLOAPI_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (SLOAPI_PORT, default 8000)")
    parser.set_defaults(func=run)
