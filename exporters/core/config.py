"""Targets and the exporter config file (`--config.file`, shape in docs/architecture.md).

Errors name the file and the line of the offending value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from exporters.core.errors import ConfigError

DEFAULT_TIMEOUT = 5.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_TARGET_KEYS = ("name", "address", "timeout", "labels")


@dataclass(frozen=True)
class Target:
    """One thing an exporter scrapes.

    Args:
        name: unique name, the value of the `target` label.
        address: exporter-specific address (socket, URL, DSN); may hold secrets: never log it.
        timeout: seconds a scrape of this target may take.
        labels: constant labels added to every series of this target.
        options: exporter-specific options (flags < top-level config keys < the target's own keys).
        source: where the target was defined, `file:line` or `flags`.
    """

    name: str
    address: str
    timeout: float = DEFAULT_TIMEOUT
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    source: str = "flags"


@dataclass(frozen=True)
class Config:
    """A loaded config file: its targets and its other top-level keys."""

    targets: list[Target]
    options: dict[str, Any]


def parse_duration(value: object) -> float:
    """Parse a duration: a number of seconds, or `500ms`, `5s`, `1m`, `1h`; must be > 0.

    Raises:
        ValueError: not a positive duration.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ValueError(f"not a duration: {value!r} (use e.g. 500ms, 5s, 1m)")
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if not seconds > 0:
        raise ValueError(f"duration must be positive: {value!r}")
    return seconds


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mapping(node: yaml.Node, where: str, what: str) -> list[tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{where}:{_line(node)}: {what} must be a mapping")
    return list(node.value)


def _scalar(node: yaml.Node, where: str, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.value == "":
        raise ConfigError(f"{where}:{_line(node)}: {what} must be a non-empty value")
    return str(node.value)


def _plain(node: yaml.Node) -> Any:
    return yaml.safe_load(yaml.serialize(node))


def _target(node: yaml.Node, path: str, index: int, top: dict[str, Any]) -> Target:
    fields: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for k, v in _mapping(node, path, f"targets[{index}]"):
        key = _scalar(k, path, "a key")
        if key in fields:
            raise ConfigError(f"{path}:{_line(k)}: duplicate key {key!r}")
        fields[key] = (k, v)
    where = f"{path}:{_line(node)}"
    for required in ("name", "address"):
        if required not in fields:
            raise ConfigError(f"{where}: targets[{index}] has no {required!r}")
    name = _scalar(fields["name"][1], path, "name")
    if not _NAME.match(name):
        raise ConfigError(f"{path}:{_line(fields['name'][1])}: invalid target name {name!r}")
    address = _scalar(fields["address"][1], path, "address")
    timeout = DEFAULT_TIMEOUT
    if "timeout" in fields:
        tnode = fields["timeout"][1]
        try:
            timeout = parse_duration(_plain(tnode))
        except ValueError as e:
            raise ConfigError(f"{path}:{_line(tnode)}: timeout: {e}") from None
    labels: dict[str, str] = {}
    if "labels" in fields:
        for k, v in _mapping(fields["labels"][1], path, "labels"):
            lname = _scalar(k, path, "a label name")
            if not _LABEL.match(lname) or lname.startswith("__") or lname == "target":
                raise ConfigError(f"{path}:{_line(k)}: invalid label name {lname!r}")
            if not isinstance(v, yaml.ScalarNode):
                raise ConfigError(f"{path}:{_line(v)}: label {lname!r} must be a string")
            labels[lname] = str(v.value)
    options = dict(top)
    for key, (_, v) in fields.items():
        if key not in _TARGET_KEYS:
            options[key] = _plain(v)
    return Target(name, address, timeout, labels, options, f"{path}:{_line(node)}")


def load_config(path: str | Path, defaults: dict[str, Any] | None = None) -> Config:
    """Load and validate a config file.

    Args:
        path: the YAML file.
        defaults: options from flags; top-level keys and then target keys override them.

    Raises:
        ConfigError: unreadable file, bad YAML or bad value (message names file and line).
    """
    p = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{p}: cannot read config file: {e.strerror}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(f"{p}{line}: invalid YAML: {problem}") from None
    if root is None:
        raise ConfigError(f"{p}: empty config file")
    file_options: dict[str, Any] = {}
    targets_node: yaml.Node | None = None
    for k, v in _mapping(root, p, "the config file"):
        key = _scalar(k, p, "a key")
        if key == "targets":
            targets_node = v
        else:
            file_options[key] = _plain(v)
    top = {**(defaults or {}), **file_options}
    if targets_node is None:
        raise ConfigError(f"{p}: no 'targets' list")
    if not isinstance(targets_node, yaml.SequenceNode) or not targets_node.value:
        raise ConfigError(f"{p}:{_line(targets_node)}: 'targets' must be a non-empty list")
    targets: list[Target] = []
    seen: set[str] = set()
    for i, node in enumerate(targets_node.value):
        t = _target(node, p, i, top)
        if t.name in seen:
            raise ConfigError(f"{t.source}: duplicate target name {t.name!r}")
        seen.add(t.name)
        targets.append(t)
    return Config(targets, file_options)
