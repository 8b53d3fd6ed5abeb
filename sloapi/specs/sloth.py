"""Sloth specs: `prometheus/v1` files and Kubernetes `PrometheusServiceLevel` resources.

Both carry the same service, labels and SLOs; the resource (`apiVersion: sloth.slok.dev/v1`)
spells its SLI and alert keys in camelCase (`errorQuery`, `pageAlert`). Our extensions `window`,
`timezone` and `recipients` are accepted per SLO in both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sloapi.engine.objective import Objective
from sloapi.errors import WindowError
from sloapi.specs.fields import Issues, join
from sloapi.specs.model import AlertSpec, EventsSLI, RawSLI, SLOSpec, Window, parse_window

SLOTH_VERSION = "prometheus/v1"
SLOTH_K8S_VERSION = "sloth.slok.dev/v1"
SLOTH_K8S_KIND = "PrometheusServiceLevel"
SLO_KEYS = (
    "name",
    "objective",
    "description",
    "labels",
    "sli",
    "alerting",
    "window",
    "timezone",
    "recipients",
)


@dataclass(frozen=True)
class Keys:
    """How one Sloth format spells its SLI and alerting keys."""

    error_query: str
    total_query: str
    error_ratio_query: str
    page_alert: str
    ticket_alert: str


SNAKE = Keys("error_query", "total_query", "error_ratio_query", "page_alert", "ticket_alert")
CAMEL = Keys("errorQuery", "totalQuery", "errorRatioQuery", "pageAlert", "ticketAlert")


def _sli(raw: Mapping[str, Any], keys: Keys, issues: Issues, slo: str) -> EventsSLI | RawSLI | None:
    sli = issues.mapping(raw, "sli", slo, "", required=True)
    if sli is None:
        return None
    issues.unknown(sli, ("events", "raw", "plugin"), slo, "sli")
    if "plugin" in sli:
        issues.add(sli, "plugin", slo, "sli.plugin", "(Sloth SLI plugins) is not supported")
        return None
    events = issues.mapping(sli, "events", slo, "sli")
    if events is not None:
        issues.unknown(events, (keys.error_query, keys.total_query), slo, "sli.events")
        error = issues.windowed_query(events, keys.error_query, slo, "sli.events")
        total = issues.windowed_query(events, keys.total_query, slo, "sli.events")
        return EventsSLI(total_query=total, error_query=error) if error and total else None
    block = issues.mapping(sli, "raw", slo, "sli")
    if block is not None:
        issues.unknown(block, (keys.error_ratio_query,), slo, "sli.raw")
        ratio = issues.windowed_query(block, keys.error_ratio_query, slo, "sli.raw")
        return RawSLI(error_ratio_query=ratio) if ratio else None
    if "events" not in sli and "raw" not in sli:
        issues.add(raw, "sli", slo, "sli", "needs `events` or `raw`")
    return None


def _alert_block(
    raw: Mapping[str, Any], key: str, issues: Issues, slo: str
) -> tuple[dict[str, str], dict[str, str], bool]:
    block = issues.mapping(raw, key, slo, "alerting") or {}
    prefix = join("alerting", key)
    issues.unknown(block, ("disable", "labels", "annotations"), slo, prefix)
    return (
        issues.str_map(block, "labels", slo, prefix),
        issues.str_map(block, "annotations", slo, prefix),
        block.get("disable") is True,
    )


def default_alert_name(slo_id: str) -> str:
    """Sloth-style CamelCase alert name from an SLO id (`web-availability` -> `WebAvailability`)."""
    return "".join(p.capitalize() for p in re.split(r"[-_.]", slo_id))


def _alerting(raw: Mapping[str, Any], keys: Keys, issues: Issues, slo: str) -> AlertSpec:
    block = issues.mapping(raw, "alerting", slo, "") or {}
    allowed = ("name", "labels", "annotations", keys.page_alert, keys.ticket_alert)
    issues.unknown(block, allowed, slo, "alerting")
    page_labels, page_annotations, page_off = _alert_block(block, keys.page_alert, issues, slo)
    ticket_labels, ticket_annotations, ticket_off = _alert_block(block, keys.ticket_alert, issues, slo)
    return AlertSpec(
        name=issues.text(block, "name", slo, "alerting", required=False) or default_alert_name(slo),
        labels=issues.str_map(block, "labels", slo, "alerting"),
        annotations=issues.str_map(block, "annotations", slo, "alerting"),
        page_labels=page_labels,
        page_annotations=page_annotations,
        page_disabled=page_off,
        ticket_labels=ticket_labels,
        ticket_annotations=ticket_annotations,
        ticket_disabled=ticket_off,
    )


def objective_percent(
    node: Mapping[str, Any], key: str, issues: Issues, slo: str, field: str
) -> Objective | None:
    """A required objective in percent, strictly inside (0, 100)."""
    value = node.get(key)
    if value is None:
        issues.missing(node, key, slo, "")
        return None
    try:
        return Objective.from_percent(value)
    except ValueError:
        reason = (
            f"{value} is outside (0, 100)" if isinstance(value, int | float) else f"{value!r} is not a number"
        )
        issues.add(node, key, slo, field, reason)
        return None


def window_extension(raw: Mapping[str, Any], issues: Issues, slo: str) -> Window:
    """Our `window` / `timezone` extension (default: 30 days rolling)."""
    if raw.get("window") is None:
        return Window()
    try:
        return parse_window(raw["window"], str(raw.get("timezone", "UTC")))
    except WindowError as exc:
        issues.add(raw, "window", slo, "window", f": {exc}")
        return Window()


def _slo(
    raw: object, index: int, service: str, base: dict[str, str], keys: Keys, issues: Issues
) -> SLOSpec | None:
    if not isinstance(raw, Mapping):
        issues.add(raw, None, f"#{index + 1}", "", "an SLO must be a mapping")
        return None
    given = raw.get("name")
    label = f"{service}-{given}" if isinstance(given, str) and given else f"#{index + 1}"
    before = len(issues.errors)
    issues.unknown(raw, SLO_KEYS, label, "")
    name = issues.name(raw, "name", label, "")
    slo_id = f"{service}-{name}" if name else f"#{index + 1}"
    recipients = raw.get("recipients") or []
    if not isinstance(recipients, list):
        issues.add(raw, "recipients", slo_id, "recipients", "must be a list")
    spec = SLOSpec(
        id=slo_id,
        service=service,
        name=name or "",
        objective=objective_percent(raw, "objective", issues, slo_id, "objective")
        or Objective.from_percent(99),
        sli=_sli(raw, keys, issues, slo_id) or RawSLI(""),
        window=window_extension(raw, issues, slo_id),
        labels={**base, **issues.str_map(raw, "labels", slo_id, "")},
        description=str(raw.get("description") or ""),
        alerting=_alerting(raw, keys, issues, slo_id),
        recipients=tuple(str(r) for r in recipients) if isinstance(recipients, list) else (),
        source=issues.file,
    )
    return spec if len(issues.errors) == before and name else None


def parse_group(node: Mapping[str, Any], keys: Keys, issues: Issues, prefix: str) -> list[SLOSpec]:
    """The service, labels and SLOs of a Sloth group (a `prometheus/v1` file or a resource's spec)."""
    service = issues.name(node, "service", None, prefix)
    base = issues.str_map(node, "labels", None, prefix)
    slos = node.get("slos")
    if slos is None:
        issues.missing(node, "slos", None, prefix)
        return []
    if not isinstance(slos, list) or not slos:
        issues.add(node, "slos", None, join(prefix, "slos"), "must be a non-empty list")
        return []
    if service is None:
        return []
    specs = [_slo(raw, i, service, base, keys, issues) for i, raw in enumerate(slos)]
    return [s for s in specs if s is not None]


def parse_sloth(doc: Mapping[str, Any], issues: Issues) -> list[SLOSpec]:
    """The SLOs of one Sloth `prometheus/v1` document (problems go to `issues`)."""
    issues.unknown(doc, ("version", "service", "labels", "slos"), None, "")
    return parse_group(doc, SNAKE, issues, "")


def parse_sloth_k8s(doc: Mapping[str, Any], issues: Issues) -> list[SLOSpec]:
    """The SLOs of one `PrometheusServiceLevel` resource (metadata and status are Kubernetes')."""
    issues.unknown(doc, ("apiVersion", "kind", "metadata", "spec", "status"), None, "")
    spec = issues.mapping(doc, "spec", None, "", required=True)
    if spec is None:
        return []
    issues.unknown(spec, ("service", "labels", "slos"), None, "spec")
    return parse_group(spec, CAMEL, issues, "spec")
