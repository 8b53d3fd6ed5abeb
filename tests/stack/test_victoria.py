"""`--tsdb victoriametrics`: choice, components, sloapi's URL and the configs (no stack started)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from stack import process
from stack.__main__ import main as stack_main
from stack.components.nines import SloApi
from stack.components.victoria import (
    TsdbChoiceError,
    VictoriaMetrics,
    VMAgent,
    VMAlert,
    choose_tsdb,
    query_url,
    render_scrape_config,
    tsdb_components,
)
from stack.layout import REPO, Layout, default_layout
from stack.runner import Stack


def vm_layout(tmp_path: Path, offset: int = 20000) -> Layout:
    return Layout(tmp_path, offset=offset, etcd_members=1, tsdb="victoriametrics")


def assert_scrape_config_valid(binary: str, config: Path) -> None:
    """`binary` (vmagent or victoria-metrics) accepts `config` (`-promscrape.config.dryRun`)."""
    checked = subprocess.run(
        [binary, f"-promscrape.config={config}", "-promscrape.config.dryRun", "-loggerLevel=ERROR"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr


def test_default_is_prometheus_and_the_env_chooses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NINES_TSDB", raising=False)
    assert default_layout(tmp_path, 0).tsdb == "prometheus"
    monkeypatch.setenv("NINES_TSDB", "victoriametrics")
    assert default_layout(tmp_path, 0).tsdb == "victoriametrics"


def test_components_and_sloapi_url(tmp_path: Path) -> None:
    lay = vm_layout(tmp_path)
    names = [c.name for c in Stack(lay).phases[-1]]
    components = [n for n in names if not n.startswith("vip-")]  # the VIP rows come last
    assert components[-3:] == ["victoria-metrics", "vmagent", "vmalert"] and "prometheus" not in names
    assert query_url(lay) == "http://127.0.0.1:28428"
    assert SloApi(lay).env()["SLOAPI_PROMETHEUS_URL"] == "http://127.0.0.1:28428"
    prom = Layout(tmp_path, offset=20000)
    assert [c.name for c in tsdb_components(prom, lambda _n: True)] == ["prometheus"]
    assert SloApi(prom).env()["SLOAPI_PROMETHEUS_URL"] == "http://127.0.0.1:29090"


def test_choice_is_remembered_and_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NINES_TSDB", raising=False)
    lay = Layout(tmp_path)
    assert choose_tsdb(lay, "victoriametrics", None, starting=True) == "victoriametrics"
    assert choose_tsdb(lay, "victoriametrics", None, starting=False) == "victoriametrics"
    assert choose_tsdb(lay, None, "victoriametrics", starting=True) == "victoriametrics"
    assert choose_tsdb(lay, "victoriametrics", "prometheus", starting=True) == "prometheus"
    monkeypatch.setenv("NINES_TSDB", "influx")
    with pytest.raises(TsdbChoiceError, match="unknown tsdb 'influx'"):
        choose_tsdb(lay, None, None, starting=True)


def test_no_switch_while_the_other_database_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NINES_TSDB", raising=False)
    lay = Layout(tmp_path)
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        lay.pidfile("prometheus").parent.mkdir(parents=True)
        lay.pidfile("prometheus").write_text(f"{sleeper.pid}\n")
        assert process.running_pid(lay.pidfile("prometheus")) == sleeper.pid
        with pytest.raises(TsdbChoiceError, match="runs prometheus"):
            choose_tsdb(lay, "prometheus", "victoriametrics", starting=True)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_vmagent_scrapes_the_same_jobs_and_its_config_is_valid(tmp_path: Path) -> None:
    lay = vm_layout(tmp_path)
    cfg = render_scrape_config(lay, lambda name: name not in ("prometheus", "etcd-2", "etcd-3"))
    jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
    source = yaml.safe_load((REPO / "prometheus" / "prometheus.yml").read_text())
    assert {j["job_name"] for j in source["scrape_configs"]} - {"prometheus"} <= set(jobs)
    assert {"victoria-metrics", "vmalert"} <= set(jobs) and "vmagent" not in jobs
    assert jobs["haproxy"]["honor_labels"] is True
    assert jobs["etcd"]["static_configs"][0]["targets"] == ["127.0.0.1:22379"]
    assert "rule_files" not in cfg and "alerting" not in cfg
    agent = VMAgent(lay, lambda name: True)
    agent.prepare()
    assert_scrape_config_valid("vmagent", agent.home / "scrape.yml")


def test_victoria_metrics_scrapes_vmagent_so_its_death_is_recorded(tmp_path: Path) -> None:
    lay = vm_layout(tmp_path)
    storage = VictoriaMetrics(lay)
    storage.prepare()
    config = lay.path("victoria-metrics", "scrape.yml")
    assert f"-promscrape.config={config}" in storage.argv()
    cfg = yaml.safe_load(config.read_text())
    assert cfg["global"] == {"scrape_interval": "10s"}
    assert cfg["scrape_configs"] == [
        {
            "job_name": "vmagent",
            "static_configs": [
                {"targets": ["127.0.0.1:28429"], "labels": {"cluster": "demo", "component": "vmagent"}}
            ],
        }
    ]
    assert_scrape_config_valid("victoria-metrics", config)


def test_vmalert_evaluates_every_rule_file_and_alerts_the_stack_alertmanager(tmp_path: Path) -> None:
    argv = VMAlert(vm_layout(tmp_path)).argv()
    assert f"-rule={REPO / 'rules' / '*.yml'}" in argv
    assert "-notifier.url=http://127.0.0.1:29093" in argv
    assert "-datasource.url=http://127.0.0.1:28428" in argv
    assert "-remoteWrite.url=http://127.0.0.1:28428" in argv
    assert "-evaluationInterval=10s" in argv


def test_status_follows_the_recorded_choice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NINES_TSDB", raising=False)
    (tmp_path / "stack.json").write_text('{"etcd_members": 1, "services": true, "tsdb": "victoriametrics"}\n')
    assert stack_main(["--dir", str(tmp_path), "--port-offset", "20000", "status"]) == 3  # nothing runs
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    components = [n for n in names if not n.startswith("vip-")]  # the VIP rows come last
    assert components[-3:] == ["victoria-metrics", "vmagent", "vmalert"] and "prometheus" not in names
    monkeypatch.setenv("NINES_TSDB", "influx")
    assert stack_main(["--dir", str(tmp_path), "up"]) == 2
    assert "unknown tsdb 'influx'" in capsys.readouterr().err
