"""Paths of the recorded HAProxy answers (tests/fixtures/haproxy/<version>/)."""

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "haproxy"
VERSIONS = ("1.8", "2.0", "2.4", "2.6")


def read(version: str, name: str) -> str:
    """The text of one recorded answer."""
    return (FIXTURES / version / name).read_text()
