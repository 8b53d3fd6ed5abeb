"""A small fake Patroni REST API for the benchmark only: many nodes on consecutive ports.

`python fake_patroni.py --base-port P --clusters 10 --latency-ms 50 --hang 3` serves 10 clusters
of 3 nodes on ports P..P+29 (127.0.0.1). Each answer waits `--latency-ms`; the first `--hang`
nodes never answer in time (they wait 60 s). Prints "ready" when every port listens.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def documents(port: int, base: int, members: int) -> dict[str, object]:
    """`/patroni`, `/cluster` and `/history` of the node on `port`."""
    k, j = divmod(port - base, members)
    scope = f"bench-{k}"
    names = [f"{scope}-{i}" for i in range(members)]
    ports = [base + k * members + i for i in range(members)]
    leader = j == 0
    node: dict[str, object] = {
        "state": "running",
        "postmaster_start_time": "2026-01-01 00:00:00.000000+00:00",
        "role": "master" if leader else "replica",
        "server_version": 150020,
        "timeline": 2,
        "dcs_last_seen": int(time.time()),
        "database_system_identifier": str(7300000000000000000 + k),
        "patroni": {"version": "3.0.2", "scope": scope},
    }
    if leader:
        node["xlog"] = {"location": 67109000}
    else:
        node["xlog"] = {
            "received_location": 67109000,
            "replayed_location": 67109000,
            "replayed_timestamp": "2026-01-01 00:00:01.000000+00:00",
            "paused": False,
        }
        node["sync_standby"] = j == 1
    cluster = {
        "members": [
            {
                "name": names[i],
                "role": "leader" if i == 0 else ("sync_standby" if i == 1 else "replica"),
                "state": "running",
                "api_url": f"http://127.0.0.1:{ports[i]}/patroni",
                "host": "127.0.0.1",
                "port": 5432 + i,
                "timeline": 2,
                **({} if i == 0 else {"lag": 0}),
            }
            for i in range(members)
        ]
    }
    history = [[1, 25165984, "no recovery target specified", "2026-01-01T00:00:00+00:00", names[0]]]
    return {"/patroni": node, "/cluster": cluster, "/history": history}


def serve(port: int, base: int, members: int, delay: float) -> ThreadingHTTPServer:
    docs = {path: json.dumps(doc).encode() for path, doc in documents(port, base, members).items()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            time.sleep(delay)
            body = docs.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--base-port", type=int, required=True)
    p.add_argument("--clusters", type=int, default=10)
    p.add_argument("--members", type=int, default=3)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--hang", type=int, default=0, help="how many nodes never answer in time")
    a = p.parse_args()
    n = a.clusters * a.members
    for i in range(n):
        delay = 60.0 if i < a.hang else a.latency_ms / 1000
        serve(a.base_port + i, a.base_port, a.members, delay)
    print("ready", flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    return 0


if __name__ == "__main__":
    sys.exit(main())
