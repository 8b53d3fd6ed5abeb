"""Runbook links of the stack's alerts: sloapi's own ``/runbooks`` page, one base URL for all.

Rules files name ``docs/runbooks.md#<anchor>``; the copies Prometheus loads carry
``<base>#<anchor>`` (`sloapi.rules.runbooks.with_base`), and the Alertmanager templates' base
(``nines.runbook.base``) is the same URL, so a demo alert mail opens the right section.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from sloapi.rules.runbooks import with_base
from stack.layout import Layout

_BASE_DEFINE = re.compile(r'(\{\{\s*define\s+"nines\.runbook\.base"\s*\}\}).*?(\{\{\s*end\s*\}\})')


def runbooks_url(layout: Layout) -> str:
    """Where the stack serves the runbooks: sloapi's ``/runbooks``."""
    return f"http://{layout.addr('sloapi')}/runbooks"


def _copy(sources: Iterable[Path], folder: Path, edit: Callable[[str], str]) -> list[str]:
    """Write ``edit(text)`` of each source into ``folder`` (same names); returns the copies' paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(sources):
        target = folder / source.name
        target.write_text(edit(source.read_text(encoding="utf-8")), encoding="utf-8")
        written.append(str(target))
    return written


def write_rules(sources: Iterable[Path], folder: Path, base: str) -> list[str]:
    """Copy rules files into ``folder`` (replacing older copies) with their runbook links on ``base``."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.yml"):
        old.unlink()
    return _copy(sources, folder, lambda text: with_base(text, base))


def template_with_base(text: str, base: str) -> str:
    """An Alertmanager template with ``nines.runbook.base`` defined as ``base``."""
    return _BASE_DEFINE.sub(lambda m: m.group(1) + base + m.group(2), text)


def write_templates(sources: Iterable[Path], folder: Path, base: str) -> list[str]:
    """Copy Alertmanager templates into ``folder`` with the runbook base set; returns their paths."""
    return _copy(sources, folder, lambda text: template_with_base(text, base))
