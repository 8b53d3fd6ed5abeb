"""HTTP endpoints of the shared server, started for real on an ephemeral port."""

import argparse
import gzip
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporters.core.cli import build, load_targets, make_parser
from exporters.core.config import Target
from exporters.core.errors import ConfigError
from exporters.core.metrics import Family
from exporters.core.spec import ExporterSpec


def scrape(target: Target) -> list[Family]:
    fam = Family("demo_answer", "gauge", "The answer.")
    fam.add((), 42)
    return [fam]


def add_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--demo.address", dest="demo_address")


def targets_from_flags(args: argparse.Namespace) -> list[Target]:
    if not args.demo_address:
        return []
    return [Target("demo", args.demo_address, args.target_timeout)]


def check_target(t: Target) -> None:
    if not t.address.startswith("demo:"):
        raise ConfigError(f"target {t.name}: address must start with demo:")


SPEC = ExporterSpec(
    namespace="demo",
    description="Demo exporter",
    default_listen="127.0.0.1:0",
    scrape=scrape,
    targets_from_flags=targets_from_flags,
    add_flags=add_flags,
    check_target=check_target,
)


def get(base: str, path: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(base + path, timeout=10) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read().decode()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    cfg = tmp_path / "demo.yml"
    cfg.write_text("targets:\n  - {name: one, address: 'demo:1'}\n  - {name: two, address: 'demo:2'}\n")
    collector, server = build(SPEC, ["--config.file", str(cfg), "--log.format", "json"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        collector.close()


def test_metrics_has_every_target_labelled(served: str) -> None:
    status, ctype, body = get(served, "/metrics")
    assert status == 200
    assert ctype.startswith("text/plain; version=0.0.4")
    assert 'demo_answer{target="one"} 42\n' in body
    assert 'demo_up{target="two"} 1\n' in body
    assert body.count("# TYPE demo_up gauge") == 1


def test_gzip_when_asked(served: str) -> None:
    req = urllib.request.Request(served + "/metrics", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.headers["Content-Encoding"] == "gzip"
        body = gzip.decompress(resp.read()).decode()
    assert 'demo_answer{target="one"} 42\n' in body


def test_probe_known_and_unknown(served: str) -> None:
    status, _, body = get(served, "/probe?target=two")
    assert status == 200
    assert 'demo_answer{target="two"} 42' in body
    assert 'target="one"' not in body
    for bad in ("/probe?target=127.0.0.1:22", "/probe", "/probe?target=one&target=two"):
        assert get(served, bad)[0] == 400


def test_landing_health_and_404(served: str) -> None:
    status, ctype, body = get(served, "/")
    assert (status, ctype.split(";")[0]) == (200, "text/html")
    assert 'href="/metrics"' in body and "/probe?target=one" in body
    assert get(served, "/-/healthy")[:1] == (200,)
    assert get(served, "/nope")[0] == 404


def test_flags_target_and_errors(tmp_path: Path) -> None:
    args = make_parser(SPEC).parse_args(["--demo.address", "demo:x", "--demo.timeout", "250ms"])
    targets, labelled = load_targets(SPEC, args)
    assert [(t.name, t.address, t.timeout) for t in targets] == [("demo", "demo:x", 0.25)]
    assert labelled is False
    with pytest.raises(ConfigError, match="no target"):
        load_targets(SPEC, make_parser(SPEC).parse_args([]))
    cfg = tmp_path / "bad.yml"
    cfg.write_text("targets:\n  - name: x\n    address: 'http://u:pw@h/'\n")
    with pytest.raises(ConfigError, match=f"{cfg}:2: target x: address must start"):
        load_targets(SPEC, make_parser(SPEC).parse_args(["--config.file", str(cfg)]))


def test_json_logs_are_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    collector, server = build(SPEC, ["--demo.address", "demo:1", "--log.format", "json"])
    server.server_close()
    collector.close()
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert json.loads(line)["msg"] == "listening"
