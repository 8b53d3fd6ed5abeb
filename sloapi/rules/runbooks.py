"""Runbook links of alerts: rules name an anchor of docs/runbooks.md; one base URL makes them absolute.

Rules files keep ``runbook_url: docs/runbooks.md#<anchor>`` (readable in the repository, and the
anchor is the single fact a rule owns). Where configs are rendered for a running system, the
prefix ``docs/runbooks.md`` is replaced by the runbooks' base URL (setting
``SLOAPI_RUNBOOK_BASE_URL``; the stack uses sloapi's own ``/runbooks`` page), so Alertmanager's
UI and every alert mail link to the right section.
"""

from __future__ import annotations

import re

DEFAULT_BASE = "docs/runbooks.md"
_LINK = re.compile(r"""(runbook_url:\s*["']?)docs/runbooks\.md(?=#)""")
_FORBIDDEN = re.compile(r"""[\s"'#<>{}\\]""")


def check_base(base: str) -> str:
    """Validate a runbook base URL (no trailing slash, fragment, quotes or spaces).

    Raises:
        ValueError: with the reason.
    """
    value = base.strip().rstrip("/")
    if not value:
        raise ValueError("must not be empty")
    if _FORBIDDEN.search(value):
        raise ValueError("must not contain spaces, quotes, braces, '<', '>', '\\' or '#'")
    return value


def with_base(rules_text: str, base: str) -> str:
    """``rules_text`` (YAML of rule groups) with every ``docs/runbooks.md#anchor`` link on ``base``."""
    value = check_base(base)
    if value == DEFAULT_BASE:
        return rules_text
    return _LINK.sub(lambda m: m.group(1) + value, rules_text)


def anchors(rules_text: str) -> list[str]:
    """The runbook anchors ``rules_text`` links to, in order (duplicates kept)."""
    return re.findall(r"""runbook_url:\s*["']?[^\s"'#]*#([\w-]+)""", rules_text)
