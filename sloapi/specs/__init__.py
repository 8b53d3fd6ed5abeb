"""SLO specs: Sloth, OpenSLO and Pyrra documents loaded into typed `SLOSpec`s."""

from sloapi.specs.loader import load_dir, load_file, read_dir, read_file, read_text
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
    "read_dir",
    "read_file",
    "read_text",
]
