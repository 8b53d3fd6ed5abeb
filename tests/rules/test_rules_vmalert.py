"""Every rule file, the generated SLO rules included, loads in vmalert (`-dryRun`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RULE_FILES = sorted((REPO / "rules").glob("*.yml"))


def dry_run(*rules: Path) -> subprocess.CompletedProcess[str]:
    """`vmalert -dryRun -rule=...` on `rules` (templates validated too)."""
    return subprocess.run(
        ["vmalert", "-dryRun", "-rule.validateTemplates", "-loggerLevel=ERROR",
         *(f"-rule={p}" for p in rules)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_rule_files_include_the_slo_rules() -> None:
    assert "slo.rules.yml" in {p.name for p in RULE_FILES}
    assert len(RULE_FILES) >= 6


@pytest.mark.parametrize("rules", RULE_FILES, ids=lambda p: p.name)
def test_rule_file_loads_in_vmalert(rules: Path) -> None:
    result = dry_run(rules)
    assert result.returncode == 0, result.stdout + result.stderr


def test_all_rule_files_load_together_as_the_stack_gives_them() -> None:
    result = dry_run(REPO / "rules" / "*.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_vmalert_rejects_an_invalid_expression(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rules.yml"
    bad.write_text(
        "groups:\n  - name: broken\n    rules:\n      - alert: Broken\n        expr: rate(x[5m] > 1\n",
        encoding="utf-8",
    )
    result = dry_run(bad)
    assert result.returncode != 0
    assert 'invalid expression for rule "broken"."Broken"' in result.stdout + result.stderr
