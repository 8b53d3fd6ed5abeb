"""Our conventions on top of Grafana's typed builders (grafana-foundation-sdk, Grafana 10.4 schema).

Every panel and query reads Prometheus through the templated `datasource` variable, carries a
title, a description and a unit; panels flow left to right on the 24-column grid and get ids in
order, so the generated JSON is deterministic. Boards may chain any further SDK builder method
on what these factories return.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TypeVar

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus, stat, statetimeline, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

DATASOURCE = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE_INTERVAL = "$__rate_interval"
# The SDK for Grafana 10.4 still writes its kind's schemaVersion 36; Grafana 10.4 itself saves
# 39, and the panels built here are already in that form (no migration to run on load).
SCHEMA_VERSION = 39
GRID_WIDTH = 24

Panel = timeseries.Panel | stat.Panel | statetimeline.Panel
P = TypeVar("P", timeseries.Panel, stat.Panel, statetimeline.Panel)
Item = Panel | db.Row
Steps = Sequence[tuple[float | None, str]]
Row = db.Row


def q(expr: str, legend: str = "", instant: bool = False) -> prometheus.Dataquery:
    """A PromQL target on the datasource variable; indentation of multi-line `expr` is trimmed."""
    query = (
        prometheus.Dataquery()
        .expr(" ".join(expr.split()))
        .legend_format(legend or "__auto")
        .datasource(DATASOURCE)
    )
    return query.instant() if instant else query.range()


def thresholds(steps: Steps) -> db.ThresholdsConfig:
    """Absolute thresholds from (value, color) steps; the first value is None (the base)."""
    return (
        db.ThresholdsConfig()
        .mode(dm.ThresholdsMode.ABSOLUTE)
        .steps([dm.Threshold(value=value, color=color) for value, color in steps])
    )


def value_map(*pairs: tuple[int, str, str]) -> list[dm.ValueMapping]:
    """Grafana value mappings: (value, text, color) -> one `value` mapping."""
    options = {
        str(value): dm.ValueMappingResult(text=text, color=color, index=i)
        for i, (value, text, color) in enumerate(pairs)
    }
    return [dm.ValueMap(options=options)]


def _panel(
    panel: P,
    title: str,
    description: str,
    unit: str,
    queries: Sequence[prometheus.Dataquery],
    *,
    width: int,
    height: int,
    min: float | None,
    max: float | None,
    steps: Steps | None,
    mappings: list[dm.ValueMapping] | None,
) -> P:
    panel = (
        panel.title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(width)
        .height(height)
        .thresholds(thresholds(steps or [(None, "green")]))
        .targets([query.ref_id(chr(ord("A") + i)) for i, query in enumerate(queries)])
    )
    if min is not None:
        panel = panel.min(min)
    if max is not None:
        panel = panel.max(max)
    if mappings:
        panel = panel.mappings(mappings)
    return panel


def timeseries_panel(
    title: str,
    description: str,
    unit: str,
    queries: Sequence[prometheus.Dataquery],
    *,
    width: int = 12,
    height: int = 8,
    min: float | None = None,
    max: float | None = None,
    thresholds: Steps | None = None,
    stack: bool = False,
) -> timeseries.Panel:
    """A time series: thin lines, no points, gaps kept, a multi-series tooltip sorted downwards."""
    panel = (
        timeseries.Panel()
        .draw_style(cm.GraphDrawStyle.LINE)
        .line_width(1)
        .fill_opacity(10)
        .show_points(cm.VisibilityMode.NEVER)
        .span_nulls(False)
        .stacking(
            cb.StackingConfig().mode(cm.StackingMode.NORMAL if stack else cm.StackingMode.NONE).group("A")
        )
        .legend(
            cb.VizLegendOptions()
            .display_mode(cm.LegendDisplayMode.LIST)
            .placement(cm.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        .tooltip(cb.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI).sort(cm.SortOrder.DESCENDING))
    )
    return _panel(
        panel, title, description, unit, queries, width=width, height=height, min=min, max=max,
        steps=thresholds, mappings=None,
    )  # fmt: skip


def stat_panel(
    title: str,
    description: str,
    unit: str,
    queries: Sequence[prometheus.Dataquery],
    *,
    width: int = 6,
    height: int = 8,
    thresholds: Steps | None = None,
    mappings: list[dm.ValueMapping] | None = None,
) -> stat.Panel:
    """A stat coloured by its thresholds, showing each series' last value."""
    panel = (
        stat.Panel()
        .color_mode(cm.BigValueColorMode.BACKGROUND)
        .graph_mode(cm.BigValueGraphMode.NONE)
        .justify_mode(cm.BigValueJustifyMode.AUTO)
        .orientation(cm.VizOrientation.AUTO)
        .text_mode(cm.BigValueTextMode.AUTO)
        .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).fields("").values(False))
    )
    return _panel(
        panel, title, description, unit, queries, width=width, height=height, min=None, max=None,
        steps=thresholds, mappings=mappings,
    )  # fmt: skip


def state_timeline_panel(
    title: str,
    description: str,
    unit: str,
    queries: Sequence[prometheus.Dataquery],
    *,
    mappings: list[dm.ValueMapping],
    width: int = 24,
    height: int = 8,
) -> statetimeline.Panel:
    """A state timeline: one band per series, states named and coloured by `mappings`."""
    panel = statetimeline.Panel().show_value(cm.VisibilityMode.AUTO).merge_values(True)
    return _panel(
        panel, title, description, unit, queries, width=width, height=height, min=None, max=None,
        steps=None, mappings=mappings,
    )  # fmt: skip


def _place(items: Sequence[Item]) -> None:
    """Give every item an id and a grid position, wrapping a panel that does not fit its line."""
    x = y = line_height = 0
    for pid, item in enumerate(items, start=1):
        grid = item.build().grid_pos or dm.GridPos()
        if isinstance(item, db.Row):
            if x:
                y, x, line_height = y + line_height, 0, 0
            item.id(pid).grid_pos(dm.GridPos(h=1, w=GRID_WIDTH, x=0, y=y))
            y += 1
            continue
        if x + grid.w > GRID_WIDTH:
            y, x, line_height = y + line_height, 0, 0
        item.id(pid).grid_pos(dm.GridPos(h=grid.h, w=grid.w, x=x, y=y))
        x += grid.w
        line_height = max(line_height, grid.h)


def board(
    uid: str,
    title: str,
    description: str,
    items: Sequence[Item],
    *,
    variables: Sequence[db.QueryVariable],
    annotations: Sequence[db.AnnotationQuery] = (),
    tags: Sequence[str] = (),
) -> dm.Dashboard:
    """A complete dashboard for file provisioning, linked to the other nines dashboards."""
    builder = (
        db.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["nines", *tags])
        .editable()
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .version(1)
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("")
        .fiscal_year_start_month(0)
        .live_now(False)
        .link(
            db.DashboardLink("nines")
            .type(dm.DashboardLinkType.DASHBOARDS)
            .tags(["nines"])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
        .annotations([_builtin_annotation(), *annotations])
        .variables([datasource_variable(), *variables])
    )
    _place(items)
    for item in items:
        builder = builder.with_row(item) if isinstance(item, db.Row) else builder.with_panel(item)
    model = builder.build()
    model.schema_version = SCHEMA_VERSION
    return model


def to_json(model: dm.Dashboard) -> str:
    """The dashboard as the JSON text we commit (sorted keys, two-space indent)."""
    return json.dumps(model, cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def datasource_variable() -> db.DatasourceVariable:
    """The Prometheus data source picker every panel refers to."""
    return db.DatasourceVariable("datasource").label("Data source").type("prometheus")


def query_variable(
    name: str, label: str, query: str, multi: bool = False, include_all: bool = False
) -> db.QueryVariable:
    """A variable filled from a Prometheus label_values() query, refreshed on time range change."""
    var = (
        db.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query({"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"})
        .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dm.VariableSort.ALPHABETICAL_ASC)
        .multi(multi)
        .include_all(include_all)
    )
    return var.all_value(".*") if include_all else var


class PrometheusAnnotation(dm.AnnotationQuery):
    """An annotation query with the Prometheus data source's own fields (title and text templates)."""

    def __init__(self, name: str, expr: str, title: str, text: str, color: str) -> None:
        super().__init__(name=name, datasource=DATASOURCE, icon_color=color, expr=" ".join(expr.split()))
        self.title_format = title
        self.text_format = text

    def to_json(self) -> dict[str, object]:
        """The SDK's fields plus step, titleFormat, textFormat and useValueForTime."""
        payload = super().to_json()
        payload.pop("builtIn", None)
        payload.update(
            step="1m", titleFormat=self.title_format, textFormat=self.text_format, useValueForTime=False
        )
        return payload


class AnnotationBuilder(db.AnnotationQuery):
    """Hands a ready annotation model to the dashboard builder."""

    def __init__(self, model: dm.AnnotationQuery) -> None:
        self._internal = model


def annotation(name: str, expr: str, title: str, text: str, color: str) -> AnnotationBuilder:
    """A Prometheus annotation: one marker per step where `expr` returns a series."""
    return AnnotationBuilder(PrometheusAnnotation(name, expr, title, text, color))


def _builtin_annotation() -> db.AnnotationQuery:
    return (
        db.AnnotationQuery()
        .name("Annotations & Alerts")
        .datasource(dm.DataSourceRef(type_val="grafana", uid="-- Grafana --"))
        .enable(True)
        .hide(True)
        .icon_color("rgba(0, 211, 255, 1)")
        .type("dashboard")
        .built_in(1)
    )
