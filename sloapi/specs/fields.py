"""Reading spec fields while collecting every problem (file, line, SLO, field, reason).

Parsers take an `Issues` for their file, report each problem with `add` and carry on, so one run
of `sloapi check` names every error of every file. A field is named by its path: relative to the
SLO when the problem is inside one (`sli.events.error_query`), else from the document's root.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from typing import Any

from sloapi.errors import SpecError
from sloapi.specs.model import WINDOW_PLACEHOLDER
from sloapi.specs.yamldoc import LineMap

NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
SELECTOR = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*\s*(\{.*\})?$", re.DOTALL)


def join(prefix: str, key: str | int) -> str:
    """`prefix.key`, or `prefix[key]` for list indexes."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


class Issues:
    """The problems found in one file.

    Attributes:
        file: the file's display name.
        errors: every problem reported, in order.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[SpecError] = []
        self._misspelt: set[tuple[int, str]] = set()

    def add(self, node: object, key: str | None, slo: str | None, field: str, reason: str) -> None:
        """Report `field reason` (`field: reason` when reason starts with `:`) at the line of `key`."""
        line = node.line_of(key) if isinstance(node, LineMap) else None
        text = (f"{field}{reason}" if reason.startswith(":") else f"{field} {reason}") if field else reason
        self.errors.append(SpecError(self.file, slo, text, line or None, field or None))

    def unknown(
        self, node: Mapping[str, Any], allowed: Collection[str], slo: str | None, prefix: str
    ) -> None:
        """Report every key of `node` that is not in `allowed`, suggesting the closest one."""
        for key in node:
            if key in allowed:
                continue
            close = difflib.get_close_matches(str(key), list(allowed), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            if close:
                self._misspelt.add((id(node), close[0]))
            self.add(node, key, slo, join(prefix, key), f"is an unknown key{hint}")

    def missing(self, node: Mapping[str, Any], key: str, slo: str | None, prefix: str) -> None:
        """Report `key` as missing, unless a misspelling of it was already reported."""
        if (id(node), key) not in self._misspelt:
            self.add(node, None, slo, join(prefix, key), "is missing")

    def mapping(
        self, node: Mapping[str, Any], key: str, slo: str | None, prefix: str, required: bool = False
    ) -> Mapping[str, Any] | None:
        """`node[key]` when it is a mapping; None (reported when present or required) otherwise."""
        value = node.get(key)
        if value is None:
            if required:
                self.missing(node, key, slo, prefix)
            return None
        if not isinstance(value, Mapping):
            self.add(node, key, slo, join(prefix, key), "must be a mapping")
            return None
        return value

    def text(
        self, node: Mapping[str, Any], key: str, slo: str | None, prefix: str, required: bool = True
    ) -> str | None:
        """`node[key]` as a non-empty string (numbers accepted); None when absent or invalid."""
        value = node.get(key)
        if value is None or value == "":
            if required:
                self.missing(node, key, slo, prefix)
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.add(node, key, slo, join(prefix, key), f"must be a string, not {type(value).__name__}")
            return None
        return str(value).strip()

    def name(self, node: Mapping[str, Any], key: str, slo: str | None, prefix: str) -> str | None:
        """A required name (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`)."""
        value = self.text(node, key, slo, prefix)
        if value is not None and not NAME.match(value):
            self.add(node, key, slo, join(prefix, key), f"{value!r} is not a valid name")
            return None
        return value

    def str_map(self, node: Mapping[str, Any], key: str, slo: str | None, prefix: str) -> dict[str, str]:
        """`node[key]` as a string-to-string mapping (empty when absent or invalid)."""
        value = self.mapping(node, key, slo, prefix)
        return {str(k): str(v) for k, v in (value or {}).items()}

    def windowed_query(self, node: Mapping[str, Any], key: str, slo: str, prefix: str) -> str | None:
        """A required PromQL query containing `{{.window}}`."""
        query = self.text(node, key, slo, prefix)
        if query is not None and WINDOW_PLACEHOLDER not in query:
            self.add(node, key, slo, join(prefix, key), f"does not contain {WINDOW_PLACEHOLDER}")
            return None
        return query

    def selector(self, node: Mapping[str, Any], key: str, slo: str, prefix: str) -> str | None:
        """A required metric selector (`name{labels}`), as Pyrra and OpenSLO counters take."""
        value = self.text(node, key, slo, prefix)
        if value is not None and not SELECTOR.match(value):
            self.add(node, key, slo, join(prefix, key), f"{value!r} is not a metric selector")
            return None
        return value
