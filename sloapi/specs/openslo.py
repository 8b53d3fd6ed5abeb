"""OpenSLO v1 `SLO` documents with a Prometheus `ratioMetric` (good or bad over total)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sloapi.engine.durations import parse_duration
from sloapi.engine.objective import Objective
from sloapi.errors import SpecError, WindowError
from sloapi.specs.model import WINDOW_PLACEHOLDER, EventsSLI, SLOSpec, Window

OPENSLO_VERSION = "openslo/v1"
_SELECTOR = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})?$", re.DOTALL)


def _metric_query(block: object, what: str, counter: bool, file: str, slo: str) -> str:
    try:
        source = block["metricSource"]  # type: ignore[index]
        query = str(source["spec"]["query"]).strip()
        kind = str(source.get("type", "Prometheus"))
    except (KeyError, TypeError):
        reason = f"ratioMetric.{what}.metricSource.spec.query is missing"
        raise SpecError(file, slo, reason) from None
    if kind.lower() != "prometheus":
        raise SpecError(file, slo, f"ratioMetric.{what}: metric source {kind!r} is not supported")
    if WINDOW_PLACEHOLDER in query:
        return query
    if counter and _SELECTOR.match(query):
        return f"sum(rate({query}[{WINDOW_PLACEHOLDER}]))"
    raise SpecError(
        file,
        slo,
        f"ratioMetric.{what}: query needs {WINDOW_PLACEHOLDER} (or counter: true and a selector)",
    )


def _window(spec: Mapping[str, Any], file: str, slo: str) -> Window:
    windows = spec.get("timeWindow") or [{"duration": "30d", "isRolling": True}]
    window = windows[0] if isinstance(windows, list) and windows else {}
    duration = str(window.get("duration", "30d"))
    if window.get("isRolling", not window.get("calendar")):
        try:
            return Window("rolling", parse_duration(duration))
        except WindowError as exc:
            raise SpecError(file, slo, f"timeWindow: {exc}") from None
    zone = str((window.get("calendar") or {}).get("timeZone", "UTC"))
    kinds = {"1M": "month", "1w": "week", "7d": "week"}
    if duration not in kinds:
        raise SpecError(file, slo, f"timeWindow: calendar duration {duration!r} (use 1M or 1w)")
    return Window(kinds[duration], 0, zone)  # type: ignore[arg-type]


def parse_openslo(doc: Mapping[str, Any], file: str) -> list[SLOSpec]:
    """Turn one OpenSLO v1 `kind: SLO` document into an SLOSpec.

    Raises:
        SpecError: naming the file, the SLO and the reason.
    """
    meta = doc.get("metadata") or {}
    name = str(meta.get("name") or "")
    spec = doc.get("spec") or {}
    if not name or not isinstance(spec, Mapping):
        raise SpecError(file, None, "metadata.name and spec are required")
    service = str(spec.get("service") or "")
    if not service:
        raise SpecError(file, name, "spec.service is missing")
    slo_id = f"{service}-{name}"
    indicator = (spec.get("indicator") or {}).get("spec") or {}
    ratio = indicator.get("ratioMetric")
    if not isinstance(ratio, Mapping):
        raise SpecError(file, slo_id, "only indicator.spec.ratioMetric is supported")
    counter = bool(ratio.get("counter", True))
    total = _metric_query(ratio.get("total"), "total", counter, file, slo_id)
    if "bad" in ratio:
        sli = EventsSLI(
            total_query=total,
            error_query=_metric_query(ratio["bad"], "bad", counter, file, slo_id),
        )
    elif "good" in ratio:
        sli = EventsSLI(
            total_query=total,
            good_query=_metric_query(ratio["good"], "good", counter, file, slo_id),
        )
    else:
        raise SpecError(file, slo_id, "ratioMetric needs good or bad")
    objectives = spec.get("objectives") or []
    if not objectives or "target" not in objectives[0]:
        raise SpecError(file, slo_id, "objectives[0].target is missing")
    try:
        objective = Objective.from_ratio(objectives[0]["target"])
    except (ValueError, TypeError, ArithmeticError):
        raise SpecError(file, slo_id, f"objective {objectives[0]['target']!r} is outside (0, 1)") from None
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    return [
        SLOSpec(
            id=slo_id,
            service=service,
            name=name,
            objective=objective,
            sli=sli,
            window=_window(spec, file, slo_id),
            labels=labels,
            description=str(spec.get("description") or ""),
            source=file,
        )
    ]
