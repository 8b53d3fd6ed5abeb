"""The stack's own SLO service (started by the `stack` fixture) on the stack's real metrics."""

from __future__ import annotations

import time

import httpx
import pytest


@pytest.mark.stack
def test_the_stacks_sloapi_serves_the_shipped_slos(stack) -> None:  # type: ignore[no-untyped-def]
    base = f"http://{stack.addr('sloapi')}"
    ready = httpx.get(f"{base}/readyz", timeout=60)
    assert ready.status_code == 200, ready.text
    body = httpx.get(f"{base}/api/v1/slos", timeout=120).json()
    assert body["count"] == 6
    by_id = {s["id"]: s for s in body["slos"]}
    assert by_id["web-availability"]["labels"]["component"] == "haproxy"
    token = stack.secret("sloapi_token")
    denied = httpx.post(f"{base}/api/v1/reload", timeout=60)
    assert denied.status_code == 401
    reloaded = httpx.post(f"{base}/api/v1/reload", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert reloaded.json() == {"slos": 6}


@pytest.mark.stack
def test_shipped_slis_match_the_stacks_metrics(stack) -> None:  # type: ignore[no-untyped-def]
    base = f"http://{stack.addr('sloapi')}"
    found: dict[str, float | None] = {}
    deadline = time.monotonic() + 180
    ids = (
        "postgresql-primary-availability",
        "pgbouncer-availability",
        "etcd-availability",
        "web-availability",
        "api-availability",
        "app-request-latency",
    )
    for path in ("/", "/api/orders", "/db"):  # the latency SLO's series appear with the first request
        httpx.get(f"http://{stack.addr('app-1')}{path}", timeout=30)
    while time.monotonic() < deadline and len(found) < len(ids):
        for slo_id in ids:
            body = httpx.get(
                f"{base}/api/v1/slos/{slo_id}/status", params={"window": "5m"}, timeout=60
            ).json()
            # event SLIs may see no traffic (sli null) but their series must exist
            if body["data"]["status"] != "no_data":
                found[slo_id] = body["sli"]
        time.sleep(2)
    assert set(found) == set(ids), found
    assert all(sli is None or 0.0 <= sli <= 1.0 for sli in found.values())
    assert all(found[i] is not None for i in ids[:3])
    assert found["app-request-latency"] is not None
