"""`--web.config.file`: TLS, client certificates and bcrypt basic auth, scraped by a real Prometheus."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
import yaml
from hostile import CountingServer, ExporterProcess, run_exporter

from stack.history import start_prometheus
from stack.throwaway import wait_for
from stack.tls import self_signed

PASSWORD = "scrape-pass-1"


def _hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("certs")
    self_signed(d / "server.key", d / "server.crt", "/CN=localhost", 2, "DNS:localhost,IP:127.0.0.1")
    self_signed(d / "client.key", d / "client.crt", "/CN=prometheus", 2)
    self_signed(d / "other.key", d / "other.crt", "/CN=intruder", 2)
    return {p.stem + p.suffix: p for p in d.iterdir()}


def _web_config(path: Path, certs: dict[str, Path], users: dict[str, str], client_auth: bool) -> Path:
    tls: dict[str, str] = {"cert_file": str(certs["server.crt"]), "key_file": str(certs["server.key"])}
    if client_auth:
        tls |= {"client_auth_type": "RequireAndVerifyClientCert", "client_ca_file": str(certs["client.crt"])}
    path.write_text(yaml.safe_dump({"tls_server_config": tls, "basic_auth_users": users}))
    return path


@pytest.fixture
def target() -> Iterator[CountingServer]:
    server = CountingServer()
    yield server
    server.close()


def _exporter(tmp_path: Path, web: Path, target: CountingServer) -> ExporterProcess:
    exp = ExporterProcess(
        "haproxy",
        [f"--haproxy.scrape-uri=tcp:127.0.0.1:{target.port}", f"--web.config.file={web}"],
        tmp_path / "exporter.log",
        scheme="https",
    )
    return exp.start()


def _serve(
    tmp_path: Path, certs: dict[str, Path], target: CountingServer, client_auth: bool
) -> tuple[Path, ExporterProcess]:
    web = _web_config(tmp_path / "web.yml", certs, {"prometheus": _hash(PASSWORD)}, client_auth)
    return web, _exporter(tmp_path, web, target)


def _context(certs: dict[str, Path], client: str | None = "client") -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(certs["server.crt"]))
    if client:
        ctx.load_cert_chain(certs[f"{client}.crt"], certs[f"{client}.key"])
    return ctx


def _get(url: str, ctx: ssl.SSLContext, user: str | None = None, password: str = PASSWORD) -> int:
    headers = {}
    if user:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=10, context=ctx
        ) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_prometheus_scrapes_over_tls_with_basic_auth_and_client_cert(
    tmp_path: Path, certs: dict[str, Path], target: CountingServer
) -> None:
    _, exp = _serve(tmp_path, certs, target, client_auth=True)
    (tmp_path / "pw").write_text(PASSWORD)
    tls = {"ca_file": str(certs["server.crt"]), "cert_file": str(certs["client.crt"]),
           "key_file": str(certs["client.key"])}  # fmt: skip
    auth = {"username": "prometheus", "password_file": str(tmp_path / "pw")}
    bad_auth = {"username": "prometheus", "password": "wrong"}
    jobs = {
        "good": {"scheme": "https", "tls_config": tls, "basic_auth": auth},
        "wrong-password": {"scheme": "https", "tls_config": tls, "basic_auth": bad_auth},
        "no-client-cert": {"scheme": "https", "tls_config": {"ca_file": tls["ca_file"]}, "basic_auth": auth},
        "plain-http": {"scheme": "http", "basic_auth": auth},
    }
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [
            {"job_name": name, **job, "static_configs": [{"targets": [f"127.0.0.1:{exp.port}"]}]}
            for name, job in jobs.items()
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    prom = start_prometheus(tmp_path / "prometheus.yml", tmp_path / "data", tmp_path / "prometheus.log")
    try:

        def query(expr: str) -> dict[str, float]:
            with urllib.request.urlopen(f"{prom.url}/api/v1/query?query={expr}", timeout=10) as r:
                result = json.load(r)["data"]["result"]
            return {s["metric"].get("job", ""): float(s["value"][1]) for s in result}

        want = {"good": 1.0, "wrong-password": 0.0, "no-client-cert": 0.0, "plain-http": 0.0}
        wait_for(lambda: query("up") == want, 30, f"up of each job to be {want}", step=0.5)
        assert query("haproxy_up") == {"good": 0.0}  # the target itself refuses: scraped, up 0
        assert list(query("haproxy_exporter_build_info")) == ["good"]
        assert query("process_resident_memory_bytes")["good"] > 1e6
    finally:
        prom.stop()
        exp.stop()
    assert "Traceback" not in exp.text()


def test_basic_auth_and_certificates_from_python(
    tmp_path: Path, certs: dict[str, Path], target: CountingServer
) -> None:
    _, exp = _serve(tmp_path, certs, target, client_auth=True)
    try:
        url = exp.url + "/metrics"
        assert _get(url, _context(certs), "prometheus") == 200
        assert _get(url, _context(certs), "prometheus", "nope") == 401
        assert _get(url, _context(certs), "nobody") == 401
        assert _get(url, _context(certs)) == 401
        assert _get(exp.url + "/-/healthy", _context(certs)) == 401
        for client in (None, "other"):  # no certificate, or one the CA file does not vouch for
            with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
                _get(url, _context(certs, client), "prometheus")
        assert target.count == 1  # only the authorised scrape reached the target
    finally:
        exp.stop()


def test_web_config_is_reread_when_it_changes(
    tmp_path: Path, certs: dict[str, Path], target: CountingServer
) -> None:
    web, exp = _serve(tmp_path, certs, target, client_auth=False)
    try:
        url = exp.url + "/metrics"
        ctx = _context(certs, None)
        assert _get(url, ctx, "prometheus") == 200
        time.sleep(0.01)
        _web_config(web, certs, {"prometheus": _hash("rotated-2")}, client_auth=False)
        assert _get(url, ctx, "prometheus") == 401
        assert _get(url, ctx, "prometheus", "rotated-2") == 200
        # a broken change is logged and the last good configuration stays in force
        web.write_text("basic_auth_users:\n  prometheus: not-a-hash\n")
        assert _get(url, ctx, "prometheus", "rotated-2") == 200
        wait_for(lambda: "web config not reloaded" in exp.text(), 5, "the reload error in the log")
        assert f"{web}: basic_auth_users.prometheus: not a bcrypt hash" in exp.text()
        # so is a change that would turn TLS off under running clients
        web.write_text(yaml.safe_dump({"basic_auth_users": {"prometheus": _hash("plain-3")}}))
        assert _get(url, ctx, "prometheus", "rotated-2") == 200
        wait_for(lambda: "turning TLS on or off needs a restart" in exp.text(), 5, "the TLS change refused")
    finally:
        exp.stop()


TLS = "tls_server_config:\n  cert_file: {crt}\n"
TLS_KEY = TLS + "  key_file: {key}\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (TLS_KEY + "  min_version: TLS14\n", "tls_server_config.min_version: unknown version 'TLS14'"),
        (TLS, "tls_server_config.key_file: required"),
        (TLS + "  key_file: /nonexistent.key\n", "tls_server_config.cert_file/key_file: cannot load"),
        (TLS_KEY + "  client_auth_type: RequireAndVerifyClientCert\n",
         "tls_server_config.client_ca_file: required by client_auth_type"),
        (TLS_KEY + "  client_auth_type: RequireAnyClientCert\n",
         "tls_server_config.client_auth_type: 'RequireAnyClientCert' not supported"),
        (TLS_KEY + "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
         "tls_server_config.cipher_suites: not supported"),
        ("basic_auth_users:\n  prometheus: plain-text\n", "basic_auth_users.prometheus: not a bcrypt hash"),
        ("basic_auth_user:\n  prometheus: x\n", "basic_auth_user: unknown key"),
        ("tls_server_config: [\n", "invalid YAML"),
    ],
)  # fmt: skip
def test_bad_web_config_refuses_the_start_naming_file_and_key(
    tmp_path: Path, certs: dict[str, Path], content: str, message: str
) -> None:
    web = tmp_path / "web.yml"
    web.write_text(content.format(crt=certs["server.crt"], key=certs["server.key"]))
    out = run_exporter("haproxy", ["--haproxy.socket=/nonexistent.sock", f"--web.config.file={web}"])
    assert out.returncode == 2
    assert f"{web}: " in out.stderr and message in out.stderr, out.stderr


def test_a_client_dripping_its_tls_hello_is_cut_at_the_read_timeout(
    tmp_path: Path, certs: dict[str, Path], target: CountingServer
) -> None:
    web = _web_config(tmp_path / "web.yml", certs, {}, client_auth=False)
    exp = ExporterProcess(
        "haproxy",
        [
            f"--haproxy.scrape-uri=tcp:127.0.0.1:{target.port}",
            f"--web.config.file={web}",
            "--web.read-timeout=2s",
        ],
        tmp_path / "exporter.log",
        scheme="https",
    ).start()
    try:
        hello = b"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03" + bytes(
            64
        )  # the start of a ClientHello
        with socket.create_connection(("127.0.0.1", exp.port), timeout=10) as s:
            start = time.monotonic()
            closed = None
            for byte in hello:
                try:
                    s.sendall(bytes([byte]))
                except OSError:
                    closed = time.monotonic()
                    break
                time.sleep(0.25)
            if closed is None:  # the server's close shows up as EOF
                s.settimeout(5)
                assert s.recv(1) == b""
                closed = time.monotonic()
            assert closed - start < 3.0
        assert _get(exp.url + "/metrics", _context(certs, None)) == 200  # others are served
    finally:
        exp.stop()
