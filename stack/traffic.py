"""A steady synthetic client for the demo: low rate, a small realistic mix of errors and slow answers.

Requests go through the front door (HAProxy's HTTPS front end for the web app, its API front end
for the API) to the app servers, and `/db` requests on to PostgreSQL through PgBouncer, so every
dashboard and SLO has data. `python -m stack traffic --rate N --error-ratio X` writes the wanted
settings to `<stack>/traffic.json` and starts the client when it is not running; the running
client re-reads that file every second. `python -m stack traffic --stop` (and `stack down`) stop it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import ssl
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from stack import process
from stack.layout import Layout, default_layout

NAME = "traffic"
MAX_RATE = 50.0
MAX_IN_FLIGHT = 16
TIMEOUT_SECONDS = 5.0
#: Ordinary requests and their weights; `/db` runs one transaction through PgBouncer.
PATHS = ("/", "/db", "/api/items")
WEIGHTS = (4.0, 4.0, 2.0)


@dataclass(frozen=True)
class TrafficSettings:
    """What the client sends.

    Attributes:
        rate: Requests per second (0 pauses the client).
        error_ratio: Share of requests asking the app for a 500.
        slow_ratio: Share of requests answered after 0.3 to 1.5 s.
    """

    rate: float = 2.0
    error_ratio: float = 0.0005  # half the 99.9 % budget: the budget visibly burns, no alert fires
    slow_ratio: float = 0.005  # half the latency SLO's 1 % budget over 250 ms: it burns, no alert

    def __post_init__(self) -> None:
        if not 0 <= self.rate <= MAX_RATE:
            raise ValueError(f"--rate must lie in [0, {MAX_RATE:g}] requests per second")
        for name in ("error_ratio", "slow_ratio"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"--{name.replace('_', '-')} must lie in [0, 1]")


def front_door(layout: Layout) -> dict[str, str]:
    """Base URLs of the front door by frontend, on the front-door VIP (whichever HAProxy holds it)."""
    return {
        "web": f"https://{layout.addr('haproxy.https')}",
        "api": f"http://{layout.addr('haproxy.api')}",
    }


def control_file(layout: Layout) -> Path:
    """Where the wanted settings live."""
    return layout.path(f"{NAME}.json")


def read_settings(path: Path, current: TrafficSettings) -> TrafficSettings:
    """The settings in ``path``; ``current`` when the file is missing or invalid."""
    try:
        return TrafficSettings(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return current


def write_settings(path: Path, settings: TrafficSettings) -> None:
    """Write the settings atomically (the client never reads half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(settings)) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def pick(rng: random.Random, settings: TrafficSettings) -> tuple[str, str]:
    """One request: (frontend, path) drawn from the mix."""
    frontend = "web" if rng.random() < 0.7 else "api"
    draw = rng.random()
    if draw < settings.error_ratio:
        return frontend, "/status/500"
    if draw < settings.error_ratio + settings.slow_ratio:
        return frontend, f"/slow?ms={rng.randint(300, 1500)}"
    return frontend, rng.choices(PATHS, WEIGHTS)[0]


def tls_context(layout: Layout) -> ssl.SSLContext:
    """Trust the stack's own self-signed certificate (the front-door VIP is in its SAN)."""
    return ssl.create_default_context(cafile=str(layout.path("tls", "web.crt")))


def run(layout: Layout, stop: threading.Event, seed: int | None = None) -> None:
    """Send requests at the wanted rate until ``stop`` is set; settings re-read every second."""
    rng = random.Random(seed)  # noqa: S311 - a request mix, not a secret
    urls = front_door(layout)
    settings = read_settings(control_file(layout), TrafficSettings())
    in_flight = threading.BoundedSemaphore(MAX_IN_FLIGHT)
    with (
        httpx.Client(verify=tls_context(layout), timeout=TIMEOUT_SECONDS) as client,
        ThreadPoolExecutor(MAX_IN_FLIGHT) as pool,
    ):

        def send(url: str) -> None:
            try:
                client.get(url)
            except httpx.HTTPError:
                pass  # the stack is down or failing over: the dashboards show it
            finally:
                in_flight.release()

        next_read = next_send = time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            if now >= next_read:
                settings = read_settings(control_file(layout), settings)
                next_read = now + 1.0
            if settings.rate <= 0:
                stop.wait(1.0)
                next_send = time.monotonic()
                continue
            if now >= next_send:
                if in_flight.acquire(blocking=False):  # never pile up more than MAX_IN_FLIGHT
                    frontend, path = pick(rng, settings)
                    pool.submit(send, urls[frontend] + path)
                next_send = max(next_send + 1.0 / settings.rate, now - 1.0)
            stop.wait(max(0.0, min(next_send, next_read) - time.monotonic()))


def ensure_running(layout: Layout) -> int:
    """Start the client detached unless it runs; returns its pid."""
    pid = process.running_pid(layout.pidfile(NAME))
    if pid is not None:
        return pid
    argv = [
        layout.python,
        "-m",
        "stack.traffic",
        "--dir",
        str(layout.root),
        "--port-offset",
        str(layout.offset),
    ]
    return process.spawn(argv, log=layout.log(NAME), pidfile=layout.pidfile(NAME))


def stop_client(layout: Layout) -> bool:
    """Stop the client if it runs; True when one was stopped."""
    pid = process.running_pid(layout.pidfile(NAME))
    if pid is None:
        return False
    process.terminate(pid, timeout=10)
    layout.pidfile(NAME).unlink(missing_ok=True)
    return True


def command(layout: Layout, rate: float | None, error_ratio: float | None, stop: bool) -> int:
    """`python -m stack traffic`: change the settings and make sure the client runs (or stop it)."""
    if stop:
        print("traffic: stopped" if stop_client(layout) else "traffic: not running")
        return 0
    current = read_settings(control_file(layout), TrafficSettings())
    try:
        wanted = TrafficSettings(
            rate=current.rate if rate is None else rate,
            error_ratio=current.error_ratio if error_ratio is None else error_ratio,
            slow_ratio=current.slow_ratio,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if process.running_pid(layout.pidfile("haproxy-a")) is None:
        print("error: the stack is not running (start it with `python -m stack up`)", file=sys.stderr)
        return 1
    write_settings(control_file(layout), wanted)
    pid = ensure_running(layout)
    doors = ", ".join(front_door(layout).values())
    print(f"traffic: {wanted.rate:g} req/s, error ratio {wanted.error_ratio:g}, "
          f"slow ratio {wanted.slow_ratio:g} (pid {pid}) to {doors}")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> None:
    """Run the client in the foreground until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", help="stack state directory")
    parser.add_argument("--port-offset", type=int)
    args = parser.parse_args(argv)
    layout = default_layout(args.dir, args.port_offset)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run(layout, stop)


if __name__ == "__main__":
    main()
