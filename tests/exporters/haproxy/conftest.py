"""A throwaway real HAProxy for each test module that asks for one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from haproxy_live import HAProxy, make_haproxy


@pytest.fixture(scope="module")
def haproxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HAProxy]:
    """A running HAProxy on free ports, stopped after the module."""
    h = make_haproxy(tmp_path_factory.mktemp("haproxy"))
    try:
        h.start()
        yield h
    finally:
        h.stop()
