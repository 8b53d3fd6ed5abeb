"""A small builder for Grafana dashboard JSON (schema 39, Grafana 10/11).

Panels query Prometheus through the templated `datasource` variable; dashboards get a
`datasource` variable, `cluster`/`instance` variables and annotations. Panel ids and grid
positions are assigned in order, so the output is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 39
GRID_WIDTH = 24


@dataclass(frozen=True)
class Query:
    """One PromQL target of a panel."""

    expr: str
    legend: str = ""
    instant: bool = False


@dataclass
class Panel:
    """A panel: `kind` is a Grafana panel type (timeseries, stat, table, state-timeline, ...)."""

    title: str
    description: str
    unit: str
    queries: list[Query]
    kind: str = "timeseries"
    width: int = 12
    height: int = 8
    min: float | None = None
    max: float | None = None
    thresholds: list[tuple[float | None, str]] = field(default_factory=list)
    mappings: list[dict[str, Any]] = field(default_factory=list)
    stack: bool = False


@dataclass
class Row:
    """A collapsible row header spanning the grid width."""

    title: str


def q(expr: str, legend: str = "", instant: bool = False) -> Query:
    """Shorthand for a Query, trimming the indentation of multi-line expressions."""
    return Query(" ".join(expr.split()), legend, instant)


def datasource_variable() -> dict[str, Any]:
    """The Prometheus data source picker every panel refers to."""
    return {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "refresh": 1,
        "regex": "",
        "options": [],
        "skipUrlSync": False,
    }


def query_variable(
    name: str, label: str, query: str, multi: bool = False, include_all: bool = False
) -> dict[str, Any]:
    """A variable filled from a Prometheus label_values() query."""
    var: dict[str, Any] = {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "definition": query,
        "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "current": {},
        "hide": 0,
        "refresh": 2,
        "regex": "",
        "sort": 1,
        "multi": multi,
        "includeAll": include_all,
        "options": [],
        "skipUrlSync": False,
    }
    if include_all:
        var["allValue"] = ".*"
    return var


def annotation(name: str, expr: str, title: str, text: str, color: str) -> dict[str, Any]:
    """A Prometheus annotation: one marker per step where `expr` returns a series."""
    return {
        "name": name,
        "datasource": DATASOURCE,
        "enable": True,
        "hide": False,
        "iconColor": color,
        "expr": " ".join(expr.split()),
        "step": "1m",
        "titleFormat": title,
        "textFormat": text,
        "useValueForTime": False,
    }


def _builtin_annotation() -> dict[str, Any]:
    return {
        "builtIn": 1,
        "datasource": {"type": "grafana", "uid": "-- Grafana --"},
        "enable": True,
        "hide": True,
        "iconColor": "rgba(0, 211, 255, 1)",
        "name": "Annotations & Alerts",
        "type": "dashboard",
    }


def _panel_json(panel: Panel, pid: int, x: int, y: int) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": panel.unit}
    if panel.min is not None:
        defaults["min"] = panel.min
    if panel.max is not None:
        defaults["max"] = panel.max
    steps = panel.thresholds or [(None, "green")]
    defaults["thresholds"] = {
        "mode": "absolute",
        "steps": [{"color": color, "value": value} for value, color in steps],
    }
    if panel.mappings:
        defaults["mappings"] = panel.mappings
    if panel.kind == "timeseries":
        defaults["custom"] = {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 10,
            "showPoints": "never",
            "spanNulls": False,
            "stacking": {"mode": "normal" if panel.stack else "none", "group": "A"},
        }
        options: dict[str, Any] = {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
    elif panel.kind == "stat":
        options = {
            "colorMode": "background",
            "graphMode": "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "textMode": "auto",
        }
    else:
        options = {}
    return {
        "id": pid,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": DATASOURCE,
                "expr": query.expr,
                "legendFormat": query.legend or "__auto",
                "range": not query.instant,
                "instant": query.instant,
            }
            for i, query in enumerate(panel.queries)
        ],
    }


def layout(items: list[Panel | Row]) -> list[dict[str, Any]]:
    """Panels with ids and grid positions, flowing left to right and wrapping at the grid width."""
    out: list[dict[str, Any]] = []
    x = y = line_height = 0
    for pid, item in enumerate(items, start=1):
        if isinstance(item, Row):
            if x:
                y, x, line_height = y + line_height, 0, 0
            out.append(
                {
                    "id": pid,
                    "type": "row",
                    "title": item.title,
                    "collapsed": False,
                    "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y},
                    "panels": [],
                }
            )
            y += 1
            continue
        if x + item.width > GRID_WIDTH:
            y, x, line_height = y + line_height, 0, 0
        out.append(_panel_json(item, pid, x, y))
        x += item.width
        line_height = max(line_height, item.height)
    return out


def dashboard(
    uid: str,
    title: str,
    description: str,
    items: list[Panel | Row],
    *,
    variables: list[dict[str, Any]],
    annotations: list[dict[str, Any]] | None = None,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    """A complete dashboard document, ready for file provisioning."""
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["nines", *(tags or [])],
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "",
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "links": [
            {
                "type": "dashboards",
                "tags": ["nines"],
                "asDropdown": True,
                "title": "nines",
                "includeVars": True,
                "keepTime": True,
            }
        ],
        "annotations": {"list": [_builtin_annotation(), *(annotations or [])]},
        "templating": {"list": [datasource_variable(), *variables]},
        "panels": layout(items),
    }
