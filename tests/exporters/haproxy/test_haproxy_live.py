"""The exporter against a real HAProxy 2.6 (a throwaway one per module, generated config).

Run inside a network namespace when several people test at once (see docs/architecture.md).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from haproxy_live import HAProxy, make_haproxy
from promex_compare import missing_families, samples

from exporters.core.cli import build
from exporters.core.metrics import Family, sample_value
from exporters.haproxy.cli import SPEC
from exporters.haproxy.source import parse_address, run_commands
from stack.throwaway import wait_for

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy not installed")


class Exporter:
    """Our exporter served on an ephemeral port, configured for the given targets."""

    def __init__(self, folder: Path, targets: str, extra: list[str] | None = None) -> None:
        cfg = folder / "exporter.yml"
        cfg.write_text(targets)
        argv = ["--web.listen-address", "127.0.0.1:0", "--config.file", str(cfg), *(extra or [])]
        self.collector, self.server = build(SPEC, argv)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def get(self, path: str = "/metrics") -> tuple[int, str]:
        with urllib.request.urlopen(self.base + path, timeout=30) as resp:
            return resp.status, resp.read().decode()

    def families(self) -> list[Family]:
        return self.collector.collect()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.collector.close()


@pytest.fixture(scope="module")
def exporter(haproxy: HAProxy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exporter]:
    p = haproxy.ports
    targets = f"""\
targets:
  - name: sock
    address: {haproxy.address}
    timeout: 10s
    labels: {{cluster: test}}
  - name: tcp
    address: tcp:127.0.0.1:{p["stats_port"]}
    timeout: 10s
  - name: csv
    address: "http://nines:{haproxy.stats_password}@127.0.0.1:{p["promex_port"]}/stats;csv"
    timeout: 10s
"""
    exp = Exporter(tmp_path_factory.mktemp("exporter"), targets)
    try:
        yield exp
    finally:
        exp.close()


def server_value(fams: list[Family], name: str, server: str, **labels: str) -> float | None:
    want = {"target": "sock", "cluster": "test", "proxy": "app", "server": server, **labels}
    return sample_value(fams, f"haproxy_server_{name}", want)


def test_all_sources_up_and_promtool_clean(exporter: Exporter, haproxy: HAProxy) -> None:
    status, body = exporter.get()
    assert status == 200
    fams = exporter.families()
    assert sample_value(fams, "haproxy_up", {"target": "sock", "cluster": "test"}) == 1
    assert sample_value(fams, "haproxy_up", {"target": "tcp"}) == 1
    assert sample_value(fams, "haproxy_up", {"target": "csv"}) == 1
    # the CSV page has no show info: its process families are absent, its servers are not
    assert sample_value(fams, "haproxy_process_nbproc", {"target": "csv"}) is None
    assert sample_value(fams, "haproxy_process_nbproc", {"target": "tcp"}) == 1
    csv_up = {"target": "csv", "proxy": "app", "server": "a1", "state": "UP"}
    assert sample_value(fams, "haproxy_server_status", csv_up) == 1
    assert haproxy.stats_password not in body
    expiry = sample_value(
        fams,
        "haproxy_ssl_certificate_expiry_timestamp_seconds",
        {"target": "tcp", "file": str(haproxy.dir / "site.pem"), "subject": "/CN=web.nines.test"},
    )
    assert expiry is not None and 29 * 86400 < expiry - time.time() < 31 * 86400
    if shutil.which("promtool"):
        res = subprocess.run(
            ["promtool", "check", "metrics"], input=body.encode(), capture_output=True, check=False
        )
        assert (res.returncode, res.stdout + res.stderr) == (0, b"")


def test_certificates_survive_readers_holding_haproxys_certificate_lock(
    exporter: Exporter, haproxy: HAProxy
) -> None:
    """HAProxy refuses `show ssl cert` while another session holds its certificate lock ("Can't
    show! Operations on certificates are currently locked!"): two Prometheus replicas, or two
    targets naming one process, meet it on every scrape. The expiry must not blink out."""
    addr = parse_address(haproxy.address)
    file = str(haproxy.dir / "site.pem")
    stop = threading.Event()
    refused = []

    def contend() -> None:
        while not stop.is_set():
            refused.append(run_commands(addr, [f"show ssl cert {file}"], 10).count("currently locked"))

    threads = [threading.Thread(target=contend, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        missing = 0
        for _ in range(100):
            fams = exporter.families()
            for target in ({"target": "sock", "cluster": "test"}, {"target": "tcp"}):
                want = {**target, "file": file, "subject": "/CN=web.nines.test"}
                if sample_value(fams, "haproxy_ssl_certificate_expiry_timestamp_seconds", want) is None:
                    missing += 1
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=15)
    assert sum(refused) > 0, "the contending readers never met the lock: the test proves nothing"
    assert missing == 0


def test_no_promex_family_missing(haproxy: HAProxy, tmp_path: Path) -> None:
    single = Exporter(tmp_path, f"targets:\n  - {{name: h, address: '{haproxy.address}'}}\n")
    try:
        ours = single.get()[1]
    finally:
        single.close()
    url = f"http://127.0.0.1:{haproxy.ports['promex_port']}/metrics"
    with urllib.request.urlopen(url, timeout=30) as resp:
        promex = resp.read().decode()
    assert missing_families(promex, ours) == []


def test_values_equal_show_stat(exporter: Exporter, haproxy: HAProxy) -> None:
    fams = exporter.families()
    stat = haproxy.stat()
    for server in ("a1", "a2", "bad", "spare"):
        row = stat[("app", server)]
        assert server_value(fams, "weight", server) == float(row["weight"])
        assert server_value(fams, "uweight", server) == float(row["uweight"])
        assert server_value(fams, "sessions_total", server) == float(row["stot"])
        assert server_value(fams, "bytes_out_total", server) == float(row["bout"])
        if server != "bad":  # its checks keep failing between the two reads
            assert server_value(fams, "check_failures_total", server) == float(row["chkfail"])
    backend = {"target": "sock", "cluster": "test", "proxy": "app"}
    be = stat[("app", "BACKEND")]
    assert sample_value(fams, "haproxy_backend_weight", backend) == float(be["weight"])
    assert sample_value(fams, "haproxy_backend_active_servers", backend) == float(be["act"])
    assert sample_value(fams, "haproxy_backend_backup_servers", backend) == float(be["bck"])


def test_failing_health_check(exporter: Exporter) -> None:
    fams = exporter.families()
    assert server_value(fams, "status", "bad", state="DOWN") == 1
    assert server_value(fams, "status", "bad", state="UP") == 0
    assert server_value(fams, "check_status", "bad", state="L7STS") == 1
    assert server_value(fams, "check_code", "bad") == 503
    assert server_value(fams, "check_status", "a1", state="L7OK") == 1
    agg = {"target": "sock", "cluster": "test", "proxy": "app", "state": "DOWN"}
    assert sample_value(fams, "haproxy_backend_agg_server_status", agg) == 1


def test_backup_server(exporter: Exporter) -> None:
    fams = exporter.families()
    assert server_value(fams, "backup", "spare") == 1
    assert server_value(fams, "active", "spare") == 0
    assert server_value(fams, "backup", "a1") == 0
    assert server_value(fams, "status", "spare", state="UP") == 1


@pytest.mark.parametrize(("command", "state"), [("maint", "MAINT"), ("drain", "DRAIN")])
def test_maint_and_drain_through_the_socket(
    exporter: Exporter, haproxy: HAProxy, command: str, state: str
) -> None:
    agg = {"target": "sock", "cluster": "test", "proxy": "app", "state": state}
    try:
        haproxy.admin(f"set server app/a2 state {command}")
        wait_for(lambda: haproxy.status("app", "a2").startswith(state), 10, state)
        fams = exporter.families()
        assert server_value(fams, "status", "a2", state=state) == 1
        assert server_value(fams, "status", "a2", state="UP") == 0
        assert sample_value(fams, "haproxy_backend_agg_server_status", agg) == 1
    finally:
        haproxy.admin("set server app/a2 state ready")
    wait_for(lambda: haproxy.status("app", "a2") == "UP", 10, "a2 UP")
    fams = exporter.families()
    assert server_value(fams, "status", "a2", state="UP") == 1
    assert sample_value(fams, "haproxy_backend_agg_server_status", agg) == 0


def test_weight_change_at_run_time(exporter: Exporter, haproxy: HAProxy) -> None:
    try:
        haproxy.admin("set weight app/a2 7")
        fams = exporter.families()
        assert server_value(fams, "weight", "a2") == 7
        assert server_value(fams, "uweight", "a2") == 7
        backend = {"target": "sock", "cluster": "test", "proxy": "app"}
        assert sample_value(fams, "haproxy_backend_weight", backend) == 107
    finally:
        haproxy.admin("set weight app/a2 50")


def test_killed_haproxy_gives_up_zero_with_http_200(tmp_path: Path) -> None:
    h = make_haproxy(tmp_path)
    h.start()
    exp = Exporter(tmp_path, f"targets:\n  - {{name: h, address: '{h.address}', timeout: 2s}}\n")
    try:
        assert 'haproxy_up{target="h"} 1' in exp.get()[1]
        assert h.proc is not None
        h.proc.kill()
        h.proc.wait(15)
        start = time.monotonic()
        status, body = exp.get()
        assert time.monotonic() - start < 10
        assert status == 200
        assert 'haproxy_up{target="h"} 0' in body
        assert 'haproxy_exporter_scrape_errors_total{target="h",kind="target"} 1' in body
        assert "haproxy_server_status" not in body
    finally:
        exp.close()
        h.stop()


def test_promex_values_match_on_stable_series(exporter: Exporter, haproxy: HAProxy) -> None:
    url = f"http://127.0.0.1:{haproxy.ports['promex_port']}/metrics"
    with urllib.request.urlopen(url, timeout=30) as resp:
        theirs = samples(resp.read().decode())
    mine = exporter.families()
    for name in ("haproxy_server_weight", "haproxy_server_uweight", "haproxy_backend_weight"):
        for (n, labels), value in theirs.items():
            if n == name:
                want = {"target": "sock", "cluster": "test", **dict(labels)}
                assert sample_value(mine, name, want) == value, (name, labels)


def test_single_target_from_flags_has_no_target_label(haproxy: HAProxy) -> None:
    collector, server = build(
        SPEC, ["--web.listen-address", "127.0.0.1:0", "--haproxy.socket", str(haproxy.sock),
               "--haproxy.proxies-only", "--haproxy.timeout", "10s"],
    )  # fmt: skip
    server.server_close()
    try:
        fams = collector.collect()
    finally:
        collector.close()
    assert sample_value(fams, "haproxy_up") == 1
    assert sample_value(fams, "haproxy_backend_status", {"proxy": "app", "state": "UP"}) == 1
    assert not [f for f in fams if f.name.startswith("haproxy_server_") and len(f)]
