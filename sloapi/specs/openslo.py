"""OpenSLO `kind: SLO` documents: `openslo/v1` (`ratioMetric`) and `openslo/v1alpha` as Sloth reads it.

v1: one SLO per document, id `<spec.service>-<metadata.name>`, `objectives[0].target` a ratio.
v1alpha: one SLO per objective (Sloth's mapping), id `<spec.service>-<metadata.name>-<index>`,
`ratioMetrics.good` / `total` PromQL with `{{.window}}`; Sloth generates no alerts for them, and
neither do we (page and ticket disabled).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import InvalidOperation
from typing import Any

from sloapi.engine.objective import Objective
from sloapi.errors import WindowError
from sloapi.specs.fields import SELECTOR, Issues, join
from sloapi.specs.model import WINDOW_PLACEHOLDER, AlertSpec, EventsSLI, SLOSpec, Window, parse_window
from sloapi.specs.sloth import default_alert_name

OPENSLO_VERSION = "openslo/v1"
OPENSLO_V1ALPHA = "openslo/v1alpha"
_TOP = ("apiVersion", "kind", "metadata", "spec")
_V1_SPEC = (
    "description", "service", "indicator", "indicatorRef", "timeWindow", "budgetingMethod",
    "objectives", "alertPolicies",
)  # fmt: skip
_V1ALPHA_SPEC = ("description", "service", "indicator", "timeWindows", "budgetingMethod", "objectives")
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}
_CALENDAR = {
    ("month", 1): "month",
    ("week", 1): "week",
    ("1m", 1): "month",
    ("1w", 1): "week",
    ("7d", 1): "week",
}


def _ratio_objective(
    node: Mapping[str, Any], key: str, issues: Issues, slo: str, field: str
) -> Objective | None:
    value = node.get(key)
    if value is None:
        issues.missing(node, key, slo, field.rsplit(".", 1)[0])
        return None
    try:
        return Objective.from_ratio(value)
    except (ValueError, InvalidOperation):
        issues.add(node, key, slo, field, f"{value!r} is outside (0, 1)")
        return None


def _v1_query(ratio: Mapping[str, Any], what: str, counter: bool, issues: Issues, slo: str) -> str | None:
    prefix = join("indicator.spec.ratioMetric", what)
    block = issues.mapping(ratio, what, slo, "indicator.spec.ratioMetric", required=True)
    source = issues.mapping(block or {}, "metricSource", slo, prefix, required=block is not None)
    query_spec = issues.mapping(
        source or {}, "spec", slo, join(prefix, "metricSource"), required=source is not None
    )
    query = issues.text(
        query_spec or {}, "query", slo, join(prefix, "metricSource.spec"), required=bool(query_spec)
    )
    if source is None or query_spec is None or query is None:
        return None
    kind = str(source.get("type", "Prometheus"))
    if kind.lower() != "prometheus":
        issues.add(
            source, "type", slo, join(prefix, "metricSource.type"), f"{kind!r} is not supported (Prometheus)"
        )
        return None
    if WINDOW_PLACEHOLDER in query:
        return query
    if counter and SELECTOR.match(query):
        return f"sum(rate({query}[{WINDOW_PLACEHOLDER}]))"
    reason = f"needs {WINDOW_PLACEHOLDER} (or counter: true and a selector)"
    issues.add(query_spec, "query", slo, join(prefix, "metricSource.spec.query"), reason)
    return None


def _zone(window: Mapping[str, Any]) -> str:
    calendar = window.get("calendar")
    return str(calendar.get("timeZone", "UTC")) if isinstance(calendar, Mapping) else "UTC"


def _v1_window(spec: Mapping[str, Any], issues: Issues, slo: str) -> Window:
    windows = spec.get("timeWindow") or [{"duration": "30d", "isRolling": True}]
    window = windows[0] if isinstance(windows, list) and windows and isinstance(windows[0], Mapping) else {}
    duration = str(window.get("duration", "30d"))
    if window.get("isRolling", not window.get("calendar")):
        try:
            return parse_window(duration)
        except WindowError as exc:
            issues.add(window, "duration", slo, "timeWindow[0].duration", f": {exc}")
            return Window()
    zone = _zone(window)
    kind = _CALENDAR.get((duration.lower(), 1))
    if kind is None:
        issues.add(
            window, "duration", slo, "timeWindow[0].duration", f"{duration!r}: calendar windows are 1M or 1w"
        )
        return Window()
    return _calendar(kind, zone, window, issues, slo, "timeWindow[0].calendar.timeZone")


def _calendar(
    kind: str, zone: str, window: Mapping[str, Any], issues: Issues, slo: str, field: str
) -> Window:
    try:
        return parse_window(f"{kind}@{zone}")
    except WindowError as exc:
        issues.add(window, "calendar", slo, field, f": {exc}")
        return Window()


def _v1_sli(spec: Mapping[str, Any], issues: Issues, slo: str) -> EventsSLI | None:
    if "indicatorRef" in spec:
        issues.add(spec, "indicatorRef", slo, "indicatorRef", "is not supported (inline the indicator)")
        return None
    indicator = issues.mapping(spec, "indicator", slo, "", required=True) or {}
    inner = issues.mapping(indicator, "spec", slo, "indicator", required=bool(indicator)) or {}
    ratio = issues.mapping(inner, "ratioMetric", slo, "indicator.spec")
    if ratio is None:
        if inner:
            issues.add(inner, None, slo, "indicator.spec", "needs ratioMetric (the only indicator supported)")
        return None
    issues.unknown(
        ratio, ("counter", "good", "bad", "total", "rawType", "raw"), slo, "indicator.spec.ratioMetric"
    )
    counter = bool(ratio.get("counter", True))
    total = _v1_query(ratio, "total", counter, issues, slo)
    if "bad" in ratio:
        bad = _v1_query(ratio, "bad", counter, issues, slo)
        return EventsSLI(total_query=total, error_query=bad) if total and bad else None
    if "good" in ratio:
        good = _v1_query(ratio, "good", counter, issues, slo)
        return EventsSLI(total_query=total, good_query=good) if total and good else None
    issues.add(ratio, None, slo, "indicator.spec.ratioMetric", "needs good or bad")
    return None


def _head(
    doc: Mapping[str, Any], allowed: tuple[str, ...], issues: Issues
) -> tuple[str, str, Mapping[str, Any]]:
    issues.unknown(doc, _TOP, None, "")
    meta = issues.mapping(doc, "metadata", None, "", required=True) or {}
    name = issues.name(meta, "name", None, "metadata") if meta else None
    spec = issues.mapping(doc, "spec", None, "", required=True) or {}
    issues.unknown(spec, allowed, None, "spec")
    service = issues.name(spec, "service", None, "spec") if spec else None
    return service or "", name or "", spec


def parse_openslo(doc: Mapping[str, Any], issues: Issues) -> list[SLOSpec]:
    """The SLO of one OpenSLO v1 `kind: SLO` document (problems go to `issues`)."""
    before = len(issues.errors)
    service, name, spec = _head(doc, _V1_SPEC, issues)
    if not (service and name):
        return []
    slo_id = f"{service}-{name}"
    sli = _v1_sli(spec, issues, slo_id)
    objectives = spec.get("objectives")
    objective = None
    if not isinstance(objectives, list) or not objectives or not isinstance(objectives[0], Mapping):
        issues.add(spec, "objectives", slo_id, "objectives", "must be a non-empty list")
    else:
        objective = _ratio_objective(objectives[0], "target", issues, slo_id, "objectives[0].target")
    window = _v1_window(spec, issues, slo_id)
    labels = issues.str_map(doc["metadata"], "labels", slo_id, "metadata")
    if sli is None or objective is None or len(issues.errors) != before:
        return []
    return [
        SLOSpec(
            id=slo_id,
            service=service,
            name=name,
            objective=objective,
            sli=sli,
            window=window,
            labels=labels,
            description=str(spec.get("description") or ""),
            alerting=AlertSpec(default_alert_name(slo_id)),
            source=issues.file,
        )
    ]


def _v1alpha_window(spec: Mapping[str, Any], issues: Issues, slo: str) -> Window:
    windows = spec.get("timeWindows")
    if windows is None:
        return Window()
    if not isinstance(windows, list) or len(windows) != 1 or not isinstance(windows[0], Mapping):
        issues.add(spec, "timeWindows", slo, "timeWindows", "must hold exactly one window")
        return Window()
    window = windows[0]
    issues.unknown(window, ("unit", "count", "isRolling", "calendar"), slo, "timeWindows[0]")
    unit = str(window.get("unit", "Day")).lower()
    count = window.get("count", 30)
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        issues.add(window, "count", slo, "timeWindows[0].count", f"{count!r} is not a positive integer")
        return Window()
    if window.get("isRolling", True) is False:
        zone = _zone(window)
        kind = _CALENDAR.get((unit, count))
        if kind is None:
            issues.add(window, "unit", slo, "timeWindows[0]", "calendar windows are 1 Month or 1 Week")
            return Window()
        return _calendar(kind, zone, window, issues, slo, "timeWindows[0].calendar.timeZone")
    if unit not in _UNITS:
        issues.add(window, "unit", slo, "timeWindows[0].unit", f"{unit!r}: rolling units are Second to Week")
        return Window()
    return Window("rolling", count * _UNITS[unit])


def _v1alpha_slo(
    index: int, objective: object, spec: Mapping[str, Any], ids: tuple[str, str], issues: Issues
) -> SLOSpec | None:
    service, name = ids
    slo_id = f"{service}-{name}-{index}"
    prefix = f"objectives[{index}]"
    if not isinstance(objective, Mapping):
        issues.add(spec, "objectives", slo_id, prefix, "must be a mapping")
        return None
    before = len(issues.errors)
    allowed = ("displayName", "op", "value", "target", "timeSliceTarget", "ratioMetrics")
    issues.unknown(objective, allowed, slo_id, prefix)
    target = _ratio_objective(objective, "target", issues, slo_id, join(prefix, "target"))
    ratio = issues.mapping(objective, "ratioMetrics", slo_id, prefix, required=True) or {}
    issues.unknown(ratio, ("incremental", "good", "total"), slo_id, join(prefix, "ratioMetrics"))
    queries = {}
    for what in ("good", "total"):
        where = join(prefix, f"ratioMetrics.{what}")
        block = issues.mapping(ratio, what, slo_id, join(prefix, "ratioMetrics"), required=bool(ratio)) or {}
        issues.unknown(block, ("source", "queryType", "query", "metadata"), slo_id, where)
        if block and (block.get("source"), block.get("queryType")) not in (
            ("prometheus", "promql"),
            ("sloth", "promql"),
        ):
            issues.add(block, "source", slo_id, where, "needs source: prometheus and queryType: promql")
        queries[what] = issues.windowed_query(block, "query", slo_id, where) if block else None
    window = _v1alpha_window(spec, issues, slo_id)
    if target is None or not queries["good"] or not queries["total"] or len(issues.errors) != before:
        return None
    return SLOSpec(
        id=slo_id,
        service=service,
        name=f"{name}-{index}",
        objective=target,
        sli=EventsSLI(total_query=queries["total"], good_query=queries["good"]),
        window=window,
        description=str(spec.get("description") or ""),
        alerting=AlertSpec(default_alert_name(slo_id), page_disabled=True, ticket_disabled=True),
        source=issues.file,
    )


def parse_openslo_v1alpha(doc: Mapping[str, Any], issues: Issues) -> list[SLOSpec]:
    """One SLO per objective of an OpenSLO v1alpha `kind: SLO` document, as Sloth maps it."""
    service, name, spec = _head(doc, _V1ALPHA_SPEC, issues)
    objectives = spec.get("objectives")
    if not (service and name):
        return []
    if not isinstance(objectives, list) or not objectives:
        issues.add(spec, "objectives", f"{service}-{name}", "objectives", "must be a non-empty list")
        return []
    specs = [_v1alpha_slo(i, o, spec, (service, name), issues) for i, o in enumerate(objectives)]
    return [s for s in specs if s is not None]
