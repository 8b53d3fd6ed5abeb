"""keepalived (VRRP v3) on each load-balancer and PgBouncer node, moving the pair's VIP.

Each keepalived runs in its node's network namespace and in a private mount namespace of its own
whose `/tmp` is `<state>/keepalived/<node>/tmp/`: keepalived writes its dumps there
(`keepalived.json` on SIGRTMIN+2, `keepalived.data` on SIGUSR1, `keepalived.stats` on SIGUSR2), so
the four instances never overwrite each other's files and the root namespace reads them in place.
Pid files: `<state>/keepalived/<node>/keepalived.pid` (main process), `vrrp.pid`, `checkers.pid`.
"""

from __future__ import annotations

import stat
from collections.abc import Sequence
from pathlib import Path

from stack import process
from stack.components.base import Component, render_template
from stack.layout import Layout
from stack.network import INNER_IF, PAIRS, Pair

PRIORITIES = (150, 100)  # the pair's first node (`-a`) is the master whenever it is healthy
# Advertisements every 200 ms: a silent master is declared dead after 3 x 0.2 s plus the backup's
# skew (~0.72 s); a master whose HAProxy/PgBouncer dies goes to FAULT at the next run of its track
# script (every second) and hands over at once with a priority-0 advert.
# 100 ms would halve that, at the price of false failovers when a busy host starves keepalived.
ADVERT_INT = 0.2
# keepalived in the foreground, logging to its console in detail, VRRP only
FOREGROUND = ("--dont-fork", "--log-console", "--log-detail", "--no-syslog", "--vrrp")
NOTIFY = """#!/bin/sh
# keepalived notify hook (generated): one line per VRRP state change of this node.
# Arguments: NODE TYPE NAME STATE PRIORITY
echo "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) node=$1 type=$2 name=$3 state=$4 priority=$5" >> "{log}"
"""
TRACK = """#!/bin/sh
# keepalived track script (generated): succeeds while this node's {service} runs.
read -r pid _ < "{pid_file}" 2>/dev/null || exit 1
[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "{service}" ] || exit 1
# A killed process nobody has reaped yet is a zombie: dead all the same.
! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
"""


def node_names() -> list[str]:
    """Every VRRP node, master of its pair first: lb-a, lb-b, pgb-a, pgb-b."""
    return [n for p in PAIRS for n in p.nodes]


def pair_of(node: str) -> Pair:
    return next(p for p in PAIRS if node in p.nodes)


class Keepalived(Component):
    """keepalived for one node (`keepalived-lb-a`...)."""

    kind = "keepalived"
    stop_timeout = 10.0

    def __init__(self, layout: Layout, node: str) -> None:
        super().__init__(layout)
        self.node = node
        self.name = f"keepalived-{node}"
        self.pair = pair_of(node)
        self.netns = layout.net.netns(node)

    @property
    def home(self) -> Path:
        return self.layout.path("keepalived", self.node)

    @property
    def pid_file(self) -> Path:
        """keepalived's main process (what the keepalived exporter signals)."""
        return self.home / "keepalived.pid"

    @property
    def vrrp_pid_file(self) -> Path:
        return self.home / "vrrp.pid"

    @property
    def dump_dir(self) -> Path:
        """Where this keepalived's `/tmp` dumps appear in the root namespace."""
        return self.home / "tmp"

    @property
    def notify_log(self) -> Path:
        return self.home / "notify.log"

    @property
    def address(self) -> str:
        vip = self.layout.net.vip(self.pair.instance)
        return f"{self.node} vrrp {self.pair.instance} vrid {self.pair.vrid} vip {vip}"

    @property
    def service_name(self) -> str:
        """The component this node's keepalived tracks: `haproxy-a`, `pgbouncer-b`..."""
        return f"{self.pair.service}-{self.node.rsplit('-', 1)[1]}"

    @property
    def track_script(self) -> Path:
        return self.home / "track.sh"

    def render(self, track: str | None = None, notify: str | None = None) -> str:
        """keepalived.conf; the track and notify commands may be overridden (containers)."""
        pair = self.pair
        return render_template(
            "keepalived.conf.j2",
            node=self.node,
            service=pair.service,
            track_script=track or self.track_script,
            instance=pair.instance,
            interface=INNER_IF,
            vrid=pair.vrid,
            priority=PRIORITIES[pair.nodes.index(self.node)],
            advert_int=ADVERT_INT,
            vip=self.layout.net.vip(pair.instance),
            notify=notify or self.notify_script,
        )

    @property
    def notify_script(self) -> Path:
        return self.home / "notify.sh"

    def prepare(self) -> None:
        self.dump_dir.mkdir(parents=True, exist_ok=True)
        # keepalived runs scripts as root only from paths no other user can write.
        self.home.chmod(0o755)
        track = TRACK.format(service=self.pair.service, pid_file=self.layout.pidfile(self.service_name))
        for script, text in (
            (self.notify_script, NOTIFY.format(log=self.notify_log)),
            (self.track_script, track),
        ):
            script.write_text(text)
            script.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        (self.home / "keepalived.conf").write_text(self.render())
        for stale in (self.pid_file, self.vrrp_pid_file, self.home / "checkers.pid"):
            stale.unlink(missing_ok=True)

    def argv(self) -> Sequence[str]:
        return [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount --bind "$0" /tmp && exec "$@"',
            str(self.dump_dir),
            "keepalived",
            *FOREGROUND,
            f"--use-file={self.home / 'keepalived.conf'}",
            f"--pid={self.pid_file}",
            f"--vrrp_pid={self.vrrp_pid_file}",
            f"--checkers_pid={self.home / 'checkers.pid'}",
        ]

    def ready(self) -> bool:
        """Ready once the VRRP child runs (which node holds the VIP the runner waits for separately)."""
        return process.running_pid(self.vrrp_pid_file) is not None

    def after_stop(self) -> None:
        for pid_file in (self.pid_file, self.vrrp_pid_file, self.home / "checkers.pid"):
            pid_file.unlink(missing_ok=True)


def exporter_targets(layout: Layout) -> list[dict[str, str]]:
    """The keepalived exporter's targets: one per node, named after it, with pid file and dump dir."""
    return [
        {
            "name": node,
            "pid_file": str(Keepalived(layout, node).pid_file),
            "dump_dir": str(Keepalived(layout, node).dump_dir),
        }
        for node in node_names()
    ]
