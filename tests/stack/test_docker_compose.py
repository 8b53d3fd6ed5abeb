"""docker-compose.yml is valid Compose and its users, volumes, sockets and secrets fit together.

No Docker engine runs here (nor in CI), so nothing is started: the file is validated against the
Compose Specification's JSON schema (tests/fixtures/compose/), and file ownership is worked out
the way the kernel would from what the file says: who each service runs as, what the one-shot
`init` service does to each volume, the HAProxy stats socket's mode and group, and the secrets.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest
import yaml

from stack.layout import REPO

SCHEMA = json.loads((REPO / "tests" / "fixtures" / "compose" / "compose-spec.json").read_text())
COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
# services that run as root with Docker's default capabilities: etcd's image has no other user;
# init prepares the volumes
ROOT = {"init", "etcd-1", "etcd-2", "etcd-3"}
# services that run as root with these capabilities only: keepalived adds the VIP (NET_ADMIN), speaks
# VRRP on a raw socket (NET_RAW) and calls setgroups before each script (SETGID); the keepalived
# exporter signals keepalived for its dumps, which its uid alone allows (no capability)
CAPPED = {
    **{f"keepalived-{n}": {"NET_ADMIN", "NET_RAW", "SETGID"} for n in ("lb-a", "lb-b", "pgb-a", "pgb-b")},
    "keepalived-exporter": set(),
}
# Docker's default capability set holds DAC_OVERRIDE: such a root ignores file modes
DEFAULT_CAPS = frozenset({"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID"})
CHOWN = re.compile(r"chown (\d+):(\d+) (\S+) && chmod ([0-7]{3,4}) (\S+)")
R, W, X = 4, 2, 1


@dataclass(frozen=True)
class Node:
    """A file or directory as init leaves it."""

    uid: int
    gid: int
    mode: int


@dataclass(frozen=True)
class Who:
    """A process's credentials: its uid and every gid it holds."""

    uid: int
    gids: frozenset[int]
    caps: frozenset[str] = frozenset()


def _who(service: dict[str, Any]) -> Who:
    uid, gid = (int(x) for x in service["user"].split(":"))
    caps = frozenset() if "ALL" in service.get("cap_drop", []) else DEFAULT_CAPS
    caps |= frozenset(service.get("cap_add", []))
    return Who(
        uid,
        frozenset({gid, *(int(g) for g in service.get("group_add", []))}),
        caps if uid == 0 else frozenset(),
    )


def may(who: Who, node: Node, want: int) -> bool:
    """Unix permission check (no ACLs): root with DAC_OVERRIDE may all, else owner bits, else group
    bits, else other bits."""
    if who.uid == 0 and "DAC_OVERRIDE" in who.caps:
        return True
    if who.uid == node.uid:
        bits = node.mode >> 6
    elif node.gid in who.gids:
        bits = node.mode >> 3
    else:
        bits = node.mode
    return bits & want == want


def _prepared() -> dict[str, Node]:
    """Path under /volumes -> owner and mode, from init's script."""
    if "init" not in SERVICES:
        return {}
    script = SERVICES["init"]["command"][-1]
    nodes = {}
    for uid, gid, path, mode, path2 in CHOWN.findall(script):
        assert path == path2, f"init chowns {path} but chmods {path2}"
        nodes[path.removeprefix("/volumes/")] = Node(int(uid), int(gid), int(mode, 8))
    return nodes


PREPARED = _prepared()


def _named_mounts(service: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(volume, container path, read-only) for each named volume the service mounts."""
    out = []
    for spec in service.get("volumes", []):
        source, target, *opts = spec.split(":")
        if not source.startswith((".", "/")):
            out.append((source, target, "ro" in opts))
    return out


def test_the_file_is_valid_against_the_compose_spec_schema() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    errors = [f"{e.json_path}: {e.message}" for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(COMPOSE)]
    assert errors == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("services", "sloapi", "netwrok_mode"), "host"),
        (("services", "sloapi", "volumes"), "sloapi:/var/lib/nines"),
        (("secrets", "monitor", "environmnet"), "X"),
    ],
)
def test_the_schema_rejects_a_broken_file(path: tuple[str, ...], value: Any) -> None:
    broken = copy.deepcopy(COMPOSE)
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert list(jsonschema.Draft7Validator(SCHEMA).iter_errors(broken))


def test_needs_compose_v2_and_the_readme_says_which() -> None:
    # top-level `name` and secrets from the environment: Debian's docker-compose 1.29 rejects both
    assert COMPOSE["name"] == "nines"
    assert all("environment" in s for s in COMPOSE["secrets"].values())
    readme = (REPO / "README.md").read_text()
    assert re.search(r"`docker-compose.yml`.*Compose v2\.23 or later", readme)


def test_every_service_but_the_root_ones_names_a_user() -> None:
    for name, service in SERVICES.items():
        if (
            name in ROOT
            or "user" in service
            or name in {"alertmanager", "grafana", "pgbouncer-a", "pgbouncer-b"}
        ):
            continue
        pytest.fail(f"{name} runs as its image's default user; name it in stack/docker.py")
    assert SERVICES.get("init", {}).get("user") == "0:0", "no init service prepares the volumes as root"
    root = {n for n, s in SERVICES.items() if s.get("user", "").startswith("0:")}
    assert root == {"init", *CAPPED}
    for name, caps in CAPPED.items():
        assert (SERVICES[name]["cap_drop"], set(SERVICES[name].get("cap_add", []))) == (["ALL"], caps), name
    assert not [n for n, s in SERVICES.items() if s.get("privileged") or (n not in CAPPED and "cap_add" in s)]


def test_each_volume_a_service_writes_is_prepared_for_its_user() -> None:
    checked = 0
    for name, service in SERVICES.items():
        if name in ROOT:
            continue
        for volume, target, read_only in _named_mounts(service):
            assert volume in PREPARED, f"{name} mounts {volume}, which init does not prepare"
            assert "init" in service.get("depends_on", {}), f"{name} may start before init"
            assert service["depends_on"]["init"]["condition"] == "service_completed_successfully"
            want = R | X if read_only else R | W | X
            assert may(_who(service), PREPARED[volume], want), f"{name} cannot use {volume} at {target}"
            checked += 1
    assert checked >= 9


def test_no_volume_is_written_by_two_users() -> None:
    writers: dict[str, set[str]] = {}
    for name, service in SERVICES.items():
        for volume, _, read_only in _named_mounts(service):
            if not read_only and name != "init":
                writers.setdefault(volume, set()).add(service.get("user", "root"))
    assert {v: u for v, u in writers.items() if len(u) > 1} == {}


def test_the_haproxy_exporter_can_reach_the_stats_sockets_haproxy_creates() -> None:
    exporter = _who(SERVICES["haproxy-exporter"])
    targets = yaml.safe_load((REPO / "docker" / "exporters" / "haproxy-exporter.yml").read_text())["targets"]
    for target in targets:
        path = target["address"].removeprefix("unix:")
        name = target["name"]
        haproxy = _who(SERVICES[name])
        mounts = {t: v for v, t, _ in _named_mounts(SERVICES[name])}
        directory = path.rsplit("/", 1)[0]
        assert mounts.get(directory) == "haproxy-run", f"{name} does not put its socket in haproxy-run"
        assert ("haproxy-run", directory, True) in _named_mounts(SERVICES["haproxy-exporter"])
        cfg = (REPO / "docker" / "haproxy" / f"{name}.cfg").read_text()
        m = re.search(rf"stats socket {re.escape(path)} mode ([0-7]+) gid (\d+) ", cfg)
        assert m, f"{name}: no stats socket with mode and gid at {path}"
        mode, gid = int(m.group(1), 8), int(m.group(2))
        assert gid in haproxy.gids, f"{name} runs as {haproxy} and cannot give its socket gid {gid}"
        socket = Node(haproxy.uid, gid, mode)
        assert may(haproxy, PREPARED["haproxy-run"], W | X), f"{name} cannot create its socket"
        assert may(exporter, PREPARED["haproxy-run"], X), "the exporter cannot enter the socket directory"
        assert may(exporter, socket, R | W), "the exporter cannot connect to the socket (needs write)"
        assert not may(Who(65534, frozenset({65534})), socket, W), "any user could drive HAProxy"


def test_haproxy_reads_its_certificate_and_nobody_else_can() -> None:
    for name in ("haproxy-a", "haproxy-b"):
        haproxy = _who(SERVICES[name])
        assert ("tls", "/etc/haproxy/tls", True) in _named_mounts(SERVICES[name])
        assert may(haproxy, PREPARED["tls"], R | X)
        assert may(haproxy, PREPARED["tls/web.pem"], R)
    stranger = Who(10001, frozenset({10001}))
    assert not may(stranger, PREPARED["tls/web.pem"], R), "the private key is world-readable"
    assert "umask 077" in SERVICES["init"]["command"][-1]


def test_each_exporter_gets_exactly_the_secrets_it_reads_owned_by_its_user() -> None:
    for name in ("haproxy-exporter", "pgbouncer-exporter", "patroni-exporter"):
        service = SERVICES[name]
        config = yaml.safe_load((REPO / "docker" / "exporters" / f"{name}.yml").read_text())
        read = {
            t["password_file"].removeprefix("/run/secrets/")
            for t in config["targets"]
            if "password_file" in t
        }
        given = {s["source"]: s for s in service.get("secrets", [])}
        assert set(given) == read, name
        who = _who(service)
        for secret in given.values():
            assert secret["source"] in COMPOSE["secrets"]
            node = Node(int(secret["uid"]), int(secret["gid"]), secret["mode"])
            assert node.mode == 0o400, f"{name}: {secret['source']} mode {oct(node.mode)}"
            assert may(who, node, R), f"{name} cannot read {secret['source']}"


def _dockerfile_user() -> tuple[str, str, str]:
    text = (REPO / "docker" / "nines.Dockerfile").read_text()
    useradd = re.search(r"useradd .*--uid (\d+)", text.replace("\\\n", " "))
    groupadd = re.search(r"groupadd .*--gid (\d+)", text)
    final_user = re.findall(r"^USER (\S+)$", text, re.MULTILINE)[-1]
    assert useradd and groupadd
    return useradd.group(1), groupadd.group(1), final_user


def test_the_nines_image_runs_as_the_user_compose_names() -> None:
    uid, gid, final_user = _dockerfile_user()
    assert final_user == f"{uid}:{gid}"
    nines = [
        n
        for n, s in SERVICES.items()
        if s.get("build", {}).get("dockerfile") == "docker/nines.Dockerfile" and n not in CAPPED
    ]
    assert len(nines) >= 8
    assert {SERVICES[n]["user"] for n in nines} == {f"{uid}:{gid}"}


def _mount_of(service: dict[str, Any], target: str) -> str | None:
    """The named volume `service` mounts at `target`."""
    return next((v for v, t, _ in _named_mounts(service) if t == target), None)


def test_the_keepalived_exporter_can_reach_every_keepalived() -> None:
    """Same pid namespace (the pid file's number is the exporter's), the right to signal, and the
    pid file and dumps on the node's volume where keepalived writes them and the exporter reads."""
    exporter = SERVICES["keepalived-exporter"]
    who = _who(exporter)
    config = yaml.safe_load((REPO / "docker" / "exporters" / "keepalived-exporter.yml").read_text())
    assert [t["name"] for t in config["targets"]] == ["lb-a", "lb-b", "pgb-a", "pgb-b"]
    holder = exporter["pid"]
    assert holder.startswith("service:") and SERVICES[holder.removeprefix("service:")]["command"] == [
        "sleep",
        "infinity",
    ]
    for target in config["targets"]:
        keepalived = SERVICES[f"keepalived-{target['name']}"]
        assert keepalived["pid"] == holder
        assert keepalived["network_mode"] == f"service:{target['name']}"
        ka = _who(keepalived)
        assert who.uid == ka.uid or "KILL" in who.caps, "the exporter may not signal keepalived"
        volume = _mount_of(exporter, target["dump_dir"])
        assert volume and (volume, target["dump_dir"], False) in _named_mounts(exporter), "dumps not writable"
        assert _mount_of(keepalived, "/tmp") == volume, "keepalived dumps to its /tmp, not to the volume"
        pid_file = target["pid_file"].removeprefix(target["dump_dir"] + "/")
        assert f"--pid=/tmp/{pid_file}" in keepalived["command"]
        assert may(who, PREPARED[volume], R | W | X) and may(ka, PREPARED[volume], R | W | X)
        assert not may(Who(10001, frozenset({10001})), PREPARED[volume], X)


def test_keepalived_scripts_are_baked_root_owned_into_its_image() -> None:
    """keepalived runs a script only if no other user can write it: the scripts its configs name come
    with the image (COPY as root), not from a bind mount owned by whoever checked the repo out."""
    dockerfile = (REPO / "docker" / "keepalived.Dockerfile").read_text()
    copied = re.search(r"^COPY --chown=0:0 --chmod=0755 (.+) (\S+)/$", dockerfile, re.MULTILINE)
    assert copied
    sources, dest = copied.group(1).split(), copied.group(2)
    for node in ("lb-a", "lb-b", "pgb-a", "pgb-b"):
        conf = (REPO / "docker" / "keepalived" / f"{node}.conf").read_text()
        scripts = re.findall(r'(?:script|notify) "(\S+)', conf)
        assert len(scripts) == 2, node
        for script in scripts:
            assert (
                script.startswith(dest + "/") and f"docker/keepalived/{script.rsplit('/', 1)[1]}" in sources
            )


def test_prometheus_scrapes_both_pgbouncers_the_apps_and_keepalived() -> None:
    prom = yaml.safe_load((REPO / "docker" / "prometheus" / "prometheus.yml").read_text())
    targets = {
        j["job_name"]: [t for g in j["static_configs"] for t in g["targets"]] for j in prom["scrape_configs"]
    }
    apps = [SERVICES[a]["command"][-1] for a in ("app-1", "app-2", "app-3")]
    assert targets["app"] == apps
    assert targets["keepalived"] == [
        a.split("=", 1)[1] for a in SERVICES["keepalived-exporter"]["command"][3:4]
    ]
    assert prom["rule_files"] == ["/etc/rules/*.yml"]
    assert "./rules:/etc/rules:ro" in SERVICES["prometheus"]["volumes"]
    pgb = yaml.safe_load((REPO / "docker" / "exporters" / "pgbouncer-exporter.yml").read_text())["targets"]
    for name, target in zip(("pgbouncer-a", "pgbouncer-b"), pgb, strict=True):
        ini = (REPO / "docker" / "pgbouncer" / f"{name}.ini").read_text()
        listen = re.search(r"^listen_addr = \S+,(\S+)\nlisten_port = (\d+)$", ini, re.MULTILINE)
        assert listen and target["name"] == name
        assert f"@{listen.group(1)}:{listen.group(2)}/pgbouncer" in target["address"], (
            "not the node's own address"
        )


def test_promtool_accepts_the_generated_prometheus_config() -> None:
    config = REPO / "docker" / "prometheus" / "prometheus.yml"
    res = subprocess.run(
        ["promtool", "check", "config", str(config)], capture_output=True, text=True, timeout=120, check=False
    )
    assert res.returncode == 0, res.stdout + res.stderr
