"""Load every spec file of a directory (`*.yml`, `*.yaml`; several documents per file)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from sloapi.errors import SpecError
from sloapi.specs.exclusions import EXCLUSIONS_VERSION
from sloapi.specs.model import SLOSpec
from sloapi.specs.openslo import OPENSLO_VERSION, parse_openslo
from sloapi.specs.sloth import SLOTH_VERSION, parse_sloth


def load_file(path: Path, display: str | None = None) -> list[SLOSpec]:
    """Load the SLOs of one YAML file (Sloth or OpenSLO documents, `---` separated).

    Raises:
        SpecError: unreadable file, bad YAML, unknown document, invalid SLO.
    """
    name = display or str(path)
    try:
        docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise SpecError(name, None, f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SpecError(name, None, f"invalid YAML: {exc}") from None
    specs: list[SLOSpec] = []
    for doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, Mapping):
            raise SpecError(name, None, "a document is not a mapping")
        if doc.get("version") == SLOTH_VERSION:
            specs.extend(parse_sloth(doc, name))
        elif doc.get("apiVersion") == OPENSLO_VERSION and doc.get("kind") == "SLO":
            specs.extend(parse_openslo(doc, name))
        elif doc.get("apiVersion") == OPENSLO_VERSION or doc.get("version") == EXCLUSIONS_VERSION:
            continue  # other OpenSLO kinds (Service, AlertPolicy...) carry nothing we use
        else:
            expected = f"version {SLOTH_VERSION} or apiVersion {OPENSLO_VERSION}"
            raise SpecError(name, None, f"unknown document (expected {expected})")
    return specs


def load_dir(directory: Path) -> list[SLOSpec]:
    """Load every `*.yml` / `*.yaml` under `directory` (sorted), checking ids are unique.

    Raises:
        SpecError: the first problem found, naming file, SLO and reason.
    """
    if not directory.is_dir():
        raise SpecError(str(directory), None, "is not a directory")
    files = sorted(p for p in directory.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
    seen: dict[str, str] = {}
    specs: list[SLOSpec] = []
    for path in files:
        for spec in load_file(path, str(path)):
            if spec.id in seen:
                raise SpecError(spec.source, spec.id, f"duplicate id (also in {seen[spec.id]})")
            seen[spec.id] = spec.source
            specs.append(spec)
    return specs
