"""SLO specs: Sloth `prometheus/v1` and OpenSLO v1 documents loaded into typed `SLOSpec`s."""

from sloapi.specs.loader import load_dir, load_file
from sloapi.specs.model import AlertSpec, EventsSLI, RawSLI, SLOSpec, Window, parse_window

__all__ = [
    "AlertSpec",
    "EventsSLI",
    "RawSLI",
    "SLOSpec",
    "Window",
    "load_dir",
    "load_file",
    "parse_window",
]
