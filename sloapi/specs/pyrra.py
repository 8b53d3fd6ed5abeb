"""Pyrra `ServiceLevelObjective` resources (`apiVersion: pyrra.dev/v1alpha1`).

The id is `<metadata.namespace>-<metadata.name>` (namespace `default` when absent): the service is
the namespace, the SLO's name is the resource's name. Every indicator becomes good/bad/total
PromQL the engine already understands:

- `ratio`: errors and total counters, `sum(rate(<selector>[{{.window}}]))` each.
- `latency`: success = a histogram bucket (`le` matcher), total = its `_count`; error = total - good.
- `latencyNative`: a native histogram; good = `histogram_fraction(0, latency, ...) * histogram_count(...)`.
- `bool_gauge` (`boolGauge` accepted): a 0/1 gauge; a raw error ratio, the share of samples at 0.

`grouping` becomes `sum by (<labels>)`: generated rules and alerts are per group, status and
reports add the groups up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sloapi.engine.durations import parse_duration
from sloapi.engine.objective import Objective
from sloapi.errors import WindowError
from sloapi.specs.fields import Issues, join
from sloapi.specs.model import WINDOW_PLACEHOLDER as W
from sloapi.specs.model import AlertSpec, EventsSLI, RawSLI, SLOSpec, Window

PYRRA_VERSION = "pyrra.dev/v1alpha1"
PYRRA_KIND = "ServiceLevelObjective"
LABEL_PREFIX = "pyrra.dev/"
DEFAULT_NAMESPACE = "default"
DEFAULT_ALERT = "ErrorBudgetBurn"
PAGE_LABELS = {"severity": "critical"}  # Pyrra's own labels on its fast and slow burn alerts
TICKET_LABELS = {"severity": "warning"}
INDICATORS = ("ratio", "latency", "latencyNative", "bool_gauge", "boolGauge")
_SPEC = ("description", "target", "window", "indicator", "alerting", "partial_response_strategy")
_LE = re.compile(r"""\ble\s*=\s*"([^"]*)\"""")


def _sum(grouping: tuple[str, ...]) -> str:
    return f"sum by ({', '.join(grouping)})" if grouping else "sum"


def rate(selector: str, grouping: tuple[str, ...] = ()) -> str:
    """`sum(rate(<selector>[{{.window}}]))`, by the grouping labels when there are some."""
    return f"{_sum(grouping)}(rate({selector}[{W}]))"


def native_total(selector: str, latency: float, grouping: tuple[str, ...] = ()) -> tuple[str, str]:
    """(good, total) queries of a native histogram: the share at or under `latency` seconds."""
    hist = f"{_sum(grouping)}(rate({selector}[{W}]))"
    total = f"histogram_count({hist})"
    return f"histogram_fraction(0, {latency:g}, {hist}) * {total}", total


def bool_gauge_ratio(selector: str, grouping: tuple[str, ...] = ()) -> str:
    """Raw error ratio of a 0/1 gauge: 1 - (samples at 1 / samples)."""
    agg = _sum(grouping)
    return f"1 - ({agg}(sum_over_time({selector}[{W}])) / {agg}(count_over_time({selector}[{W}])))"


def _grouping(block: Mapping[str, Any], issues: Issues, slo: str, prefix: str) -> tuple[str, ...]:
    value = block.get("grouping")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(v, str) and re.fullmatch(r"[a-zA-Z_]\w*", v) for v in value
    ):
        issues.add(block, "grouping", slo, join(prefix, "grouping"), "must be a list of label names")
        return ()
    return tuple(value)


def _metric(block: Mapping[str, Any], key: str, issues: Issues, slo: str, prefix: str) -> str | None:
    inner = issues.mapping(block, key, slo, prefix, required=True)
    if inner is None:
        return None
    issues.unknown(inner, ("metric",), slo, join(prefix, key))
    return issues.selector(inner, "metric", slo, join(prefix, key))


def _ratio(block: Mapping[str, Any], issues: Issues, slo: str, prefix: str) -> EventsSLI | None:
    issues.unknown(block, ("errors", "total", "grouping"), slo, prefix)
    group = _grouping(block, issues, slo, prefix)
    errors = _metric(block, "errors", issues, slo, prefix)
    total = _metric(block, "total", issues, slo, prefix)
    return EventsSLI(rate(total, group), error_query=rate(errors, group)) if errors and total else None


def _latency(block: Mapping[str, Any], issues: Issues, slo: str, prefix: str) -> EventsSLI | None:
    issues.unknown(block, ("success", "total", "grouping"), slo, prefix)
    group = _grouping(block, issues, slo, prefix)
    success = _metric(block, "success", issues, slo, prefix)
    total = _metric(block, "total", issues, slo, prefix)
    if success is not None:
        le = _LE.search(success)
        if le is None or not _is_float(le.group(1)):
            field = join(prefix, "success.metric")
            issues.add(block["success"], "metric", slo, field, 'needs an le="<seconds>" matcher')
            return None
    return EventsSLI(rate(total, group), good_query=rate(success, group)) if success and total else None


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _native(block: Mapping[str, Any], issues: Issues, slo: str, prefix: str) -> EventsSLI | None:
    issues.unknown(block, ("total", "latency", "grouping"), slo, prefix)
    group = _grouping(block, issues, slo, prefix)
    total = _metric(block, "total", issues, slo, prefix)
    latency = issues.text(block, "latency", slo, prefix)
    seconds = None
    if latency is not None:
        try:
            seconds = _latency_seconds(latency)
        except WindowError as exc:
            issues.add(block, "latency", slo, join(prefix, "latency"), f": {exc}")
    if total is None or seconds is None:
        return None
    good, total_query = native_total(total, seconds, group)
    return EventsSLI(total_query, good_query=good)


def _latency_seconds(text: str) -> float:
    if text.endswith("ms") and text[:-2].isdigit():
        return int(text[:-2]) / 1000
    return float(parse_duration(text))


def _bool_gauge(block: Mapping[str, Any], issues: Issues, slo: str, prefix: str) -> RawSLI | None:
    issues.unknown(block, ("metric", "grouping"), slo, prefix)
    group = _grouping(block, issues, slo, prefix)
    metric = issues.selector(block, "metric", slo, prefix)
    return RawSLI(bool_gauge_ratio(metric, group)) if metric else None


def _indicator(spec: Mapping[str, Any], issues: Issues, slo: str) -> EventsSLI | RawSLI | None:
    indicator = issues.mapping(spec, "indicator", slo, "spec", required=True)
    if indicator is None:
        return None
    issues.unknown(indicator, INDICATORS, slo, "spec.indicator")
    kinds = [k for k in INDICATORS if k in indicator]
    if len(kinds) != 1:
        reason = "needs exactly one of ratio, latency, latencyNative, bool_gauge"
        issues.add(spec, "indicator", slo, "spec.indicator", reason)
        return None
    prefix = join("spec.indicator", kinds[0])
    block = issues.mapping(indicator, kinds[0], slo, "spec.indicator", required=True)
    if block is None:
        return None
    parser = {"ratio": _ratio, "latency": _latency, "latencyNative": _native}.get(kinds[0], _bool_gauge)
    return parser(block, issues, slo, prefix)


def _target(spec: Mapping[str, Any], issues: Issues, slo: str) -> Objective | None:
    value = spec.get("target")
    if value is None:
        issues.missing(spec, "target", slo, "spec")
        return None
    try:
        objective = Objective.from_percent(str(value))
    except ValueError:
        issues.add(spec, "target", slo, "spec.target", f"{value!r} is not a percentage in (0, 100)")
        return None
    if objective.percent < 1:
        issues.add(spec, "target", slo, "spec.target", f"{value!r} is a percentage (0-100), not a ratio")
        return None
    return objective


def _window(spec: Mapping[str, Any], issues: Issues, slo: str) -> Window:
    text = issues.text(spec, "window", slo, "spec")
    if text is None:
        return Window()
    try:
        return Window("rolling", parse_duration(text))
    except WindowError as exc:
        issues.add(spec, "window", slo, "spec.window", f": {exc}")
        return Window()


def _alerting(spec: Mapping[str, Any], issues: Issues, slo: str, name: str) -> AlertSpec:
    block = issues.mapping(spec, "alerting", slo, "spec") or {}
    issues.unknown(block, ("disabled", "burnrates", "absent", "name", "absentName"), slo, "spec.alerting")
    off = block.get("disabled") is True or block.get("burnrates") is False
    alert = issues.text(block, "name", slo, "spec.alerting", required=False) or DEFAULT_ALERT
    return AlertSpec(
        alert,
        labels={"slo": name},
        page_labels=dict(PAGE_LABELS),
        page_disabled=off,
        ticket_labels=dict(TICKET_LABELS),
        ticket_disabled=off,
    )


def parse_pyrra(doc: Mapping[str, Any], issues: Issues) -> list[SLOSpec]:
    """The SLO of one Pyrra `ServiceLevelObjective` (problems go to `issues`)."""
    before = len(issues.errors)
    issues.unknown(doc, ("apiVersion", "kind", "metadata", "spec", "status"), None, "")
    meta = issues.mapping(doc, "metadata", None, "", required=True) or {}
    name = issues.name(meta, "name", None, "metadata") if meta else None
    namespace = (
        issues.name(meta, "namespace", None, "metadata") if meta.get("namespace") else DEFAULT_NAMESPACE
    )
    spec = issues.mapping(doc, "spec", None, "", required=True)
    if spec is None or name is None or namespace is None:
        return []
    slo_id = f"{namespace}-{name}"
    issues.unknown(spec, _SPEC, slo_id, "spec")
    sli = _indicator(spec, issues, slo_id)
    objective = _target(spec, issues, slo_id)
    window = _window(spec, issues, slo_id)
    alerting = _alerting(spec, issues, slo_id, name)
    labels = issues.str_map(meta, "labels", slo_id, "metadata")
    if sli is None or objective is None or len(issues.errors) != before:
        return []
    return [
        SLOSpec(
            id=slo_id,
            service=namespace,
            name=name,
            objective=objective,
            sli=sli,
            window=window,
            labels={k.removeprefix(LABEL_PREFIX): v for k, v in labels.items() if k.startswith(LABEL_PREFIX)},
            description=str(spec.get("description") or ""),
            alerting=alerting,
            source=issues.file,
        )
    ]
