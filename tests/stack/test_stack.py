"""The running stack: every component up, on loopback, wired as the design says."""

from __future__ import annotations

import smtplib
import socket
import ssl
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import httpx
import psycopg
import pytest

from stack.components.patroni import NODES, Patroni, cluster_state
from stack.ports import PORTS
from stack.runner import Stack
from stack.sink import read_mail

pytestmark = pytest.mark.stack


def _listening_sockets(pid: int) -> dict[int, str]:
    """inode -> "addr:port" of every listening TCP socket in the network namespace of `pid`."""
    out: dict[int, str] = {}
    for table in (f"/proc/{pid}/net/tcp", f"/proc/{pid}/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[3] != "0A":  # LISTEN
                continue
            hexaddr, hexport = f[1].split(":")
            if len(hexaddr) == 8:
                addr = socket.inet_ntop(socket.AF_INET, bytes.fromhex(hexaddr)[::-1])
            else:
                raw = bytes.fromhex(hexaddr)
                addr = socket.inet_ntop(
                    socket.AF_INET6, b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                )
            out[int(f[9])] = f"{addr}:{int(hexport, 16)}"
    return out


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().as_posix()
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def test_every_component_is_up(stack: Stack) -> None:
    rows = stack.status()
    assert {r.name for r in rows} >= {
        "etcd-1",
        "pg-1",
        "pg-2",
        "pg-3",
        "haproxy-a",
        "haproxy-b",
        "keepalived-lb-a",
        "keepalived-lb-b",
        "pgbouncer-a",
        "pgbouncer-b",
        "keepalived-pgb-a",
        "keepalived-pgb-b",
        "vip-frontdoor",
        "vip-pgbouncer",
        "prometheus",
        "alertmanager",
        "sink",
    }
    assert [r.name for r in rows if not r.up] == []


def test_everything_listens_on_this_stacks_addresses_only(stack: Stack) -> None:
    """127.0.0.1, the bridge's address, the namespaces' own addresses and the two VIPs: nothing else."""
    net = stack.layout.net
    allowed = {"127.0.0.1", net.bridge_ip, net.vip("frontdoor"), net.vip("pgbouncer")}
    allowed |= {net.node_ip(n) for n in net.nodes}
    pids = [r.pid for r in stack.status() if r.pid]
    pids += [p for n in NODES if (p := _postmaster(stack, n))]
    seen: dict[str, set[str]] = {}
    for pid in pids:
        listening = _listening_sockets(pid)
        for inode in _socket_inodes(pid) & listening.keys():
            host = listening[inode].rsplit(":", 1)[0]
            seen.setdefault(host, set()).add(listening[inode])
    assert set(seen) - allowed == set()
    assert sum(len(a) for a in seen.values()) >= 30
    vip = net.vip("frontdoor")
    # Both HAProxy nodes bind the front door on the VIP; PostgreSQL also on the bridge's address.
    assert {f"{vip}:{stack.port('haproxy.https')}", f"{vip}:{stack.port('haproxy.pg-primary')}"} <= seen[vip]
    assert f"{net.vip('pgbouncer')}:{stack.port('pgbouncer')}" in seen[net.vip("pgbouncer")]
    assert {f"{net.bridge_ip}:{stack.port(n)}" for n in NODES} <= seen[net.bridge_ip]
    assert f"127.0.0.1:{stack.port('pg-1')}" in seen["127.0.0.1"]


def _postmaster(stack: Stack, node: str) -> int | None:
    comp = stack.component(node)
    assert isinstance(comp, Patroni)
    return comp.postmaster_pid()


def test_postgresql_runs_as_postgres_user_with_synchronous_mode(stack: Stack) -> None:
    for node in NODES:
        pid = _postmaster(stack, node)
        assert pid is not None, f"{node}: no postmaster"
        uid_line = next(
            ln for ln in Path(f"/proc/{pid}/status").read_text().splitlines() if ln.startswith("Uid:")
        )
        assert uid_line.split()[1] != "0"
    config = httpx.get(f"http://{stack.addr('patroni-1')}/config", timeout=5).json()
    assert config["synchronous_mode"] is True
    state = cluster_state(stack.layout)
    assert state is not None
    roles = sorted(m["role"] for m in state["members"])
    assert roles.count("leader") == 1 and "sync_standby" in roles


def test_request_flow_through_the_vips_tls_haproxy_app_pgbouncer_to_primary(stack: Stack) -> None:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    net = stack.layout.net
    port = stack.port("haproxy.https")
    # The VIP (held by lb-a) and each node's own address (the passive node serves too).
    for host in (stack.layout.host("haproxy"), net.node_ip("lb-a"), net.node_ip("lb-b")):
        with httpx.Client(verify=ctx, timeout=10) as client:
            r = client.get(f"https://{host}:{port}/db")
        assert r.status_code == 200, r.text
        assert r.text.endswith("db 1\n")
        assert r.text.split(":")[0] in ("app-1", "app-2", "app-3")


def test_haproxy_sockets_and_promex(stack: Stack) -> None:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(stack.path("run", "haproxy-a.sock")))
        s.sendall(b"show info\n")
        info = b"".join(iter(lambda: s.recv(65536), b"")).decode()
    assert "Name: HAProxy" in info
    with socket.create_connection(
        (stack.layout.host("haproxy-b.stats"), stack.port("haproxy-b.stats")), timeout=5
    ) as s:
        s.sendall(b"show stat\n")
        stat = b"".join(iter(lambda: s.recv(65536), b"")).decode()
    assert stat.startswith("# pxname,svname,")
    assert "pg_primary,pg-" in stat
    metrics = httpx.get(f"http://{stack.addr('haproxy-a.promex')}/metrics", timeout=10).text
    assert 'haproxy_backend_active_servers{proxy="web"} 3' in metrics


def test_pgbouncer_transaction_pooling_admin_and_stats_users(stack: Stack) -> None:
    def console(user: str, secret: str) -> psycopg.Connection:
        return psycopg.connect(
            host=stack.layout.host("pgbouncer"),
            port=stack.port("pgbouncer"),
            dbname="pgbouncer",
            user=user,
            password=stack.secret(secret),
            autocommit=True,
            prepare_threshold=None,
        )

    with console("nines_admin", "pgbouncer_admin") as admin:
        cur = admin.cursor()
        cur.execute("SHOW CONFIG")
        config = {row[0]: row[1] for row in cur.fetchall()}
    assert config["pool_mode"] == "transaction"
    net = stack.layout.net
    assert config["listen_addr"] == f"{net.vip('pgbouncer')},{net.node_ip('pgb-a')}"
    with console("nines_stats", "pgbouncer_stats") as stats:
        cur = stats.cursor()
        cur.execute("SHOW POOLS")
        assert any(row[0] == "app" for row in cur.fetchall())
        with pytest.raises(psycopg.Error, match="admin"):
            cur.execute("PAUSE app")


def test_sink_stores_mail_and_stack_mail_lists_it(stack: Stack) -> None:
    msg = EmailMessage()
    msg["From"] = "test@nines.local"
    msg["To"] = "oncall@nines.local"
    msg["Subject"] = "sink check 7f3a"
    msg.set_content("hello")
    with smtplib.SMTP("127.0.0.1", stack.port("smtp"), timeout=10) as smtp:
        smtp.send_message(msg)
    assert any(m.subject == "sink check 7f3a" for m in read_mail(stack.path("sink", "mail")))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "stack",
            "--dir",
            str(stack.layout.root),
            "--port-offset",
            str(stack.layout.offset),
            "mail",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "sink check 7f3a" in out


def test_stopped_component_restarts(stack: Stack) -> None:
    old = stack.pid("app-3")
    stack.stop_component("app-3")
    assert stack.pid("app-3") is None
    new = stack.start_component("app-3")
    assert new != old and stack.pid("app-3") == new


def test_prometheus_scrapes_every_component_with_cluster_and_component_labels(stack: Stack) -> None:
    url = f"http://{stack.addr('prometheus')}/api/v1/targets"
    deadline = time.monotonic() + 90
    while True:
        targets = httpx.get(url, timeout=10).json()["data"]["activeTargets"]
        down = [t["scrapeUrl"] for t in targets if t["health"] != "up"]
        if not down or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert down == []
    jobs = {t["labels"]["job"] for t in targets}
    assert {"prometheus", "alertmanager", "etcd", "haproxy", "pgbouncer", "patroni"} <= jobs
    for t in targets:
        assert t["labels"].get("cluster") == "demo", t["scrapeUrl"]
        assert t["labels"].get("component"), t["scrapeUrl"]
    # Ports are shifted by the stack's offset; absent components (etcd-2/3 here) are not scraped.
    ports = {int(t["scrapeUrl"].split(":")[2].split("/")[0]) - stack.layout.offset for t in targets}
    assert ports <= set(PORTS.values())
    assert sum(t["labels"]["job"] == "etcd" for t in targets) == stack.layout.etcd_members
