"""The exporter's own series on `/metrics`: `<ns>_exporter_build_info` and process metrics.

Process metrics (`process_*`, `python_info`) come from prometheus_client's collectors, as a Go
exporter's `process_*` and `go_*` come from client_golang's; `--web.disable-exporter-metrics`
leaves them out. The build info always stays.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from importlib import metadata

from prometheus_client import PlatformCollector, ProcessCollector

from exporters.core.metrics import Family, MetricType


def version() -> str:
    """The installed version of nines ("unknown" when not installed)."""
    try:
        return metadata.version("nines")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_info(namespace: str) -> Family:
    """`<ns>_exporter_build_info{version, pythonversion} 1`."""
    fam = Family(
        f"{namespace}_exporter_build_info",
        "gauge",
        "A metric with a constant 1 labelled by the exporter's version and its Python version.",
        ("version", "pythonversion"),
    )
    fam.add((version(), platform.python_version()), 1.0)
    return fam


def process_families() -> list[Family]:
    """The process and Python families of this process, read now."""
    out: list[Family] = []
    for source in (ProcessCollector(registry=None), PlatformCollector(registry=None)):
        for metric in source.collect():
            kind: MetricType = "counter" if metric.type == "counter" else "gauge"
            for sample in metric.samples:
                names = tuple(sample.labels)
                fam = Family(sample.name, kind, metric.documentation, names)
                fam.add(tuple(sample.labels[n] for n in names), sample.value)
                out.append(fam)
    return out


def self_metrics(namespace: str, process: bool = True) -> Callable[[], list[Family]]:
    """A function returning the exporter's own families (process ones unless `process` is False)."""
    info = build_info(namespace)

    def families() -> list[Family]:
        return [info, *process_families()] if process else [info]

    return families
