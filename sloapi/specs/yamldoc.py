"""YAML documents whose mappings remember their lines, so errors can name them."""

from __future__ import annotations

from typing import Any

import yaml


class LineMap(dict[str, Any]):
    """A YAML mapping with the 1-based line of itself (`line`) and of each key (`key_lines`)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str | None = None) -> int:
        """The line of `key` (or of the mapping when `key` is absent or None)."""
        lines = getattr(self, "key_lines", {})
        return lines.get(key, self.line) if key is not None else self.line


class _Loader(yaml.SafeLoader):
    """SafeLoader building `LineMap`s (keys as strings, as every spec format uses)."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    result = LineMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = str(loader.construct_object(key_node, deep=True))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_documents(text: str) -> list[Any]:
    """Every document of a (multi-document) YAML text; mappings are `LineMap`s.

    Raises:
        yaml.YAMLError: invalid YAML (its `problem_mark` holds the line).
    """
    return list(yaml.load_all(text, Loader=_Loader))
