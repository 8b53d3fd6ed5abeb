"""The routing config on a real Alertmanager: inhibition rules, and an alert arriving by email.

Alertmanager (Debian's `prometheus-alertmanager`) runs on 127.0.0.1 with clustering off, with
alertmanager/alertmanager.yml whose SMTP smarthost points at an aiosmtpd server run by this
module. Alerts are posted to its v2 API; the API tells which ones are suppressed and by what.
"""

from __future__ import annotations

import email
import email.policy
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiosmtpd.controller import Controller

from stack.throwaway import free_port, stop, wait_for

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "alertmanager" / "alertmanager.yml"


@dataclass
class Inbox:
    """aiosmtpd handler keeping every message it receives."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        msg["X-Test-Rcpt"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(msg)
        return "250 OK"


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(scope="module")
def alertmanager(inbox: tuple[Inbox, int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Alertmanager with our config (SMTP -> the test's inbox); yields its base URL."""
    home = tmp_path_factory.mktemp("alertmanager")
    cfg = yaml.safe_load(SOURCE.read_text())
    cfg["global"]["smtp_smarthost"] = f"127.0.0.1:{inbox[1]}"
    cfg["templates"] = [str(SOURCE.parent / t) for t in cfg["templates"]]
    dead = f"http://127.0.0.1:{free_port()}/"  # webhooks go nowhere here: only mail is checked
    for receiver in cfg["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = dead
    (home / "alertmanager.yml").write_text(yaml.safe_dump(cfg))
    port = free_port()
    with (home / "log").open("w") as log:
        proc = subprocess.Popen(
            [
                "prometheus-alertmanager",
                f"--config.file={home / 'alertmanager.yml'}",
                f"--storage.path={home / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                f"--web.external-url=http://127.0.0.1:{port}/",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool | None:
        assert proc.poll() is None, (home / "log").read_text()
        try:
            return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200 or None
        except httpx.HTTPError:
            return None

    try:
        wait_for(ready, 60, "Alertmanager ready", step=0.2)
        yield url
    finally:
        stop(proc, 15)


def _alert(**labels: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "labels": labels,
        "annotations": {"summary": f"{labels['alertname']} test"},
        "startsAt": (now - timedelta(minutes=1)).isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
        "generatorURL": "http://127.0.0.1:9090/graph",
    }


def _post(url: str, alerts: list[dict[str, Any]]) -> None:
    resp = httpx.post(f"{url}/api/v2/alerts", json=alerts, timeout=10)
    assert resp.status_code == 200, resp.text


def _key(labels: dict[str, str]) -> tuple[str, ...]:
    return (
        labels["alertname"],
        labels["severity"],
        labels.get("cluster", ""),
        labels.get("proxy", labels.get("target", "")),
    )


def _states(url: str, cluster_prefix: str) -> dict[tuple[str, ...], str]:
    resp = httpx.get(f"{url}/api/v2/alerts", timeout=10)
    resp.raise_for_status()
    return {
        _key(a["labels"]): a["status"]["state"]
        for a in resp.json()
        if a["labels"].get("cluster", "").startswith(cluster_prefix)
    }


def test_inhibition_rules(alertmanager: str) -> None:
    q = {"target": "haproxy-a", "service": "haproxy"}
    alerts = [
        # critical hides the warning tier of the same alert on the same backend only
        _alert(alertname="HaproxyBackendQueueing", severity="critical", cluster="inh-1", proxy="web", **q),
        _alert(alertname="HaproxyBackendQueueing", severity="warning", cluster="inh-1", proxy="web", **q),
        _alert(alertname="HaproxyBackendQueueing", severity="warning", cluster="inh-1", proxy="api", **q),
        # warning hides info of the same alert
        _alert(
            alertname="HaproxyServerMaintenance",
            severity="warning",
            cluster="inh-1",
            proxy="admin",
            server="app-3",
            **q,
        ),
        _alert(
            alertname="HaproxyServerMaintenance",
            severity="info",
            cluster="inh-1",
            proxy="admin",
            server="app-3",
            **q,
        ),
        # no Patroni leader hides the member-level symptoms in its cluster, not in another one
        _alert(
            alertname="PatroniNoLeader",
            severity="critical",
            cluster="inh-2",
            scope="nines",
            service="postgresql",
        ),
        _alert(
            alertname="PatroniMemberDown",
            severity="warning",
            cluster="inh-2",
            target="pg-1",
            service="postgresql",
        ),
        _alert(
            alertname="PatroniReplicationLag",
            severity="critical",
            cluster="inh-2",
            target="pg-2",
            service="postgresql",
        ),
        _alert(
            alertname="HaproxyPostgresPrimaryMissing",
            severity="critical",
            cluster="inh-2",
            proxy="pg_primary",
            service="haproxy",
        ),
        _alert(
            alertname="PatroniMemberDown",
            severity="warning",
            cluster="inh-3",
            target="pg-1",
            service="postgresql",
        ),
        # etcd without quorum hides etcd member alerts and Patroni losing the DCS
        _alert(alertname="EtcdInsufficientMembers", severity="critical", cluster="inh-4", service="etcd"),
        _alert(alertname="EtcdMemberDown", severity="warning", cluster="inh-4", target="e2", service="etcd"),
        _alert(alertname="EtcdNoLeader", severity="critical", cluster="inh-4", target="e1", service="etcd"),
        _alert(
            alertname="EtcdHighGrpcErrorRatio",
            severity="critical",
            cluster="inh-4",
            target="e3",
            service="etcd",
        ),
        _alert(
            alertname="PatroniDcsNotSeen",
            severity="warning",
            cluster="inh-4",
            target="pg-1",
            service="postgresql",
        ),
        # ... but not a cluster-level Patroni alert
        _alert(
            alertname="PatroniNoLeader",
            severity="critical",
            cluster="inh-4",
            scope="nines",
            service="postgresql",
        ),
    ]
    _post(alertmanager, alerts)
    expected = {
        ("HaproxyBackendQueueing", "critical", "inh-1", "web"): "active",
        ("HaproxyBackendQueueing", "warning", "inh-1", "web"): "suppressed",
        ("HaproxyBackendQueueing", "warning", "inh-1", "api"): "active",
        ("HaproxyServerMaintenance", "warning", "inh-1", "admin"): "active",
        ("HaproxyServerMaintenance", "info", "inh-1", "admin"): "suppressed",
        ("PatroniNoLeader", "critical", "inh-2", ""): "active",
        ("PatroniMemberDown", "warning", "inh-2", "pg-1"): "suppressed",
        ("PatroniReplicationLag", "critical", "inh-2", "pg-2"): "suppressed",
        ("HaproxyPostgresPrimaryMissing", "critical", "inh-2", "pg_primary"): "suppressed",
        ("PatroniMemberDown", "warning", "inh-3", "pg-1"): "active",
        ("EtcdInsufficientMembers", "critical", "inh-4", ""): "active",
        ("EtcdMemberDown", "warning", "inh-4", "e2"): "suppressed",
        ("EtcdNoLeader", "critical", "inh-4", "e1"): "suppressed",
        ("EtcdHighGrpcErrorRatio", "critical", "inh-4", "e3"): "suppressed",
        ("PatroniDcsNotSeen", "warning", "inh-4", "pg-1"): "suppressed",
        ("PatroniNoLeader", "critical", "inh-4", ""): "active",
    }
    last: dict[tuple[str, ...], str] = {}

    def settled() -> bool | None:
        nonlocal last
        last = _states(alertmanager, "inh-")
        return last == expected or None

    try:
        wait_for(settled, 30, "inhibitions to settle", step=0.2)
    except TimeoutError:
        assert last == expected

    # the API names the inhibiting alert
    resp = httpx.get(f"{alertmanager}/api/v2/alerts", params={"filter": 'cluster="inh-2"'}, timeout=10)
    by_name = {a["labels"]["alertname"]: a for a in resp.json()}
    leader = by_name["PatroniNoLeader"]["fingerprint"]
    assert by_name["PatroniMemberDown"]["status"]["inhibitedBy"] == [leader]


def test_alert_arrives_as_email(alertmanager: str, inbox: tuple[Inbox, int]) -> None:
    box, _ = inbox
    description = "The exporter cannot query the admin console of PgBouncer pgbouncer-1 <for 1m>."
    alert = _alert(
        alertname="PgbouncerDown",
        severity="critical",
        cluster="mail",
        service="pgbouncer",
        target="pgbouncer-1",
        job="pgbouncer",
    )
    alert["annotations"] = {
        "summary": "PgBouncer pgbouncer-1 is down",
        "description": description,
        "runbook_url": "docs/runbooks.md#pgbouncerdown",
    }
    _post(alertmanager, [alert])

    def arrived() -> EmailMessage | None:
        for msg in box.messages:
            if "PgbouncerDown" in str(msg["Subject"]):
                return msg
        return None

    msg = wait_for(arrived, 90, "the PgbouncerDown email", step=0.2)
    assert str(msg["Subject"]) == "[FIRING:1] CRITICAL PgbouncerDown (mail): PgBouncer pgbouncer-1 is down"
    assert msg["X-Test-Rcpt"] == "oncall@nines.local"
    assert str(msg["From"]) == "nines-alerts@nines.local"
    html_part = msg.get_body(preferencelist=("html",))
    text_part = msg.get_body(preferencelist=("plain",))
    assert html_part is not None and text_part is not None
    html = html_part.get_content()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "max-width:600px" in html
    assert "PgBouncer pgbouncer-1 is down" in html
    # descriptions are escaped, not injected as markup
    assert "&lt;for 1m&gt;" in html and "<for 1m>" not in html
    assert 'href="docs/runbooks.md#pgbouncerdown"' in html
    assert "target: <b>pgbouncer-1</b>" in html
    text = text_part.get_content()
    assert "Runbook: docs/runbooks.md#pgbouncerdown" in text
    assert description in text


def test_keepalived_down_inhibits_that_node_only(alertmanager: str) -> None:
    k = {"service": "keepalived", "iname": "VI_front", "vrid": "51"}
    alerts = [
        _alert(
            alertname="KeepalivedDown",
            severity="warning",
            cluster="inh-ka",
            target="lb-a",
            service="keepalived",
        ),
        # that node's other keepalived alerts are explained by it ...
        _alert(alertname="KeepalivedVipMissing", severity="critical", cluster="inh-ka", target="lb-a", **k),
        _alert(
            alertname="KeepalivedPriorityLowered", severity="warning", cluster="inh-ka", target="lb-a", **k
        ),
        # ... not the other node's, nor the pair's, nor the same node name in another cluster
        _alert(
            alertname="KeepalivedBackupCannotTakeOver",
            severity="warning",
            cluster="inh-ka",
            target="lb-b",
            **k,
        ),
        _alert(alertname="KeepalivedNoMaster", severity="critical", cluster="inh-ka", **k),
        _alert(alertname="KeepalivedVipMissing", severity="critical", cluster="inh-kb", target="lb-a", **k),
    ]
    _post(alertmanager, alerts)
    expected = {
        ("KeepalivedDown", "warning", "inh-ka", "lb-a"): "active",
        ("KeepalivedVipMissing", "critical", "inh-ka", "lb-a"): "suppressed",
        ("KeepalivedPriorityLowered", "warning", "inh-ka", "lb-a"): "suppressed",
        ("KeepalivedBackupCannotTakeOver", "warning", "inh-ka", "lb-b"): "active",
        ("KeepalivedNoMaster", "critical", "inh-ka", ""): "active",
        ("KeepalivedVipMissing", "critical", "inh-kb", "lb-a"): "active",
    }
    last: dict[tuple[str, ...], str] = {}

    def settled() -> bool | None:
        nonlocal last
        last = _states(alertmanager, "inh-k")
        return last == expected or None

    try:
        wait_for(settled, 30, "keepalived inhibitions to settle", step=0.2)
    except TimeoutError:
        assert last == expected
