"""An environment variable for every flag: `<NS>_EXPORTER_<FLAG>`, the flag's own value winning.

`--web.listen-address` of the HAProxy exporter is `HAPROXY_EXPORTER_WEB_LISTEN_ADDRESS`; the
exporter's own prefix is dropped (`--pgbouncer.dsn` is `PGBOUNCER_EXPORTER_DSN`), camel case is
split (`--pgBouncer.connectionString` is `PGBOUNCER_EXPORTER_CONNECTION_STRING`) and `--no-X`
is `..._NO_X`. Switches take `true`/`false` (also 1/0, yes/no); repeatable flags a comma-separated list.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_SKIP = {"help", "version"}


def env_names(namespace: str, option_strings: Sequence[str]) -> Iterator[str]:
    """The environment variables of a flag with these option strings, in their order."""
    prefix = f"{namespace.upper()}_EXPORTER_"
    for opt in option_strings:
        if not opt.startswith("--"):
            continue
        name, neg = opt[2:], ""
        if name.startswith("no-"):
            name, neg = name[3:], "NO_"
        if name.lower().startswith(namespace.lower() + "."):
            name = name[len(namespace) + 1 :]
        yield prefix + neg + re.sub(r"[.-]", "_", _CAMEL.sub("_", name)).upper()


def _switch(action: argparse.Action, raw: str) -> Any:
    word = raw.strip().lower()
    if word in _TRUE:
        return action.const
    if word in _FALSE:
        return action.default
    raise ValueError(f"expected true or false, got {raw!r}")


def _convert(action: argparse.Action, raw: str) -> Any:
    if action.nargs == 0:  # store_true / store_false
        return _switch(action, raw)
    convert = action.type if callable(action.type) else str
    if isinstance(action, argparse._AppendAction):
        return [convert(v.strip()) for v in raw.split(",") if v.strip()]
    value = convert(raw)
    if action.choices is not None and value not in action.choices:
        raise ValueError(f"{raw!r} is not one of {', '.join(map(str, action.choices))}")
    return value


def apply_env(parser: argparse.ArgumentParser, namespace: str, env: Mapping[str, str]) -> None:
    """Name each flag's variable in its help and take its value, when set, as the flag's default.

    Exits through `parser.error` (status 2) naming the variable when its value is invalid.
    """
    for action in parser._actions:
        if action.dest in _SKIP or not action.option_strings:
            continue
        names = list(env_names(namespace, action.option_strings))
        if action.help is not argparse.SUPPRESS:
            action.help = f"{action.help or ''} [env {' or '.join(names)}]".strip()
        name = next((n for n in names if n in env), None)
        if name is None:
            continue
        try:
            value = _convert(action, env[name])
        except (argparse.ArgumentTypeError, ValueError, TypeError) as e:
            parser.error(f"environment variable {name}: {e}")
        parser.set_defaults(**{action.dest: value})
