"""Two HAProxy instances (active `haproxy-a` in namespace lb-a, passive `haproxy-b` in lb-b) behind the
front-door VIP, with TLS, stats sockets and promex."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from stack.components.base import NodeComponent, http_ok, render_template
from stack.components.patroni import NODES, rest_name
from stack.layout import Layout
from stack.tls import combined_pem, self_signed

INSTANCES = ("haproxy-a", "haproxy-b")
WEB_SERVERS = (("app-1", 100), ("app-2", 100), ("app-3", 50))
API_SERVERS = ("app-1", "app-2")
ADMIN_SERVERS = ("app-3", "app-1")  # the second is the backup


def ensure_certificate(layout: Layout) -> Path:
    """A self-signed certificate for `localhost`, valid 90 days like Let's Encrypt's, made once per stack."""
    pem = layout.path("tls", "web.pem")
    if pem.exists():
        return pem
    pem.parent.mkdir(parents=True, exist_ok=True)
    key, crt = pem.with_suffix(".key"), pem.with_suffix(".crt")
    vip = layout.net.vip("frontdoor")
    self_signed(key, crt, "/CN=localhost/O=nines demo", 90, san=f"DNS:localhost,IP:127.0.0.1,IP:{vip}")
    return combined_pem(key, crt, pem)


class HAProxy(NodeComponent):
    """One HAProxy instance on load-balancer node lb-a / lb-b; ports are `haproxy.<listener>` (the
    front door, on the VIP and the node's own address) and `<name>.stats` / `<name>.promex`."""

    kind = "haproxy"
    node_prefix = "lb"

    @property
    def socket(self) -> Path:
        return self.layout.path("run", f"{self.name}.sock")

    @property
    def config_file(self) -> Path:
        return self.layout.path("haproxy", f"{self.name}.cfg")

    @property
    def address(self) -> str:
        lay = self.layout
        return f"{self.node} {self.own_ip}:{lay.port('haproxy.https')} stats {lay.addr(self.name + '.stats')}"

    def render(
        self,
        socket: Path | None = None,
        cert: Path | None = None,
        drop_privileges: bool = True,
        hosts: Sequence[str] | None = None,
    ) -> str:
        """The instance's haproxy.cfg; socket and certificate paths and the listeners' addresses
        (default: the front-door VIP and the node's own address) may be overridden (containers)."""
        lay = self.layout
        return render_template(
            "haproxy.cfg.j2",
            name=self.name,
            socket=socket or self.socket,
            cert=cert or ensure_certificate(lay),
            drop_privileges=drop_privileges,
            port=self._port,
            own=hosts[0] if hosts else self.own_ip,
            hosts=hosts or (lay.net.vip("frontdoor"), self.own_ip),
            addr=lay.addr,
            web=WEB_SERVERS,
            api=API_SERVERS,
            admin=ADMIN_SERVERS,
            # PostgreSQL and Patroni's REST API, reached from the namespace on the bridge's address.
            pg=[(n, f"{lay.host(rest_name(n))}:{lay.port(n)}", lay.port(rest_name(n))) for n in NODES],
        )

    def _port(self, listener: str) -> int:
        """`stats`/`promex` are this node's own ports; the front-door listeners are the pair's."""
        own = listener in ("stats", "promex")
        return self.layout.port(f"{self.name if own else 'haproxy'}.{listener}")

    def prepare(self) -> None:
        self.config_file.parent.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(self.render())
        subprocess.run(["haproxy", "-c", "-q", "-f", str(self.config_file)], check=True, capture_output=True)

    def argv(self) -> Sequence[str]:
        return ["haproxy", "-db", "-f", str(self.config_file)]

    def ready(self) -> bool:
        return http_ok(f"http://{self.layout.addr(self.name + '.promex')}/stats;csv")

    def urls(self) -> list[str]:
        lay = self.layout
        return [
            f"https://{self.own_ip}:{lay.port('haproxy.https')}/ (this node only)",
            f"http://{lay.addr(self.name + '.promex')}/stats",
            f"http://{lay.addr(self.name + '.promex')}/metrics",
        ]
