"""Start-up's objects stay out of the cyclic collector's passes while the app runs."""

from __future__ import annotations

import gc
from pathlib import Path

from fastapi.testclient import TestClient

from sloapi.config import Settings
from sloapi.main import create_app

REPO = Path(__file__).resolve().parents[2]


def test_start_up_objects_are_frozen_until_shutdown(tmp_path: Path) -> None:
    settings = Settings(
        slos_dir=REPO / "slos",
        prometheus_url="http://127.0.0.1:9",
        database_url=f"sqlite:///{tmp_path / 'db'}",
    )
    gc.unfreeze()
    with TestClient(create_app(settings)) as client:
        frozen = gc.get_freeze_count()
        assert frozen > 50_000  # modules, specs and the app, all built before the first request
        assert client.get("/healthz").status_code in (200, 503)
    assert gc.get_freeze_count() == 0
