"""Spec loading: Sloth prometheus/v1 unchanged, OpenSLO v1, extensions, errors naming the SLO."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sloapi.errors import SpecError
from sloapi.specs import EventsSLI, RawSLI, load_dir, parse_window

REPO = Path(__file__).resolve().parents[2]

SLOTH = """\
version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
  repo: "myorg/myservice"
  tier: "2"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO based on availability for HTTP request responses."
    labels:
      category: availability
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      labels:
        category: "availability"
      annotations:
        summary: "High error rate on 'myservice' requests responses"
      page_alert:
        labels:
          severity: pageteam
          routing_key: myteam
      ticket_alert:
        labels:
          severity: "slack"
          slack_channel: "#alerts-myteam"
"""  # noqa: E501

OPENSLO = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-latency
  labels: {team: shop}
spec:
  service: shop
  description: checkouts answered
  budgetingMethod: Occurrences
  indicator:
    metadata: {name: checkout-good}
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource: {type: Prometheus, spec: {query: 'http_total{code="200"}'}}
        total:
          metricSource: {type: Prometheus, spec: {query: http_total}}
  timeWindow:
    - duration: 1M
      isRolling: false
      calendar: {startTime: "2026-01-01 00:00:00", timeZone: Europe/Paris}
  objectives:
    - target: 0.995
"""


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_sloth_example_loads_unchanged(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", SLOTH)
    (spec,) = load_dir(tmp_path)
    assert spec.id == "myservice-requests-availability"
    assert spec.objective.budget == 0.001
    assert spec.labels == {
        "owner": "myteam", "repo": "myorg/myservice", "tier": "2", "category": "availability",
    }  # fmt: skip
    assert isinstance(spec.sli, EventsSLI)
    assert spec.queries("5m")["error"].endswith('code=~"(5..|429)"}[5m]))')
    assert spec.alerting is not None and spec.alerting.page_labels["severity"] == "pageteam"
    assert spec.window.name == "30d"


def test_openslo_good_over_total_and_calendar_window(tmp_path: Path) -> None:
    write(tmp_path, "o.yaml", OPENSLO)
    (spec,) = load_dir(tmp_path)
    assert spec.id == "shop-checkout-latency"
    assert str(spec.objective.percent) == "99.500"
    assert spec.objective.budget == 0.005
    q = spec.queries("1m")
    assert q["total"] == "sum(rate(http_total[1m]))"
    assert q["error"] == '((sum(rate(http_total[1m]))) - (sum(rate(http_total{code="200"}[1m]))))'
    assert (spec.window.kind, spec.window.timezone) == ("month", "Europe/Paris")


def test_extensions_window_and_recipients(tmp_path: Path) -> None:
    text = SLOTH.replace(
        "    objective: 99.9\n",
        "    objective: 99.9\n    window: month\n    timezone: Europe/Berlin\n"
        "    recipients: [ops@example.com]\n",
    )
    write(tmp_path, "a.yml", text)
    (spec,) = load_dir(tmp_path)
    assert spec.window.name == "month@Europe/Berlin"
    assert spec.recipients == ("ops@example.com",)
    start, end = spec.window.bounds(datetime(2026, 3, 15, tzinfo=UTC))
    assert (start.isoformat(), end.isoformat()) == (
        "2026-02-28T23:00:00+00:00", "2026-03-31T22:00:00+00:00",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("objective: 99.9", "objective: 100", "objective 100 is outside (0, 100)"),
        ("objective: 99.9", "objective: 0", "objective 0 is outside (0, 100)"),
        ("[{{.window}}]))\n        total", "[5m]))\n        total", "error_query does not contain"),
        ('service: "myservice"', "service: ''", "service is missing"),
        ("window: 30d", "window: 30x", "window: invalid duration"),
    ],
)
def test_invalid_specs_name_file_slo_and_reason(tmp_path: Path, old: str, new: str, reason: str) -> None:
    text = SLOTH.replace("    objective: 99.9\n", "    objective: 99.9\n    window: 30d\n")
    assert old in text
    path = write(tmp_path, "bad.yml", text.replace(old, new, 1))
    with pytest.raises(SpecError) as info:
        load_dir(tmp_path)
    assert info.value.file == str(path)
    assert reason in info.value.reason
    if "service" not in reason:
        assert info.value.slo == "myservice-requests-availability"
        assert info.value.line is not None
        assert str(info.value).startswith(f"{path}:{info.value.line}: SLO myservice-requests-availability: ")


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", SLOTH)
    second = write(tmp_path, "b.yml", SLOTH)
    with pytest.raises(SpecError) as info:
        load_dir(tmp_path)
    assert info.value.file == str(second)
    assert "duplicate id" in info.value.reason


def test_broken_yaml_and_unknown_documents(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", "version: [\n")
    with pytest.raises(SpecError, match="invalid YAML"):
        load_dir(tmp_path)
    write(tmp_path, "a.yml", "apiVersion: v1\nkind: ConfigMap\n")
    with pytest.raises(SpecError, match="unknown document"):
        load_dir(tmp_path)


def test_shipped_specs_cover_the_stack() -> None:
    specs = {s.id: s for s in load_dir(REPO / "slos")}
    assert {s.labels["component"] for s in specs.values()} == {
        "haproxy", "pgbouncer", "postgresql", "etcd", "app",
    }  # fmt: skip
    assert isinstance(specs["web-availability"].sli, EventsSLI)
    assert 'proxy="web"' in specs["web-availability"].queries("5m")["total"]
    assert 'proxy="api"' in specs["api-availability"].queries("5m")["total"]
    assert isinstance(specs["postgresql-primary-availability"].sli, RawSLI)
    latency = specs.pop("app-request-latency")
    assert all(s.objective.budget == 0.001 for s in specs.values())
    # the latency SLO (a Pyrra resource) reads the demo apps' histogram: 99 % within 250 ms
    assert (latency.objective.budget, latency.window.name) == (0.01, "30d")
    assert latency.queries("5m")["total"] == (
        'sum(rate(http_request_duration_seconds_count{job="app", route!="health"}[5m]))'
    )
    assert latency.sli.good_query.endswith('route!="health", le="0.25"}[{{.window}}]))')  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "name"),
    [("30d", "30d"), ("1h30m", "1h30m"), ("week", "week"), ("month@Asia/Tokyo", "month@Asia/Tokyo")],
)
def test_windows(text: str, name: str) -> None:
    assert parse_window(text).name == name
