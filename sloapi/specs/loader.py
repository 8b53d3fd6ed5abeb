"""Load every spec file of a directory (`*.yml`, `*.yaml`; several documents per file).

A document is recognised by its `version` / `apiVersion` and `kind`: Sloth `prometheus/v1`,
Sloth's `PrometheusServiceLevel`, OpenSLO `v1` and `v1alpha` `SLO`, Pyrra's
`ServiceLevelObjective`. Other OpenSLO kinds (Service, AlertPolicy...) are skipped. Every problem
of every file is collected; `load_dir` raises them together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from sloapi.errors import InvalidSpecsError, SpecError
from sloapi.specs.fields import Issues
from sloapi.specs.model import SLOSpec
from sloapi.specs.openslo import OPENSLO_V1ALPHA, OPENSLO_VERSION, parse_openslo, parse_openslo_v1alpha
from sloapi.specs.pyrra import PYRRA_KIND, PYRRA_VERSION, parse_pyrra
from sloapi.specs.sloth import SLOTH_K8S_KIND, SLOTH_K8S_VERSION, SLOTH_VERSION, parse_sloth, parse_sloth_k8s
from sloapi.specs.yamldoc import LineMap, load_documents

Parser = Callable[[Mapping[str, Any], Issues], list[SLOSpec]]

_BY_API: dict[tuple[str, str], Parser] = {
    (SLOTH_K8S_VERSION, SLOTH_K8S_KIND): parse_sloth_k8s,
    (OPENSLO_VERSION, "SLO"): parse_openslo,
    (OPENSLO_V1ALPHA, "SLO"): parse_openslo_v1alpha,
    (PYRRA_VERSION, PYRRA_KIND): parse_pyrra,
}
EXPECTED = (
    f"version {SLOTH_VERSION}, or apiVersion/kind {SLOTH_K8S_VERSION} {SLOTH_K8S_KIND}, "
    f"{OPENSLO_VERSION} or {OPENSLO_V1ALPHA} SLO, {PYRRA_VERSION} {PYRRA_KIND}"
)


def _parser(doc: Mapping[str, Any]) -> Parser | str | None:
    """The parser of a document, None to skip it, or the reason it is not recognised."""
    if "version" in doc and "apiVersion" not in doc:
        return parse_sloth if doc["version"] == SLOTH_VERSION else f"unknown version {doc['version']!r}"
    api, kind = str(doc.get("apiVersion")), str(doc.get("kind"))
    if (api, kind) in _BY_API:
        return _BY_API[(api, kind)]
    if api in (OPENSLO_VERSION, OPENSLO_V1ALPHA):
        return None  # other OpenSLO kinds carry nothing we use
    found = f"apiVersion {doc.get('apiVersion')!r} kind {doc.get('kind')!r}"
    return f"unknown document {found} (expected {EXPECTED})"


def read_text(text: str, name: str) -> tuple[list[SLOSpec], list[SpecError]]:
    """The SLOs of one YAML text and every problem in it (`name`: the file's display name)."""
    issues = Issues(name)
    try:
        docs = load_documents(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        return [], [SpecError(name, None, f"invalid YAML: {problem}", line)]
    specs: list[SLOSpec] = []
    for doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, Mapping):
            issues.add(doc, None, None, "", "a document is not a mapping")
            continue
        parser = _parser(doc)
        if isinstance(parser, str):
            line = (
                doc.line_of("apiVersion" if "apiVersion" in doc else "version")
                if isinstance(doc, LineMap)
                else 0
            )
            issues.errors.append(SpecError(name, None, parser, line or None))
        elif parser is not None:
            specs.extend(parser(doc, issues))
    return specs, sorted(issues.errors, key=lambda e: e.line or 0)


def read_file(path: Path, display: str | None = None) -> tuple[list[SLOSpec], list[SpecError]]:
    """The SLOs of one file and every problem in it."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [SpecError(name, None, f"cannot read: {getattr(exc, 'strerror', None) or exc}")]
    return read_text(text, name)


def spec_files(directory: Path) -> list[Path]:
    """Every `*.yml` / `*.yaml` file under `directory`, sorted."""
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def read_dir(directory: Path) -> tuple[list[SLOSpec], list[SpecError]]:
    """The valid SLOs under `directory` and every problem found (duplicate ids included)."""
    if not directory.is_dir():
        return [], [SpecError(str(directory), None, "is not a directory")]
    seen: dict[str, str] = {}
    specs: list[SLOSpec] = []
    errors: list[SpecError] = []
    for path in spec_files(directory):
        found, problems = read_file(path, str(path))
        errors.extend(problems)
        for spec in found:
            if spec.id in seen:
                errors.append(SpecError(spec.source, spec.id, f"duplicate id (also in {seen[spec.id]})"))
                continue
            seen[spec.id] = spec.source
            specs.append(spec)
    return specs, errors


def load_file(path: Path, display: str | None = None) -> list[SLOSpec]:
    """Load the SLOs of one YAML file.

    Raises:
        InvalidSpecsError: every problem of the file (unreadable, bad YAML, unknown document, invalid SLO).
    """
    specs, errors = read_file(path, display)
    if errors:
        raise InvalidSpecsError(errors)
    return specs


def load_dir(directory: Path) -> list[SLOSpec]:
    """Load every `*.yml` / `*.yaml` under `directory` (sorted), checking ids are unique.

    Raises:
        InvalidSpecsError: every problem found, each naming file, line, SLO and reason.
    """
    specs, errors = read_dir(directory)
    if errors:
        raise InvalidSpecsError(errors)
    return specs
