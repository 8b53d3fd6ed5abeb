"""Sloth `prometheus/v1` specs (with our documented extensions `window`, `recipients` and `breakdown`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sloapi.engine.objective import Objective
from sloapi.errors import SpecError, WindowError
from sloapi.specs.model import (
    WINDOW_PLACEHOLDER,
    AlertSpec,
    EventsSLI,
    RawSLI,
    SLOSpec,
    Window,
    parse_window,
)

SLOTH_VERSION = "prometheus/v1"
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


def _str_map(value: object, what: str, file: str, slo: str | None) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(file, slo, f"{what} must be a mapping")
    return {str(k): str(v) for k, v in value.items()}


def _query(block: Mapping[str, Any], key: str, file: str, slo: str) -> str:
    query = block.get(key)
    if not isinstance(query, str) or not query.strip():
        raise SpecError(file, slo, f"sli: {key} is missing")
    if WINDOW_PLACEHOLDER not in query:
        raise SpecError(file, slo, f"sli: {key} does not contain {WINDOW_PLACEHOLDER}")
    return query.strip()


def _sli(raw: object, file: str, slo: str) -> EventsSLI | RawSLI:
    if not isinstance(raw, Mapping):
        raise SpecError(file, slo, "sli is missing")
    if "events" in raw:
        events = raw["events"]
        if not isinstance(events, Mapping):
            raise SpecError(file, slo, "sli.events must be a mapping")
        return EventsSLI(
            error_query=_query(events, "error_query", file, slo),
            total_query=_query(events, "total_query", file, slo),
        )
    if "raw" in raw:
        block = raw["raw"]
        if not isinstance(block, Mapping):
            raise SpecError(file, slo, "sli.raw must be a mapping")
        return RawSLI(error_ratio_query=_query(block, "error_ratio_query", file, slo))
    if "plugin" in raw:
        raise SpecError(file, slo, "sli.plugin (Sloth SLI plugins) is not supported")
    raise SpecError(file, slo, "sli needs `events` or `raw`")


def _alerting(raw: object, slo_id: str, file: str) -> AlertSpec:
    raw = raw or {}
    if not isinstance(raw, Mapping):
        raise SpecError(file, slo_id, "alerting must be a mapping")
    page = raw.get("page_alert") or {}
    ticket = raw.get("ticket_alert") or {}
    name = str(raw.get("name") or "".join(p.capitalize() for p in re.split(r"[-_.]", slo_id)))
    return AlertSpec(
        name=name,
        labels=_str_map(raw.get("labels"), "alerting.labels", file, slo_id),
        annotations=_str_map(raw.get("annotations"), "alerting.annotations", file, slo_id),
        page_labels=_str_map(page.get("labels"), "page_alert.labels", file, slo_id),
        page_annotations=_str_map(page.get("annotations"), "page_alert.annotations", file, slo_id),
        page_disabled=bool(page.get("disable", False)),
        ticket_labels=_str_map(ticket.get("labels"), "ticket_alert.labels", file, slo_id),
        ticket_annotations=_str_map(ticket.get("annotations"), "ticket_alert.annotations", file, slo_id),
        ticket_disabled=bool(ticket.get("disable", False)),
    )


def _objective(value: object, file: str, slo: str) -> Objective:
    try:
        return Objective.from_percent(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise SpecError(file, slo, f"objective {value!r} is outside (0, 100)") from None


def _window(raw: Mapping[str, Any], file: str, slo: str) -> Window:
    if raw.get("window") is None:
        return Window()
    try:
        return parse_window(raw["window"], str(raw.get("timezone", "UTC")))
    except WindowError as exc:
        raise SpecError(file, slo, f"window: {exc}") from None


def _breakdown(value: object, file: str, slo: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and _LABEL.fullmatch(v) for v in value):
        raise SpecError(file, slo, "breakdown must be a list of label names")
    return tuple(value)


def parse_sloth(doc: Mapping[str, Any], file: str) -> list[SLOSpec]:
    """Turn one Sloth `prometheus/v1` document into SLOSpecs.

    Raises:
        SpecError: naming the file, the SLO and the reason.
    """
    if doc.get("version") != SLOTH_VERSION:
        raise SpecError(file, None, f"version must be {SLOTH_VERSION!r}")
    service = doc.get("service")
    if not isinstance(service, str) or not _NAME.match(service):
        raise SpecError(file, None, "service is missing or not a valid name")
    base_labels = _str_map(doc.get("labels"), "labels", file, None)
    slos = doc.get("slos")
    if not isinstance(slos, list) or not slos:
        raise SpecError(file, None, "slos must be a non-empty list")
    specs = []
    for index, raw in enumerate(slos):
        if not isinstance(raw, Mapping):
            raise SpecError(file, f"#{index + 1}", "must be a mapping")
        name = raw.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise SpecError(file, f"#{index + 1}", "name is missing or not a valid name")
        slo_id = f"{service}-{name}"
        recipients = raw.get("recipients") or []
        if not isinstance(recipients, list):
            raise SpecError(file, slo_id, "recipients must be a list")
        specs.append(
            SLOSpec(
                id=slo_id,
                service=service,
                name=name,
                objective=_objective(raw.get("objective"), file, slo_id),
                sli=_sli(raw.get("sli"), file, slo_id),
                window=_window(raw, file, slo_id),
                labels={**base_labels, **_str_map(raw.get("labels"), "labels", file, slo_id)},
                description=str(raw.get("description") or ""),
                alerting=_alerting(raw.get("alerting"), slo_id, file),
                recipients=tuple(str(r) for r in recipients),
                source=file,
                breakdown=_breakdown(raw.get("breakdown"), file, slo_id),
            )
        )
    return specs
