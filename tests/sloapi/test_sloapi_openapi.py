"""`/openapi.json` describes every answer: a schema for each route, every promised field in it."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from sloapi.config import Settings
from sloapi.main import create_app

REPO = Path(__file__).resolve().parents[2]


def _schema() -> dict:
    settings = Settings(slos_dir=REPO / "slos", prometheus_url="http://127.0.0.1:9")
    # the schema needs no lifespan: no Prometheus, no database
    return TestClient(create_app(settings)).app.openapi()  # type: ignore[attr-defined]


def test_every_route_documents_its_answer() -> None:
    spec = _schema()
    undocumented = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            ok = next(code for code in operation["responses"] if code.startswith("2"))
            content = operation["responses"][ok].get("content", {})
            if not any(media.get("schema") for media in content.values()):
                undocumented.append(f"{method.upper()} {path}")
    assert undocumented == []
    assert len(spec["paths"]) == 18
    gate = spec["paths"]["/api/v1/gate"]["post"]["responses"]
    assert gate["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/GateAnswer")


def test_status_schema_names_every_field() -> None:
    schemas = _schema()["components"]["schemas"]
    assert set(schemas["SLOStatus"]["properties"]) == {
        "id", "service", "name", "objective", "objective_percent", "window", "window_start",
        "window_end", "at", "sli", "error_budget", "burn_rates", "time_to_exhaustion_seconds",
        "projected_sli", "labels", "data", "source", "verdict", "excluded",
    }  # fmt: skip
    assert set(schemas["DataQuality"]["properties"]) == {
        "coverage_ratio", "status", "missing_steps", "no_traffic",
    }  # fmt: skip
    assert "allowed_events" in schemas["WindowBudget"]["properties"]
    assert set(schemas["SLOReport"]["properties"]) >= {"verdict", "met", "sli", "daily", "incidents"}
    assert set(schemas["Summary"]["properties"]) >= {"met", "missed", "no_data", "no_traffic"}
