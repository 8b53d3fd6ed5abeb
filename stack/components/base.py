"""What every component of the stack provides."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from pathlib import Path

import httpx
import jinja2

from stack.layout import Layout

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def render_template(template: str, **values: object) -> str:
    """Render `stack/templates/<template>` (a daemon's config file: no HTML escaping, no missing value)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - daemon configuration files, not HTML
    )
    return env.get_template(template).render(**values)


class Component:
    """One process of the stack.

    Subclasses set `name` and `kind` and implement `argv` and `ready`; `prepare` writes
    configuration before the process starts; `after_stop` cleans up what the process may
    leave behind (a postmaster orphaned by a killed Patroni).
    """

    name: str
    kind: str
    user: str | None = None
    stop_timeout: float = 30.0
    netns: str | None = None  # the network namespace the process runs in (None: the root one)

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    @property
    def address(self) -> str:
        """What `status` prints as the component's address."""
        return self.layout.addr(self.name)

    def argv(self) -> Sequence[str]:
        """The command line that starts the process in the foreground."""
        raise NotImplementedError

    def command(self) -> tuple[list[str], str | None]:
        """The command line to spawn and the user to spawn it as.

        A process in a network namespace is started by root through `ip netns exec`, then drops to
        its user with `setpriv` (which execs, so the recorded pid is the process itself).
        """
        argv = list(self.argv())
        if self.netns is None:
            return argv, self.user
        drop = ["setpriv", f"--reuid={self.user}", f"--regid={self.user}", "--clear-groups"]
        return ["ip", "netns", "exec", self.netns, *(drop if self.user else []), *argv], None

    def prepare(self) -> None:
        """Write configuration and directories; called before every start."""

    def ready(self) -> bool:
        """True once the component serves requests."""
        raise NotImplementedError

    def cwd(self) -> Path | None:
        """Working directory of the process."""
        return self.layout.root

    def env(self) -> dict[str, str]:
        """Environment of the process."""
        return self.layout.env()

    def refresh(self) -> None:
        """Bring a component that already runs up to date with its configuration (default: nothing)."""

    def after_stop(self) -> None:
        """Clean up after the process stopped."""

    def urls(self) -> list[str]:
        """URLs to print after `up`."""
        return []


class NodeComponent(Component):
    """A component that runs on one VRRP node (`haproxy-a` on lb-a...), in that node's namespace."""

    node_prefix = ""  # `lb` or `pgb`: the instance's letter completes the node's name

    def __init__(self, layout: Layout, name: str) -> None:
        super().__init__(layout)
        self.name = name
        self.node = f"{self.node_prefix}-{name.rsplit('-', 1)[1]}"
        self.netns = layout.net.netns(self.node)

    @property
    def own_ip(self) -> str:
        """The node's own address on the stack's bridge (besides the VIP it may hold)."""
        return self.layout.net.node_ip(self.node)


def http_ok(url: str, timeout: float = 2.0, auth: tuple[str, str] | None = None) -> bool:
    """True when GET `url` answers 2xx."""
    try:
        r = httpx.get(url, timeout=timeout, auth=auth)
    except httpx.HTTPError:
        return False
    return r.is_success


def tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
