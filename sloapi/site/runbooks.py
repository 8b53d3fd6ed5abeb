"""`docs/runbooks.md` as HTML: one heading id per alert, the anchors alerts' ``runbook_url`` name.

The package ships the document as package data: ``sloapi/site/content/runbooks.md`` is a
symbolic link to ``docs/runbooks.md`` in the source tree (one file to edit), which setuptools
copies into wheels as a regular file. Heading ids are Python-Markdown's ``toc`` slugs: lower
case, punctuation dropped, spaces to ``-`` (``### HaproxyDown`` -> ``haproxydown``,
``### SLO budget burn`` -> ``slo-budget-burn``), the same as a repository browser's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import markdown

_ID = re.compile(r'<h[1-6] id="([^"]+)"')


@dataclass(frozen=True)
class Runbooks:
    """The rendered document.

    Attributes:
        html: Body HTML (headings carry ids).
        toc: Table of contents HTML.
        anchors: Every heading id, in document order.
    """

    html: str
    toc: str
    anchors: tuple[str, ...]


def source_text() -> str:
    """The Markdown source shipped with the package."""
    return resources.files("sloapi.site").joinpath("content/runbooks.md").read_text(encoding="utf-8")


def render(text: str) -> Runbooks:
    """Render runbook Markdown (raw HTML in the source is escaped, not passed through)."""
    md = markdown.Markdown(
        extensions=["toc", "tables", "fenced_code"], extension_configs={"toc": {"toc_depth": "2-3"}}
    )
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    html = md.convert(text)
    return Runbooks(html=html, toc=getattr(md, "toc", ""), anchors=tuple(_ID.findall(html)))


@lru_cache(maxsize=1)
def runbooks() -> Runbooks:
    """The package's runbooks, rendered once per process."""
    return render(source_text())
