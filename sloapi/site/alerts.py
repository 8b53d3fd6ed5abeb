"""Alerts firing now for one SLO, from Alertmanager's v2 API (bounded in time and size).

Only the configured Alertmanager URL is contacted; the request carries a label matcher built
from the SLO id (quoted), never an address chosen by a request.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from sloapi.prometheus.access import mask_http_url

log = logging.getLogger(__name__)
MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class FiringAlerts:
    """What Alertmanager said: the alerts, or why they are not known.

    Attributes:
        alerts: Active alerts (each Alertmanager's JSON object).
        note: Why there is no answer (not configured, unreachable, bad answer), else None.
    """

    alerts: list[dict[str, Any]] = field(default_factory=list)
    note: str | None = None


def matcher(slo_id: str) -> str:
    """The label matcher of the SLO's generated alerts, e.g. ``sloth_id="api-availability"``."""
    return 'sloth_id="' + slo_id.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def _get(url: str, params: dict[str, Any], timeout: float) -> bytes:
    async with (
        httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client,
        client.stream("GET", url, params=params) as response,
    ):
        response.raise_for_status()
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_BYTES:
                raise ValueError("answer larger than 1 MB")
        return bytes(body)


async def firing_alerts(base_url: str | None, slo_id: str, timeout: float) -> FiringAlerts:
    """The SLO's active, unsilenced alerts; a note instead when Alertmanager cannot tell."""
    if not base_url:
        return FiringAlerts(note="No Alertmanager configured (SLOAPI_ALERTMANAGER_URL).")
    params = {"active": "true", "silenced": "false", "inhibited": "false", "filter": matcher(slo_id)}
    try:
        body = await asyncio.wait_for(_get(f"{base_url}/api/v2/alerts", params, timeout), timeout)
        alerts = json.loads(body)
        if not isinstance(alerts, list):
            raise ValueError("not a list")
    except (httpx.HTTPError, TimeoutError, ValueError) as exc:
        log.warning("alertmanager %s: %s", mask_http_url(base_url), exc or type(exc).__name__)
        return FiringAlerts(
            note=f"Alertmanager did not answer in time or answered badly ({type(exc).__name__})."
        )
    found = [a for a in alerts if isinstance(a, dict) and isinstance(a.get("labels") or {}, dict)]
    found.sort(key=lambda a: (str((a.get("labels") or {}).get("severity", "")), str(a.get("startsAt", ""))))
    return FiringAlerts(alerts=found)
