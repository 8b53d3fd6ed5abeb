"""The demo app servers behind HAProxy, on the bridge's address (HAProxy runs in namespaces)."""

from __future__ import annotations

from collections.abc import Sequence

from stack.components.base import Component, http_ok
from stack.layout import Layout

APPS = ("app-1", "app-2", "app-3")


class App(Component):
    """One demo app server (`stack.demo_app`)."""

    kind = "app"

    def __init__(self, layout: Layout, name: str) -> None:
        super().__init__(layout)
        self.name = name

    def argv(self) -> Sequence[str]:
        return [
            self.layout.python,
            "-m",
            "stack.demo_app",
            "--name",
            self.name,
            "--listen",
            self.layout.addr(self.name),
            "--flag-dir",
            str(self.layout.path("run")),
        ]

    def env(self) -> dict[str, str]:
        env = super().env()
        lay = self.layout
        env["NINES_APP_DSN"] = (
            f"host={lay.host('pgbouncer')} port={lay.port('pgbouncer')} dbname=app "
            f"user=app password={lay.secret('app')}"
        )
        return env

    def ready(self) -> bool:
        return http_ok(f"http://{self.layout.addr(self.name)}/health")
