"""The keepalived exporter's config file: targets named by the pid file of keepalived's main process.

```yaml
timeout: 2s                     # optional, every target's default (the framework's default 5s)
targets:
  - name: lb-a                  # the `target` label
    pid_file: /run/keepalived/lb-a.pid
    dump_dir: /run/lb-a/tmp     # optional; default /proc/<pid>/root/tmp
    timeout: 1s                 # optional, overrides the top-level one
    labels: {cluster: front}    # optional constant labels
```

The framework's own loader wants an `address` per target; keepalived targets have a pid file
instead, so this loader builds the same `Target`s (address = the pid file, `dump_dir` in
options) with the same checks: errors name the file and line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from exporters.core.config import DEFAULT_TIMEOUT, Target, parse_duration
from exporters.core.errors import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
TARGET_KEYS = {"name", "pid_file", "dump_dir", "timeout", "labels"}
TOP_KEYS = {"targets", "timeout"}


def _at(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mapping(node: yaml.Node, where: str, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{where}:{_at(node)}: {what} must be a mapping")
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for k, v in node.value:
        key = _scalar(k, where, "a key")
        if key in out:
            raise ConfigError(f"{where}:{_at(k)}: duplicate key {key!r}")
        out[key] = (k, v)
    return out


def _scalar(node: yaml.Node, where: str, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.value == "":
        raise ConfigError(f"{where}:{_at(node)}: {what} must be a non-empty value")
    return str(node.value)


def _unknown(fields: dict[str, tuple[yaml.Node, yaml.Node]], known: set[str], where: str) -> None:
    for key, (k, _) in fields.items():
        if key not in known:
            raise ConfigError(f"{where}:{_at(k)}: unknown key {key!r} (known: {', '.join(sorted(known))})")


def _timeout(node: yaml.Node, where: str) -> float:
    try:
        return parse_duration(yaml.safe_load(yaml.serialize(node)))
    except ValueError as e:
        raise ConfigError(f"{where}:{_at(node)}: timeout: {e}") from None


def _labels(node: yaml.Node, where: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for name, (k, v) in _mapping(node, where, "labels").items():
        if not _LABEL.match(name) or name.startswith("__") or name == "target":
            raise ConfigError(f"{where}:{_at(k)}: invalid label name {name!r}")
        if not isinstance(v, yaml.ScalarNode):
            raise ConfigError(f"{where}:{_at(v)}: label {name!r} must be a string")
        labels[name] = str(v.value)
    return labels


def _target(node: yaml.Node, where: str, index: int, defaults: dict[str, Any]) -> Target:
    fields = _mapping(node, where, f"targets[{index}]")
    _unknown(fields, TARGET_KEYS, where)
    for required in ("name", "pid_file"):
        if required not in fields:
            raise ConfigError(f"{where}:{_at(node)}: targets[{index}] has no {required!r}")
    name = _scalar(fields["name"][1], where, "name")
    if not _NAME.match(name):
        raise ConfigError(f"{where}:{_at(fields['name'][1])}: invalid target name {name!r}")
    options = dict(defaults)
    if "dump_dir" in fields:
        options["dump_dir"] = _scalar(fields["dump_dir"][1], where, "dump_dir")
    timeout = options.pop("timeout", DEFAULT_TIMEOUT)
    if "timeout" in fields:
        timeout = _timeout(fields["timeout"][1], where)
    return Target(
        name=name,
        address=_scalar(fields["pid_file"][1], where, "pid_file"),
        timeout=timeout,
        labels=_labels(fields["labels"][1], where) if "labels" in fields else {},
        options=options,
        source=f"{where}:{_at(node)}",
    )


def load_targets(path: str) -> list[Target]:
    """Load and validate the config file's targets.

    Raises:
        ConfigError: unreadable file, bad YAML or bad value (the message names file and line).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read config file: {e.strerror}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: invalid YAML: {getattr(e, 'problem', None) or e}") from None
    if root is None:
        raise ConfigError(f"{path}: empty config file")
    top = _mapping(root, path, "the config file")
    _unknown(top, TOP_KEYS, path)
    defaults: dict[str, Any] = {}
    if "timeout" in top:
        defaults["timeout"] = _timeout(top["timeout"][1], path)
    node = top.get("targets", (None, None))[1]
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise ConfigError(f"{path}: 'targets' must be a non-empty list")
    targets = [_target(n, path, i, defaults) for i, n in enumerate(node.value)]
    seen: set[str] = set()
    for t in targets:
        if t.name in seen:
            raise ConfigError(f"{t.source}: duplicate target name {t.name!r}")
        seen.add(t.name)
    return targets
