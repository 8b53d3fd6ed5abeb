"""Write `SLOSpec`s back out as Sloth, Pyrra or OpenSLO documents (for `sloapi convert`).

Every accepted spec can be written as Sloth `prometheus/v1` or a `PrometheusServiceLevel`. Pyrra
and OpenSLO v1 hold less; an SLO they cannot express raises `SpecError` naming what is missing:

- Pyrra: queries must be the shapes Pyrra generates (`sum(rate(<selector>[{{.window}}]))`, by
  grouping labels or not; a bucket with `le` over a `_count`; a native histogram; a 0/1 gauge),
  the window rolling; alert labels, annotations, page/ticket split and recipients are lost.
- OpenSLO v1: raw error-ratio SLIs cannot be expressed; alerting and recipients are lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import yaml

from sloapi.engine.durations import format_duration
from sloapi.errors import InvalidSpecsError, SpecError
from sloapi.specs.model import WINDOW_PLACEHOLDER as W
from sloapi.specs.model import AlertSpec, EventsSLI, RawSLI, SLOSpec, Window
from sloapi.specs.pyrra import DEFAULT_ALERT, LABEL_PREFIX, PYRRA_KIND, PYRRA_VERSION
from sloapi.specs.sloth import CAMEL, SLOTH_K8S_KIND, SLOTH_K8S_VERSION, SLOTH_VERSION, SNAKE, Keys

Document = dict[str, Any]
_W = re.escape(W)
_SUM = r"sum(?:\s+by\s*\(([\w\s,]*)\))?\s*"
_RATE = re.compile(rf"^{_SUM}\(\s*rate\((.+)\[{_W}\]\)\s*\)$", re.DOTALL)
_NATIVE = re.compile(
    rf"^histogram_fraction\(0, ([\d.e+-]+), {_SUM}\(rate\((.+)\[{_W}\]\)\)\) \* histogram_count\(.*\)$",
    re.DOTALL,
)
_BOOL = re.compile(rf"^1 - \({_SUM}\(sum_over_time\((.+)\[{_W}\]\)\) / .*count_over_time\(.*\)\)$", re.DOTALL)


def _number(spec: SLOSpec) -> float | int:
    value = spec.objective.percent.normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def _alert_doc(alert: AlertSpec, keys: Keys) -> Document:
    def block(disabled: bool, labels: dict[str, str], annotations: dict[str, str]) -> Document:
        doc: Document = {"disable": True} if disabled else {}
        return {
            **doc,
            **({"labels": labels} if labels else {}),
            **({"annotations": annotations} if annotations else {}),
        }

    doc: Document = {"name": alert.name}
    if alert.labels:
        doc["labels"] = alert.labels
    if alert.annotations:
        doc["annotations"] = alert.annotations
    page = block(alert.page_disabled, alert.page_labels, alert.page_annotations)
    ticket = block(alert.ticket_disabled, alert.ticket_labels, alert.ticket_annotations)
    return {
        **doc,
        **({keys.page_alert: page} if page else {}),
        **({keys.ticket_alert: ticket} if ticket else {}),
    }


def _sloth_slo(spec: SLOSpec, keys: Keys) -> Document:
    queries = spec.queries(W)
    if isinstance(spec.sli, RawSLI):
        sli: Document = {"raw": {keys.error_ratio_query: queries["ratio"]}}
    else:
        sli = {"events": {keys.error_query: queries["error"], keys.total_query: queries["total"]}}
    doc: Document = {"name": spec.name, "objective": _number(spec)}
    if spec.description:
        doc["description"] = spec.description
    if spec.labels:
        doc["labels"] = spec.labels
    doc["sli"] = sli
    if spec.alerting is not None:
        doc["alerting"] = _alert_doc(spec.alerting, keys)
    if spec.window != Window():
        doc["window"] = spec.window.name
    if spec.recipients:
        doc["recipients"] = list(spec.recipients)
    return doc


def _by_service(specs: Iterable[SLOSpec]) -> dict[str, list[SLOSpec]]:
    groups: dict[str, list[SLOSpec]] = {}
    for spec in specs:
        groups.setdefault(spec.service, []).append(spec)
    return groups


def to_sloth(specs: Iterable[SLOSpec]) -> list[Document]:
    """One Sloth `prometheus/v1` document per service."""
    return [
        {"version": SLOTH_VERSION, "service": service, "slos": [_sloth_slo(s, SNAKE) for s in group]}
        for service, group in _by_service(specs).items()
    ]


def to_sloth_k8s(specs: Iterable[SLOSpec]) -> list[Document]:
    """One `PrometheusServiceLevel` resource per service (named after it)."""
    return [
        {
            "apiVersion": SLOTH_K8S_VERSION,
            "kind": SLOTH_K8S_KIND,
            "metadata": {"name": service},
            "spec": {"service": service, "slos": [_sloth_slo(s, CAMEL) for s in group]},
        }
        for service, group in _by_service(specs).items()
    ]


def _grouping(text: str | None) -> list[str]:
    return [g.strip() for g in (text or "").split(",") if g.strip()]


def _rate(query: str | None) -> tuple[str, list[str]] | None:
    match = _RATE.match((query or "").strip())
    return (match.group(2).strip(), _grouping(match.group(1))) if match else None


def _pyrra_indicator(spec: SLOSpec) -> Document:
    """Pyrra's indicator for `spec`, or SpecError saying why there is none."""
    sli = spec.sli
    if isinstance(sli, RawSLI):
        match = _BOOL.match(sli.error_ratio_query.strip())
        if match:
            return {"bool_gauge": {"metric": match.group(2).strip(), **_group_doc(_grouping(match.group(1)))}}
        raise _cannot(spec, "Pyrra", "a raw error ratio is only expressible as a bool_gauge")
    if isinstance(sli, EventsSLI) and sli.good_query is not None:
        native = _NATIVE.match(sli.good_query.strip())
        if native:
            total = {"metric": native.group(3).strip()}
            group = _group_doc(_grouping(native.group(2)))
            return {
                "latencyNative": {
                    "latency": f"{int(float(native.group(1)) * 1000)}ms",
                    "total": total,
                    **group,
                }
            }
    return _pyrra_counters(spec, sli)


def _pyrra_counters(spec: SLOSpec, sli: EventsSLI) -> Document:
    total = _rate(sli.total_query)
    other = _rate(sli.error_query if sli.error_query is not None else sli.good_query)
    if total is None or other is None or total[1] != other[1]:
        raise _cannot(
            spec, "Pyrra", "queries are not sum(rate(<selector>[{{.window}}])) with the same grouping"
        )
    group = _group_doc(total[1])
    if sli.error_query is not None:
        return {"ratio": {"errors": {"metric": other[0]}, "total": {"metric": total[0]}, **group}}
    if 'le="' not in other[0].replace(" ", ""):
        raise _cannot(spec, "Pyrra", "a good/total SLI is only expressible as latency (a bucket with le)")
    return {"latency": {"success": {"metric": other[0]}, "total": {"metric": total[0]}, **group}}


def _group_doc(grouping: list[str]) -> Document:
    return {"grouping": grouping} if grouping else {}


def _cannot(spec: SLOSpec, fmt: str, why: str) -> SpecError:
    return SpecError(spec.source, spec.id, f"cannot be expressed in {fmt}: {why}")


def _pyrra(spec: SLOSpec) -> Document:
    if spec.window.kind != "rolling":
        raise _cannot(spec, "Pyrra", f"calendar window {spec.window.name} (Pyrra windows are rolling)")
    alerting: Document = {}
    if spec.alerting is not None and spec.alerting.name != DEFAULT_ALERT:
        alerting["name"] = spec.alerting.name
    if spec.alerting is not None and spec.alerting.page_disabled and spec.alerting.ticket_disabled:
        alerting["disabled"] = True
    meta: Document = {"name": spec.name, "namespace": spec.service}
    if spec.labels:
        meta["labels"] = {f"{LABEL_PREFIX}{k}": v for k, v in spec.labels.items()}
    body: Document = {"description": spec.description} if spec.description else {}
    body |= {
        "target": str(spec.objective.percent.normalize()),
        "window": format_duration(spec.window.seconds),
    }
    body["indicator"] = _pyrra_indicator(spec)
    if alerting:
        body["alerting"] = alerting
    return {"apiVersion": PYRRA_VERSION, "kind": PYRRA_KIND, "metadata": meta, "spec": body}


def _openslo_window(window: Window) -> list[Document]:
    if window.kind == "rolling":
        return [{"duration": format_duration(window.seconds), "isRolling": True}]
    calendar = {"startTime": "2026-01-01 00:00:00", "timeZone": window.timezone}
    return [{"duration": "1M" if window.kind == "month" else "1w", "isRolling": False, "calendar": calendar}]


def _openslo(spec: SLOSpec) -> Document:
    if not isinstance(spec.sli, EventsSLI):
        raise _cannot(spec, "OpenSLO v1", "a raw error-ratio SLI has no ratioMetric form")

    def source(query: str) -> Document:
        return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}

    ratio: Document = {"counter": True, "total": source(spec.sli.total_query)}
    if spec.sli.error_query is not None:
        ratio["bad"] = source(spec.sli.error_query)
    else:
        ratio["good"] = source(spec.sli.good_query or "")
    meta: Document = {"name": spec.name, **({"labels": spec.labels} if spec.labels else {})}
    body: Document = {
        "service": spec.service,
        **({"description": spec.description} if spec.description else {}),
    }
    body |= {
        "budgetingMethod": "Occurrences",
        "indicator": {"metadata": {"name": f"{spec.name}-sli"}, "spec": {"ratioMetric": ratio}},
        "timeWindow": _openslo_window(spec.window),
        "objectives": [{"target": float(spec.objective.percent / 100)}],
    }
    return {"apiVersion": "openslo/v1", "kind": "SLO", "metadata": meta, "spec": body}


def _each(writer: Callable[[SLOSpec], Document]) -> Callable[[Iterable[SLOSpec]], list[Document]]:
    def write_all(specs: Iterable[SLOSpec]) -> list[Document]:
        docs, errors = [], []
        for spec in specs:
            try:
                docs.append(writer(spec))
            except SpecError as exc:
                errors.append(exc)
        if errors:
            raise InvalidSpecsError(errors)
        return docs

    return write_all


WRITERS: dict[str, Callable[[Iterable[SLOSpec]], list[Document]]] = {
    "sloth": to_sloth,
    "sloth-k8s": to_sloth_k8s,
    "pyrra": _each(_pyrra),
    "openslo": _each(_openslo),
}


def convert(specs: Iterable[SLOSpec], to: str) -> str:
    """The specs as multi-document YAML in format `to` (a key of `WRITERS`).

    Raises:
        InvalidSpecsError: SLOs the format cannot express, each with the reason.
    """
    return yaml.safe_dump_all(WRITERS[to](specs), sort_keys=False, allow_unicode=True, width=4096)
