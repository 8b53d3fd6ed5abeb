"""Every spec format in one folder: Sloth resources, OpenSLO v1alpha, Pyrra; every error at once."""

from __future__ import annotations

import copy
import dataclasses
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from sloapi.cli import main
from sloapi.errors import InvalidSpecsError
from sloapi.rules import generate_groups, render_rules
from sloapi.specs import EventsSLI, RawSLI, SLOSpec, load_dir, load_file, read_dir, read_text
from stack.throwaway import free_port, stop, wait_for

SPECS = Path(__file__).resolve().parent / "specs"
MIXED = SPECS / "mixed"
W5 = "[5m]"


def by_id(specs: list[SLOSpec]) -> dict[str, SLOSpec]:
    return {s.id: s for s in specs}


@pytest.fixture(scope="module")
def mixed() -> dict[str, SLOSpec]:
    return by_id(load_dir(MIXED))


def test_every_format_loads_from_one_folder(mixed: dict[str, SLOSpec]) -> None:
    assert sorted(mixed) == [
        "checkout-queue-freshness", "checkout-requests-availability", "default-probe-success",
        "edge-gateway-errors", "edge-gateway-latency", "edge-gateway-latency-native",
        "edge-replica-ready", "ledger-writes-0", "ledger-writes-1", "media-uploads", "search-availability",
    ]  # fmt: skip


def test_sloth_resource_fields(mixed: dict[str, SLOSpec]) -> None:
    spec = mixed["checkout-requests-availability"]
    assert (spec.service, spec.name, str(spec.objective.percent)) == (
        "checkout",
        "requests-availability",
        "99.95",
    )
    assert spec.labels == {"team": "payments", "tier": "1"}  # metadata.labels are Kubernetes'
    assert spec.queries("5m") == {
        "error": 'sum(rate(checkout_requests_total{status=~"5.."}[5m]))',
        "total": "sum(rate(checkout_requests_total[5m]))",
    }
    alert = spec.alerting
    assert alert is not None
    assert (alert.name, alert.page_labels, alert.ticket_disabled) == (
        "CheckoutAvailability", {"severity": "critical"}, True,
    )  # fmt: skip
    raw = mixed["checkout-queue-freshness"]
    assert isinstance(raw.sli, RawSLI)
    assert raw.queries("1h") == {"ratio": "avg_over_time(checkout_queue_stale_ratio[1h])"}
    search = mixed["search-availability"]
    assert search.alerting is not None and search.alerting.name == "SearchAvailability"
    assert search.alerting.page_disabled and not search.alerting.ticket_disabled


def test_sloth_resource_rules_equal_prometheus_v1_rules() -> None:
    k8s = [s for s in load_file(MIXED / "sloth-k8s.yaml") if s.service == "checkout"]
    v1 = load_file(SPECS / "checkout-prometheus-v1.yml")
    assert [dataclasses.replace(s, source="") for s in k8s] == [dataclasses.replace(s, source="") for s in v1]
    rendered = [render_rules(generate_groups(specs, interval_seconds=30), "header") for specs in (k8s, v1)]
    assert rendered[0] == rendered[1]
    assert "slo:sli_error:ratio_rate30d" in rendered[0] and "CheckoutAvailability" in rendered[0]


def test_openslo_v1alpha_one_slo_per_objective(mixed: dict[str, SLOSpec]) -> None:
    first, second = mixed["ledger-writes-0"], mixed["ledger-writes-1"]
    assert (first.service, first.name, first.objective.budget, first.window.name) == (
        "ledger", "writes-0", 0.001, "28d",
    )  # fmt: skip
    assert second.objective.budget == 0.01
    assert first.queries("5m") == {
        "total": "sum(rate(ledger_writes_total[5m]))",
        "error": '((sum(rate(ledger_writes_total[5m]))) - (sum(rate(ledger_writes_total{result="ok"}[5m]))))',
    }
    assert first.alerting is not None and first.alerting.page_disabled and first.alerting.ticket_disabled


def test_openslo_v1_counter_selectors_and_calendar_month(mixed: dict[str, SLOSpec]) -> None:
    spec = mixed["media-uploads"]
    assert (spec.labels, spec.window.name, spec.objective.budget) == (
        {"team": "storage"}, "month@Europe/Berlin", 0.005,
    )  # fmt: skip
    assert spec.queries("5m") == {
        "error": 'sum(rate(media_uploads_total{result="failed"}[5m]))',
        "total": "sum(rate(media_uploads_total[5m]))",
    }


def test_pyrra_ratio_with_grouping(mixed: dict[str, SLOSpec]) -> None:
    spec = mixed["edge-gateway-errors"]
    assert (spec.service, spec.name, spec.window.name, str(spec.objective.percent)) == (
        "edge", "gateway-errors", "28d", "99.9",
    )  # fmt: skip
    assert spec.labels == {"team": "edge"}  # only pyrra.dev/ labels, prefix dropped
    assert spec.queries("5m") == {
        "error": 'sum by (route)(rate(gateway_responses_total{code=~"5.."}[5m]))',
        "total": "sum by (route)(rate(gateway_responses_total[5m]))",
    }
    assert spec.alerting is not None and spec.alerting.name == "ErrorBudgetBurn"


def test_pyrra_latency_is_good_bucket_over_count(mixed: dict[str, SLOSpec]) -> None:
    spec = mixed["edge-gateway-latency"]
    assert isinstance(spec.sli, EventsSLI)
    assert spec.sli.good_query == 'sum(rate(gateway_duration_seconds_bucket{le="0.5"}[{{.window}}]))'
    assert spec.queries("5m")["error"] == (
        "((sum(rate(gateway_duration_seconds_count[5m])))"
        ' - (sum(rate(gateway_duration_seconds_bucket{le="0.5"}[5m]))))'
    )
    assert (spec.window.name, spec.objective.budget) == ("14d", 0.01)
    assert spec.alerting is not None and spec.alerting.name == "GatewaySlow"


def test_pyrra_native_latency_and_bool_gauges(mixed: dict[str, SLOSpec]) -> None:
    native = mixed["edge-gateway-latency-native"]
    hist = 'sum(rate(gateway_duration_native_seconds{method="GET"}[5m]))'
    assert native.queries("5m")["total"] == f"histogram_count({hist})"
    assert native.sli.good_query == (  # type: ignore[union-attr]
        f"histogram_fraction(0, 0.25, {hist.replace(W5, '[{{.window}}]')})"
        f" * histogram_count({hist.replace(W5, '[{{.window}}]')})"
    )
    probe = mixed["default-probe-success"]
    assert probe.queries("1h") == {
        "ratio": '1 - (sum(sum_over_time(probe_success{job="blackbox"}[1h]))'
        ' / sum(count_over_time(probe_success{job="blackbox"}[1h])))'
    }
    assert probe.alerting is not None and probe.alerting.page_disabled and probe.alerting.ticket_disabled
    ready = mixed["edge-replica-ready"]
    assert ready.queries("5m")["ratio"].startswith("1 - (sum by (instance)(sum_over_time(replica_ready[5m]))")


EXPECTED_PROBLEMS = {
    ("configmap.yaml", 1, None, None),
    ("k8s-snake.yaml", 12, "snake-availability", "sli.events.error_query"),
    ("openslo.yaml", 8, "ledger-reads-0", "objectives[0].target"),
    ("openslo.yaml", 10, "ledger-reads-0", "objectives[0].ratioMetrics.total"),
    ("pyrra.yaml", 7, "shop-api-latency", "spec.target"),
    ("pyrra.yaml", 8, "shop-api-latency", "spec.window"),
    ("pyrra.yaml", 12, "shop-api-latency", "spec.indicator.latency.success.metric"),
    ("pyrra.yaml", 27, "shop-api-errors", "spec.indicator.ratio.errors.metric"),
    ("pyrra.yaml", 39, "shop-api-two", "spec.indicator"),
    ("sloth.yml", 5, "shop-cart", "objectve"),
    ("sloth.yml", 11, "shop-pay", "objective"),
    ("sloth.yml", 12, "shop-pay", "window"),
    ("sloth.yml", 15, "shop-pay", "sli.events.error_query"),
    ("sloth.yml", 20, "shop-search", "sli.plugin"),
    ("sloth.yml", None, "shop-ok", None),  # duplicate of duplicate.yml, read first
    ("yaml.yml", 3, None, None),
}


def test_every_problem_of_every_file_is_reported_together() -> None:
    specs, errors = read_dir(SPECS / "broken")
    found = {(Path(e.file).name, e.line, e.slo, e.field) for e in errors}
    assert found == EXPECTED_PROBLEMS
    assert [s.id for s in specs] == ["shop-ok"]
    assert any(e.reason == f"duplicate id (also in {SPECS / 'broken' / 'duplicate.yml'})" for e in errors)
    with pytest.raises(InvalidSpecsError) as info:
        load_dir(SPECS / "broken")
    assert len(info.value.errors) == len(EXPECTED_PROBLEMS)


def test_check_lists_every_problem_then_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(SPECS / "broken"), "--offline"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == len(EXPECTED_PROBLEMS) + 1
    assert (
        lines[-1]
        == f"sloapi check: {len(EXPECTED_PROBLEMS)} problem(s) in 6 file(s); PromQL not checked (--offline)"
    )
    broken = SPECS / "broken"
    unknown = "objectve is an unknown key (did you mean objective?)"
    assert f"sloapi check: {broken / 'sloth.yml'}:5: SLO shop-cart: {unknown}" in lines
    assert not any("objective None" in line or "objective is missing" in line for line in lines)
    assert (
        f"sloapi check: {broken / 'sloth.yml'}:11: SLO shop-pay: objective 100 is outside (0, 100)" in lines
    )
    ratio = "spec.target '0.99' is a percentage (0-100), not a ratio"
    assert f"sloapi check: {broken / 'pyrra.yaml'}:7: SLO shop-api-latency: {ratio}" in lines


def test_check_names_the_unreachable_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(MIXED), "--prometheus-url", "http://127.0.0.1:9"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: 11 SLOs in ")
    assert "PromQL not checked: Prometheus at http://127.0.0.1:9 is unreachable" in out


def test_check_shows_prometheus_own_message(
    tmp_path: Path, prom_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (MIXED / "pyrra.yaml").read_text(encoding="utf-8").split("---")[1]
    (tmp_path / "p.yaml").write_text(
        text.replace("gateway_duration_seconds_count", "rate(x"), encoding="utf-8"
    )
    (tmp_path / "s.yml").write_text(
        (SPECS / "checkout-prometheus-v1.yml")
        .read_text(encoding="utf-8")
        .replace("avg_over_time(", "avg_over_time(("),
        encoding="utf-8",
    )
    assert main(["check", str(tmp_path), "--prometheus-url", prom_url]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith(f"sloapi check: {tmp_path / 'p.yaml'}:")
    assert "spec.indicator.latency.total.metric 'rate(x' is not a metric selector" in lines[0]
    assert lines[1].startswith(
        f"sloapi check: {tmp_path / 's.yml'}: SLO checkout-queue-freshness: "
        'ratio query rejected by Prometheus: invalid parameter "query": '
    )
    assert "parse error" in lines[1] and "b'" not in lines[1] and "\\" not in lines[1]


def _paths(node: object, prefix: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


@pytest.mark.parametrize("fixture", sorted(p.name for p in MIXED.iterdir()))
def test_any_value_anywhere_is_reported_never_raised(fixture: str) -> None:
    docs = list(yaml.safe_load_all((MIXED / fixture).read_text(encoding="utf-8")))
    cases = 0
    for index, doc in enumerate(docs):
        for path in list(_paths(doc)):
            for value in (None, "x", {"a": 1}):
                changed = copy.deepcopy(docs)
                node = changed[index]
                for key in path[:-1]:
                    node = node[key]
                node[path[-1]] = value
                specs, errors = read_text(yaml.safe_dump_all(changed), "f")
                cases += 1
                assert all(e.file == "f" and e.reason for e in errors)
                # an SLO named in an error is never also accepted
                assert not {e.slo for e in errors} & {s.id for s in specs}
    assert cases > 100


def test_rules_of_every_format_pass_promtool(tmp_path: Path) -> None:
    warnings: list[str] = []
    groups = generate_groups(load_dir(MIXED), interval_seconds=30, warn=warnings.append)
    path = tmp_path / "mixed.rules.yml"
    path.write_text(render_rules(groups, "every format"), encoding="utf-8")
    result = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 206 rules found" in result.stdout
    assert warnings == [
        f"{MIXED / 'openslo-v1.yaml'}: SLO media-uploads: calendar window, no rules generated"
    ]
    text = path.read_text(encoding="utf-8")
    # Pyrra's grouping keeps a series per group in the SLI rules; its alerts carry Pyrra's labels
    assert 'sum by (route)(rate(gateway_responses_total{code=~"5.."}[1h]))' in text
    assert "slo: gateway-latency" in text and "- alert: GatewaySlow" in text


METRICSQL = """\
version: prometheus/v1
service: shop
slos:
  - name: cart
    objective: 99.9
    sli:
      raw:
        error_ratio_query: median_over_time(cart_error_ratio[{{.window}}])
"""


def test_check_asks_the_configured_backend_so_metricsql_passes_on_victoriametrics(
    tmp_path: Path, prom_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos" / "cart.yml").write_text(METRICSQL, encoding="utf-8")
    assert main(["check", str(tmp_path / "slos"), "--prometheus-url", prom_url]) == 2
    assert 'unknown function with name "median_over_time"' in capsys.readouterr().err
    port = free_port()
    vm = subprocess.Popen(
        ["victoria-metrics", f"-httpListenAddr=127.0.0.1:{port}", f"-storageDataPath={tmp_path / 'vm'}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: httpx.get(f"{url}/health", timeout=2).status_code == 200, 60, "VictoriaMetrics",
                 ignore=(httpx.HTTPError,))  # fmt: skip
        assert main(["check", str(tmp_path / "slos"), "--prometheus-url", url]) == 0
        assert capsys.readouterr().out.endswith(f"PromQL accepted by {url}\n")
    finally:
        stop(vm)
