"""Two HAProxy instances (active `haproxy-a`, passive `haproxy-b`) with TLS, stats sockets and promex."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import jinja2

from stack.components.base import Component, http_ok
from stack.components.patroni import NODES, rest_name
from stack.layout import Layout
from stack.tls import combined_pem, self_signed

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
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
    self_signed(key, crt, "/CN=localhost/O=nines demo", 90, san="DNS:localhost,IP:127.0.0.1")
    return combined_pem(key, crt, pem)


class HAProxy(Component):
    """One HAProxy instance; ports are `<name>.<listener>` in the port table."""

    kind = "haproxy"

    def __init__(self, layout: Layout, name: str) -> None:
        super().__init__(layout)
        self.name = name

    @property
    def socket(self) -> Path:
        return self.layout.path("run", f"{self.name}.sock")

    @property
    def config_file(self) -> Path:
        return self.layout.path("haproxy", f"{self.name}.cfg")

    @property
    def address(self) -> str:
        return f"{self.layout.addr(self.name + '.https')} stats {self.layout.addr(self.name + '.stats')}"

    def render(
        self, socket: Path | None = None, cert: Path | None = None, drop_privileges: bool = True
    ) -> str:
        """The instance's haproxy.cfg; socket and certificate paths may be overridden (containers)."""
        lay = self.layout
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,  # noqa: S701 - haproxy.cfg, not HTML
        )
        return env.get_template("haproxy.cfg.j2").render(
            name=self.name,
            socket=socket or self.socket,
            cert=cert or ensure_certificate(lay),
            drop_privileges=drop_privileges,
            port=lambda listener: lay.port(f"{self.name}.{listener}"),
            addr=lay.addr,
            web=WEB_SERVERS,
            api=API_SERVERS,
            admin=ADMIN_SERVERS,
            pg=[(n, lay.port(rest_name(n))) for n in NODES],
        )

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
            f"https://{lay.addr(self.name + '.https')}/",
            f"http://{lay.addr(self.name + '.promex')}/stats",
            f"http://{lay.addr(self.name + '.promex')}/metrics",
        ]
