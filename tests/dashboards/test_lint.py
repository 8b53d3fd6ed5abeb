"""The generated dashboards pass dashboard-linter's rules, but for the exceptions in dashboards/json/.lint."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from dashlint import Exclusion, Violation, lint, load_exclusions
from promql_names import REPO, dashboards

BOARDS = dashboards()
EXCLUSIONS = load_exclusions(REPO / "dashboards" / "json" / ".lint")
VIOLATIONS = [v for board in BOARDS.values() for v in lint(board)]


def _excused(v: Violation, exclusions: list[Exclusion]) -> bool:
    return any(e.covers(v) for e in exclusions)


def test_dashboards_break_no_rule_but_the_listed_exceptions() -> None:
    assert len(BOARDS) >= 7
    left = [str(v) for v in VIOLATIONS if not _excused(v, EXCLUSIONS)]
    assert left == []


def test_every_exception_has_a_reason_and_still_applies() -> None:
    assert {e.rule for e in EXCLUSIONS} == {
        "template-job-rule",
        "target-job-rule",
        "template-instance-rule",
        "target-instance-rule",
    }
    for exclusion in EXCLUSIONS:
        assert len(exclusion.reason) > 40, exclusion.rule
        assert any(exclusion.covers(v) for v in VIOLATIONS), f"{exclusion.rule} excuses nothing"
        for entry in exclusion.entries:
            single = Exclusion(exclusion.rule, exclusion.reason, (entry,))
            assert any(single.covers(v) for v in VIOLATIONS), f"{exclusion.rule}: stale entry {entry}"


def test_the_rules_we_keep_have_no_exception() -> None:
    kept = {
        "template-datasource-rule",
        "template-label-promql-rule",
        "template-on-time-change-reload-rule",
        "panel-datasource-rule",
        "panel-title-description-rule",
        "panel-units-rule",
        "panel-no-targets-rule",
        "target-promql-rule",
        "target-rate-interval-rule",
        "target-counter-agg-rule",
        "target-cluster-rule",
    }
    assert not kept & {e.rule for e in EXCLUSIONS}


def _broken() -> dict[str, Any]:
    """The HAProxy board with one fault per rule."""
    board = copy.deepcopy(BOARDS["haproxy.json"])
    variables = {v["name"]: v for v in board["templating"]["list"]}
    variables["datasource"]["label"] = "Prom"
    variables["backend"]["refresh"] = 1
    variables["target"]["query"]["query"] = "label_values(haproxy_up{, target)"
    panels = [p for p in board["panels"] if p["type"] != "row"]
    panels[0]["datasource"] = {"type": "prometheus", "uid": "prometheus"}
    panels[1]["description"] = " "
    panels[2]["fieldConfig"]["defaults"]["unit"] = "furlongs"
    panels[3]["targets"] = []
    counter = 'haproxy_frontend_http_requests_total{cluster=~"$cluster"}'
    panels[4]["targets"][0]["expr"] = f"sum(rate({counter}[5m]))"
    panels[5]["targets"][0]["expr"] = counter
    panels[6]["targets"][0]["expr"] = "haproxy_up"
    panels[7]["targets"][0]["expr"] = "sum(rate(haproxy_up[$__rate_interval])"
    return board


@pytest.mark.parametrize(
    ("rule", "where"),
    [
        ("template-datasource-rule", None),
        ("template-on-time-change-reload-rule", None),
        ("template-label-promql-rule", None),
        ("panel-datasource-rule", 0),
        ("panel-title-description-rule", 1),
        ("panel-units-rule", 2),
        ("panel-no-targets-rule", 3),
        ("target-rate-interval-rule", 4),
        ("target-counter-agg-rule", 5),
        ("target-cluster-rule", 6),
        ("target-promql-rule", 7),
    ],
)
def test_each_rule_catches_its_fault(rule: str, where: int | None) -> None:
    board = _broken()
    found = [v for v in lint(board) if v.rule == rule and not _excused(v, EXCLUSIONS)]
    assert found, f"{rule} found nothing"
    if where is not None:
        panel = [p for p in board["panels"] if p["type"] != "row"][where]
        assert {v.panel for v in found} == {panel["title"]}
    else:
        assert {v.panel for v in found} == {None}


def test_the_untouched_board_breaks_none_of_those_rules() -> None:
    found = {v.rule for v in lint(BOARDS["haproxy.json"]) if not _excused(v, EXCLUSIONS)}
    assert found == set()
