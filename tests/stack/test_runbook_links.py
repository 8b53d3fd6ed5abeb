"""The stack's configs carry one runbook base URL: Prometheus's rules and Alertmanager's templates."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from sloapi.rules.runbooks import anchors
from stack.components.observability import Alertmanager, Prometheus
from stack.layout import REPO, Layout
from stack.runbook_links import runbooks_url


def test_prometheus_loads_rules_with_absolute_runbook_links(tmp_path: Path) -> None:
    layout = Layout(tmp_path, offset=20000, etcd_members=1)
    Prometheus(layout, lambda _name: True).prepare()
    cfg = yaml.safe_load(layout.path("prometheus", "prometheus.yml").read_text())
    copies = [Path(p) for p in cfg["rule_files"]]
    assert sorted(p.name for p in copies) == sorted(p.name for p in (REPO / "rules").glob("*.yml"))
    base = runbooks_url(layout)
    assert base == "http://127.0.0.1:28000/runbooks"
    for copy in copies:
        text = copy.read_text()
        assert "docs/runbooks.md" not in text
        original = (REPO / "rules" / copy.name).read_text()
        assert anchors(text) == anchors(original)
        assert yaml.safe_load(text) == yaml.safe_load(original.replace("docs/runbooks.md#", base + "#"))
    check = subprocess.run(
        ["promtool", "check", "rules", *map(str, copies)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_alertmanager_templates_compose_the_same_base(tmp_path: Path) -> None:
    layout = Layout(tmp_path, offset=20000, etcd_members=1)
    Alertmanager(layout).prepare()
    config = layout.path("alertmanager", "alertmanager.yml")
    templates = yaml.safe_load(config.read_text())["templates"]
    assert templates == [str(layout.path("alertmanager", "templates", "email.tmpl"))]
    check = subprocess.run(
        ["amtool", "check-config", str(config)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    text = (
        '{{ template "nines.runbook.link" "docs/runbooks.md#haproxydown" }} '
        '{{ template "nines.runbook.link" "https://elsewhere.example/rb#x" }}'
    )
    rendered = subprocess.run(
        ["amtool", "template", "render", f"--template.glob={templates[0]}", f"--template.text={text}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert rendered == "http://127.0.0.1:28000/runbooks#haproxydown https://elsewhere.example/rb#x"
