"""Exclusion windows declared in a file beside the specs (`version: nines/exclusions/v1`).

```yaml
version: "nines/exclusions/v1"
exclusions:
  - start: "2026-11-10T02:00:00Z"
    end: "2026-11-10T03:00:00Z"
    reason: PostgreSQL minor upgrade
    who: alice
    slos: [web-availability]   # omitted: every SLO
```
Every error names the file and the line of the exclusion.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from sloapi.engine.durations import parse_time
from sloapi.engine.exclusions import Exclusion
from sloapi.errors import SpecError, WindowError

EXCLUSIONS_VERSION = "nines/exclusions/v1"
_FIELDS = {"start", "end", "reason", "who", "slos"}


def _moment(value: object, key: str, where: str) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise SpecError(where, None, f"{key}: no time zone offset")
        return value.astimezone(UTC)
    try:
        return parse_time(str(value), datetime.now(UTC), key)
    except WindowError as exc:
        raise SpecError(where, None, str(exc)) from None


def parse_exclusion(raw: object, where: str, known: set[str] | None = None) -> list[Exclusion]:
    """One item of the `exclusions` list (one `Exclusion` per SLO it names, or one global).

    Raises:
        SpecError: naming `where` (file:line) and the reason.
    """
    if not isinstance(raw, Mapping):
        raise SpecError(where, None, "an exclusion must be a mapping")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise SpecError(where, None, f"unknown field(s) {sorted(unknown)} (allowed: {sorted(_FIELDS)})")
    start, end = _moment(raw.get("start"), "start", where), _moment(raw.get("end"), "end", where)
    if end <= start:
        raise SpecError(where, None, "end must be after start")
    reason, who = raw.get("reason"), raw.get("who")
    if not isinstance(reason, str) or not reason.strip() or not isinstance(who, str) or not who.strip():
        raise SpecError(where, None, "reason and who are required (non-empty text)")
    slos = raw.get("slos")
    if slos is None:
        return [Exclusion(start, end, reason, who, None, where)]
    if not isinstance(slos, list) or not slos or not all(isinstance(s, str) for s in slos):
        raise SpecError(where, None, "slos must be a non-empty list of SLO ids")
    missing = sorted(set(slos) - known) if known is not None else []
    if missing:
        raise SpecError(where, None, f"unknown SLO id(s) {missing}")
    return [Exclusion(start, end, reason, who, slo, where) for slo in slos]


def _items(node: yaml.Node) -> list[yaml.Node] | None:
    """The item nodes of the document's `exclusions` list (None: not an exclusions document)."""
    if not isinstance(node, yaml.MappingNode):
        return None
    fields: dict[Any, yaml.Node] = {key.value: value for key, value in node.value}
    version = fields.get("version")
    if not isinstance(version, yaml.ScalarNode) or version.value != EXCLUSIONS_VERSION:
        return None
    items = fields.get("exclusions")
    return items.value if isinstance(items, yaml.SequenceNode) else []


def load_exclusions(path: Path, known: set[str] | None = None) -> list[Exclusion]:
    """The exclusions of every `nines/exclusions/v1` document of `path` (other documents are
    skipped); `known`: the SLO ids an exclusion may name.

    Raises:
        SpecError: unreadable file, bad YAML or an invalid exclusion (file:line).
    """
    try:
        text = path.read_text(encoding="utf-8")
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        docs = list(yaml.safe_load_all(text))
    except OSError as exc:
        raise SpecError(str(path), None, f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SpecError(str(path), None, f"invalid YAML: {exc}") from None
    result: list[Exclusion] = []
    for node, doc in zip(nodes, docs, strict=True):
        items = _items(node) if node is not None else None
        if items is None:
            continue
        values = doc.get("exclusions") or []
        for item, raw in zip(items, values, strict=True):
            result.extend(parse_exclusion(raw, f"{path}:{item.start_mark.line + 1}", known))
    return result


def load_dir_exclusions(directory: Path, known: set[str] | None = None) -> list[Exclusion]:
    """Every exclusion declared in the `*.yml` / `*.yaml` files under `directory`."""
    files = sorted(p for p in directory.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
    return [item for path in files for item in load_exclusions(path, known)]
