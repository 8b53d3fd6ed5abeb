"""A fresh two-node keepalived lab and an exporter serving both nodes, per test."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from keepalived_lab import Lab, wait_state

from exporters.core.metrics import parse_label_text
from exporters.core.server import ExporterServer
from exporters.keepalived.cli import build


@dataclass
class Exporter:
    """The exporter under test, serving on a free loopback port."""

    server: ExporterServer

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def text(self, path: str = "/metrics") -> str:
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return r.read().decode()

    def samples(self, path: str = "/metrics") -> list[tuple[str, dict[str, str], float]]:
        """(name, labels, value) of every sample."""
        return parse_samples(self.text(path))

    def value(self, metric: str, **labels: str) -> float | None:
        """The one sample of `metric` whose labels include `labels`, None if none."""
        found = [v for n, lb, v in self.samples() if n == metric and labels.items() <= lb.items()]
        assert len(found) <= 1, (metric, labels, found)
        return found[0] if found else None


def parse_samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Parse exposition text (as our writer formats it) into samples."""
    out = []
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, rest = head.partition("{")
        out.append((name, parse_label_text(rest[:-1]) if rest else {}, float(value)))
    return out


@pytest.fixture
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    """Two keepalived nodes, a (MASTER, priority 150) and b (BACKUP, 100), removed afterwards.

    Parametrize indirectly with `{"shared_tmp": True}` for nodes that share one /tmp.
    """
    lab = Lab(**getattr(request, "param", {})).open()
    try:
        wait_state(lab, "a", 2)
        wait_state(lab, "b", 1)
        yield lab
    finally:
        lab.close()


@pytest.fixture
def exporter(lab: Lab, tmp_path: Path) -> Iterator[Exporter]:
    """The exporter with both nodes as targets (`lb-a`, `lb-b`) from a config file."""
    config = tmp_path / "keepalived-exporter.yml"
    config.write_text(
        "timeout: 5s\ntargets:\n"
        + "".join(
            f"  - name: lb-{k}\n    pid_file: {n.pid_file}\n    labels: {{cluster: lab}}\n"
            for k, n in lab.nodes.items()
        )
    )
    collector, server = build(["--config.file", str(config), "--web.listen-address", "127.0.0.1:0"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Exporter(server)
    finally:
        server.shutdown()
        server.server_close()
        collector.close()
