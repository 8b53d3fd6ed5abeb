"""The demo's synthetic client: its mix, its settings file, and real requests through the stack."""

from __future__ import annotations

import random
import re
import threading
from pathlib import Path

import httpx
import pytest

from stack.layout import Layout
from stack.traffic import TrafficSettings, front_door, pick, read_settings, run, write_settings


def test_the_mix_follows_the_settings() -> None:
    rng = random.Random(7)
    settings = TrafficSettings(rate=5, error_ratio=0.1, slow_ratio=0.2)
    draws = [pick(rng, settings) for _ in range(20_000)]
    errors = sum(path == "/status/500" for _, path in draws) / len(draws)
    slow = sum(path.startswith("/slow?ms=") for _, path in draws) / len(draws)
    web = sum(door == "web" for door, _ in draws) / len(draws)
    assert abs(errors - 0.1) < 0.01 and abs(slow - 0.2) < 0.015 and abs(web - 0.7) < 0.015
    assert {path for _, path in draws if not path.startswith(("/slow", "/status"))} == {
        "/",
        "/db",
        "/api/items",
    }


def test_settings_are_validated_and_survive_a_bad_file(tmp_path: Path) -> None:
    for bad in ({"rate": -1}, {"rate": 51}, {"error_ratio": 1.5}, {"slow_ratio": -0.1}):
        with pytest.raises(ValueError):
            TrafficSettings(**bad)  # type: ignore[arg-type]
    path = tmp_path / "traffic.json"
    write_settings(path, TrafficSettings(rate=3, error_ratio=0.05))
    assert read_settings(path, TrafficSettings()) == TrafficSettings(rate=3, error_ratio=0.05)
    path.write_text('{"rate": "many"')
    current = TrafficSettings(rate=1)
    assert read_settings(path, current) is current


def test_the_front_door_is_haproxys_https_and_api_frontends_on_the_vip(tmp_path: Path) -> None:
    layout = Layout(tmp_path, offset=100)
    vip = layout.net.vip("frontdoor")
    assert vip == "198.18.0.10"
    assert front_door(layout) == {"web": f"https://{vip}:8543", "api": f"http://{vip}:8181"}


def _web_5xx(promex: str) -> float:
    text = httpx.get(promex, timeout=10).text
    pattern = r'^haproxy_backend_http_responses_total\{proxy="web",code="5xx"\} (\S+)$'
    return sum(float(v) for v in re.findall(pattern, text, re.M))


@pytest.mark.stack
def test_traffic_reaches_the_apps_through_haproxys_https_front_end(stack) -> None:  # type: ignore[no-untyped-def]
    layout = stack.layout
    promex = f"http://{layout.addr('haproxy-a.promex')}/metrics"
    before = _web_5xx(promex)
    own = Layout(layout.root / "traffic-test", offset=layout.offset)
    (own.root / "tls").mkdir(parents=True, exist_ok=True)
    (own.root / "tls" / "web.crt").write_bytes(layout.path("tls", "web.crt").read_bytes())
    write_settings(own.path("traffic.json"), TrafficSettings(rate=20, error_ratio=0.5, slow_ratio=0.0))
    stop = threading.Event()
    worker = threading.Thread(target=run, args=(own, stop, 1))
    worker.start()
    stop.wait(4.0)
    stop.set()
    worker.join(timeout=15)
    assert not worker.is_alive()
    # promex counts what HAProxy's web backend answered: the 500s came through the TLS front end
    assert _web_5xx(promex) - before >= 10
    served = httpx.get(
        front_door(layout)["web"] + "/db", verify=str(layout.path("tls", "web.crt")), timeout=10
    )
    assert served.status_code == 200 and "db 1" in served.text


def test_the_command_refuses_a_stack_that_is_not_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stack.traffic import command

    assert command(Layout(tmp_path), rate=3, error_ratio=None, stop=False) == 1
    assert "not running" in capsys.readouterr().err
    assert not (tmp_path / "traffic.json").exists()
    assert command(Layout(tmp_path), rate=-1, error_ratio=None, stop=False) == 2
    assert command(Layout(tmp_path), rate=None, error_ratio=None, stop=True) == 0
    assert "not running" in capsys.readouterr().out
