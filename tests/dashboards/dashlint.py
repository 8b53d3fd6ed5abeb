"""The rules of Grafana's dashboard-linter, over our generated dashboard JSON, with its `.lint` file.

Each rule keeps the linter's name and meaning (template-*, panel-*, target-*), so the `.lint` file
beside the dashboards means the same to both. PromQL is parsed with `promql-parser`; that every
query is accepted by a real Prometheus is checked separately (test_dashboards.py). One rule is
ours: target-cluster-rule, the `cluster` matcher that stands in for the linter's `job` matcher.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import promql_parser as pp
import yaml

# What the linter substitutes for $__rate_interval: a range no real query uses.
RATE_INTERVAL = "7777777ms"
RATE_INTERVAL_RANGE = timedelta(milliseconds=7777777)
RANGES = {"$__rate_interval": RATE_INTERVAL, "$__interval": "1m", "$__range": "1h"}
DATASOURCE_UIDS = {"$datasource", "${datasource}"}
# Grafana's unit ids (valueFormats categories) that can describe our metrics.
VALID_UNITS = {
    "none", "string", "short", "percent", "percentunit", "bool", "bool_yes_no", "bool_on_off",
    "bytes", "decbytes", "bits", "decbits", "kbytes", "mbytes", "gbytes",
    "Bps", "binBps", "bps", "binbps", "pps",
    "ns", "µs", "ms", "s", "m", "h", "d", "dtdurationms", "dtdurations", "dthms", "clockms", "clocks",
    "dateTimeAsIso", "dateTimeAsSystem", "dateTimeFromNow", "hertz",
    "ops", "reqps", "rps", "wps", "iops", "cps", "opm", "rpm", "wpm", "cpm",
}  # fmt: skip
COUNTER_FUNCTIONS = {"rate", "irate", "increase"}


@dataclass(frozen=True)
class Violation:
    """One broken rule, located as the linter locates it (dashboard title, panel title, target)."""

    rule: str
    dashboard: str
    message: str
    panel: str | None = None
    target_idx: int | None = None

    def __str__(self) -> str:
        where = self.dashboard + (f" / {self.panel}" if self.panel else "")
        where += f" / target {self.target_idx}" if self.target_idx is not None else ""
        return f"{self.rule}: {where}: {self.message}"


def parse(expr: str) -> pp.Expr:
    """The AST of a dashboard query, Grafana's range variables replaced as the linter does."""
    for var, value in RANGES.items():
        expr = expr.replace(var, value)
    return pp.parse(expr)


def _children(node: Any) -> list[Any]:
    if isinstance(node, pp.AggregateExpr):
        return [node.expr, node.param]
    if isinstance(node, pp.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, pp.Call):
        return list(node.args)
    if isinstance(node, pp.MatrixSelector):
        return [node.vector_selector]
    if isinstance(node, (pp.ParenExpr, pp.UnaryExpr, pp.SubqueryExpr)):
        return [node.expr]
    return []


def walk(node: Any, parents: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    """Every node of an AST with its ancestors, outermost first."""
    yield node, parents
    for child in _children(node):
        if child is not None:
            yield from walk(child, (*parents, node))


# --- dashboard rules ---------------------------------------------------------------------------


def _variables(d: dict[str, Any]) -> list[dict[str, Any]]:
    return list(d["templating"]["list"])


def template_datasource(d: dict[str, Any]) -> Iterator[str]:
    sources = [v for v in _variables(d) if v["type"] == "datasource"]
    if not sources:
        yield "no templated data source"
    for var in sources:
        if var["name"] not in {"datasource", f"{var['query']}_datasource"}:
            yield f"data source variable named {var['name']!r}, should be 'datasource'"
        if var.get("label") not in {"Data source", f"{var['query'].title()} data source"}:
            yield f"data source variable labelled {var.get('label')!r}, should be 'Data source'"


def _template(d: dict[str, Any], name: str) -> Iterator[str]:
    var = next((v for v in _variables(d) if v["name"] == name), None)
    if var is None:
        yield f"no {name} variable"
        return
    if (var.get("datasource") or {}).get("uid") not in DATASOURCE_UIDS:
        yield f"{name} variable does not use the datasource variable"
    if var["type"] != "query":
        yield f"{name} variable is a {var['type']!r}, not a Prometheus query"
    if var.get("label") != name.title():
        yield f"{name} variable labelled {var.get('label')!r}, should be {name.title()!r}"
    if not var.get("multi"):
        yield f"{name} variable is not multi-select"
    if var.get("allValue") != ".+":
        yield f"{name} variable's allValue is {var.get('allValue')!r}, should be '.+'"


def template_job(d: dict[str, Any]) -> Iterator[str]:
    yield from _template(d, "job")


def template_instance(d: dict[str, Any]) -> Iterator[str]:
    yield from _template(d, "instance")


def template_label_promql(d: dict[str, Any]) -> Iterator[str]:
    for var in _variables(d):
        if var["type"] != "query":
            continue
        query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
        if not (query.startswith("label_values(") and query.endswith(")")):
            yield f"{var['name']} variable: not a label_values() query: {query}"
            continue
        selector, _, label = query[len("label_values(") : -1].rpartition(",")
        try:
            if selector:
                parse(selector)
        except ValueError as err:
            yield f"{var['name']} variable: invalid PromQL {selector!r}: {err}"
        if not label.strip().isidentifier():
            yield f"{var['name']} variable: invalid label {label.strip()!r}"


def template_on_time_change_reload(d: dict[str, Any]) -> Iterator[str]:
    for var in _variables(d):
        if var["type"] == "query" and var.get("refresh") != 2:
            yield f"{var['name']} variable refreshes on {var.get('refresh')!r}, not on time range change (2)"


DASHBOARD_RULES: dict[str, Callable[[dict[str, Any]], Iterator[str]]] = {
    "template-datasource-rule": template_datasource,
    "template-job-rule": template_job,
    "template-instance-rule": template_instance,
    "template-label-promql-rule": template_label_promql,
    "template-on-time-change-reload-rule": template_on_time_change_reload,
}

# --- panel rules -------------------------------------------------------------------------------


def panel_datasource(p: dict[str, Any]) -> Iterator[str]:
    if (p.get("datasource") or {}).get("uid") not in DATASOURCE_UIDS:
        yield f"panel data source is {p.get('datasource')!r}, not the datasource variable"
    for t in p.get("targets", []):
        if "datasource" in t and t["datasource"].get("uid") not in DATASOURCE_UIDS:
            yield f"target {t.get('refId')} data source is {t['datasource']!r}"


def panel_title_description(p: dict[str, Any]) -> Iterator[str]:
    if not str(p.get("title", "")).strip() or not str(p.get("description", "")).strip():
        yield "panel has no title or no description"


def panel_units(p: dict[str, Any]) -> Iterator[str]:
    unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
    if unit not in VALID_UNITS:
        yield f"panel has no or an invalid unit: {unit!r}"


def panel_no_targets(p: dict[str, Any]) -> Iterator[str]:
    if not p.get("targets"):
        yield "panel has no targets"


PANEL_RULES: dict[str, Callable[[dict[str, Any]], Iterator[str]]] = {
    "panel-datasource-rule": panel_datasource,
    "panel-title-description-rule": panel_title_description,
    "panel-units-rule": panel_units,
    "panel-no-targets-rule": panel_no_targets,
}

# --- target rules (over the parsed query) ------------------------------------------------------


def target_rate_interval(ast: Any) -> Iterator[str]:
    for node, parents in walk(ast):
        if not isinstance(node, pp.MatrixSelector) or node.range == RATE_INTERVAL_RANGE or not parents:
            continue
        call = parents[-1]
        if isinstance(call, pp.Call) and call.func.name in {"rate", "irate"}:
            yield f"{call.func.name}() over a fixed range, not $__rate_interval"


def _matcher_rule(label: str) -> Callable[[Any], Iterator[str]]:
    def rule(ast: Any) -> Iterator[str]:
        for node, _ in walk(ast):
            if isinstance(node, pp.VectorSelector) and not any(
                m.name == label and m.op == pp.MatchOp.Re and m.value == f"${label}"
                for m in node.matchers.matchers
            ):
                yield f'selector {node.name or ""}{{...}} has no {label}=~"${label}" matcher'

    return rule


def target_counter_agg(ast: Any) -> Iterator[str]:
    for node, parents in walk(ast):
        if not isinstance(node, pp.VectorSelector) or not (node.name or "").endswith("_total"):
            continue
        ok = (
            len(parents) >= 2
            and isinstance(parents[-1], pp.MatrixSelector)
            and isinstance(parents[-2], pp.Call)
            and parents[-2].func.name in COUNTER_FUNCTIONS
        )
        if not ok:
            yield f"counter {node.name} is not wrapped in rate(), irate() or increase()"


TARGET_RULES: dict[str, Callable[[Any], Iterator[str]]] = {
    "target-rate-interval-rule": target_rate_interval,
    "target-job-rule": _matcher_rule("job"),
    "target-instance-rule": _matcher_rule("instance"),
    "target-counter-agg-rule": target_counter_agg,
    "target-cluster-rule": _matcher_rule("cluster"),
}


def _panels(d: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for p in d["panels"]:
        if p["type"] == "row":
            yield from p.get("panels", [])
        else:
            yield p


def _lint_targets(title: str, p: dict[str, Any]) -> Iterator[Violation]:
    for idx, target in enumerate(p.get("targets", [])):
        try:
            ast = parse(target["expr"])
        except ValueError as err:
            yield Violation("target-promql-rule", title, f"invalid PromQL: {err}", p["title"], idx)
            continue
        for rule, check in TARGET_RULES.items():
            yield from (Violation(rule, title, msg, p["title"], idx) for msg in check(ast))


def lint(d: dict[str, Any]) -> Iterator[Violation]:
    """Every violation of every rule in one dashboard."""
    title = d["title"]
    for rule, check in DASHBOARD_RULES.items():
        yield from (Violation(rule, title, msg) for msg in check(d))
    for p in _panels(d):
        for rule, panel_check in PANEL_RULES.items():
            yield from (Violation(rule, title, msg, p.get("title")) for msg in panel_check(p))
        yield from _lint_targets(title, p)


@dataclass(frozen=True)
class Exclusion:
    """One `.lint` exclusion: a rule, its reason, and the entries it covers (none: everywhere)."""

    rule: str
    reason: str
    entries: tuple[dict[str, Any], ...]

    def covers(self, v: Violation) -> bool:
        """Whether `v` is excused by this exclusion."""
        if v.rule != self.rule:
            return False
        return not self.entries or any(_entry_matches(e, v) for e in self.entries)


def _entry_matches(entry: dict[str, Any], v: Violation) -> bool:
    fields = {"dashboard": v.dashboard, "panel": v.panel, "targetIdx": v.target_idx}
    return all(fields[key] == value for key, value in entry.items())


def load_exclusions(path: Path) -> list[Exclusion]:
    """The `exclusions:` of a dashboard-linter `.lint` file."""
    data = yaml.safe_load(path.read_text()) or {}
    return [
        Exclusion(rule, (spec or {}).get("reason", ""), tuple((spec or {}).get("entries") or ()))
        for rule, spec in (data.get("exclusions") or {}).items()
    ]
