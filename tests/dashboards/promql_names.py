"""Metric names referenced by PromQL expressions of rules/ and dashboards/ (for the tests)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]

# Grafana's variables, replaced by values any Prometheus accepts.
SUBSTITUTIONS = {
    "$__rate_interval": "1m",
    "$__interval": "1m",
    "$__range": "1h",
    "$cluster": ".*",
    "$instance": ".*",
}
_KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
}
_LABEL_VALUES = re.compile(r"^label_values\((.*),\s*[a-zA-Z_]\w*\)$")


def substitute(expr: str) -> str:
    """`expr` with Grafana variables replaced (`$name` of other variables -> `.*`)."""
    for var, value in SUBSTITUTIONS.items():
        expr = expr.replace(var, value)
    return re.sub(r"\$\{?[a-zA-Z_]\w*\}?", ".*", expr)


def metric_names(expr: str) -> set[str]:
    """Metric names selected by a PromQL expression (not functions, labels or keywords)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        if e[m.end() :].lstrip().startswith("(") or m.group(0).lower() in _KEYWORDS:
            continue
        names.add(m.group(0))
    return names


def rule_files(include_slo: bool = True) -> list[Path]:
    """rules/*.yml (with or without the generated SLO rules)."""
    return sorted(p for p in (REPO / "rules").glob("*.yml") if include_slo or p.name != "slo.rules.yml")


def rules(include_slo: bool = True) -> Iterator[dict[str, Any]]:
    """Every rule (recording and alerting) of rules/."""
    for path in rule_files(include_slo):
        for group in yaml.safe_load(path.read_text())["groups"]:
            yield from group["rules"]


def recorded_names() -> set[str]:
    """Names written by recording rules."""
    return {r["record"] for r in rules() if "record" in r}


def dashboards() -> dict[str, dict[str, Any]]:
    """The generated dashboards by file name."""
    return {p.name: json.loads(p.read_text()) for p in sorted((REPO / "dashboards" / "json").glob("*.json"))}


def dashboard_queries(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every panel target, annotation and query variable of a dashboard."""
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            yield f"panel {panel['title']!r} {target['refId']}", target["expr"]
    for ann in board["annotations"]["list"]:
        if "expr" in ann:
            yield f"annotation {ann['name']!r}", ann["expr"]
    for var in board["templating"]["list"]:
        if var["type"] == "query":
            m = _LABEL_VALUES.match(var["query"]["query"])
            assert m, var["query"]["query"]
            yield f"variable {var['name']!r}", m.group(1)
