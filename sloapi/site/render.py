"""The site's Jinja2 environment (autoescaped) and its display filters."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from sloapi.reports.render import duration, percent

ENV = Environment(
    loader=PackageLoader("sloapi.site", "templates"),
    autoescape=select_autoescape(["html", "j2"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def sli_text(value: float | None, digits: int = 3) -> str:
    """``0.99912`` -> ``99.912%``; None -> ``n/a`` (the report's formatting)."""
    return percent(value, digits)


def minutes(seconds: float | None) -> str:
    """Seconds of budget as minutes: ``43.2 min`` (negative when overspent); None -> ``n/a``."""
    if seconds is None or not math.isfinite(seconds):
        return "n/a"
    return f"{seconds / 60:.1f} min"


def burn(value: float | None) -> str:
    """A burn rate: ``0.42x`` (a multiplication sign); None -> a dash (no traffic or no data)."""
    if value is None or not math.isfinite(value):
        return "\u2013"
    return f"{value:.2f}\u00d7" if value < 100 else f"{value:.0f}\u00d7"


def exhaustion(seconds: float | None) -> str:
    """Time to exhaustion at the 1 h burn rate; None -> ``not burning``."""
    if seconds is None or not math.isfinite(seconds):
        return "not burning"
    if seconds <= 0:
        return "exhausted"
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} days"
    return duration(seconds)


def bar_width(remaining: float | None) -> str:
    """CSS width of the budget bar: remaining budget clamped to 0-100 %."""
    if remaining is None or not math.isfinite(remaining):
        return "0%"
    return f"{max(0.0, min(1.0, remaining)) * 100:.1f}%"


def when(value: str | datetime | None) -> str:
    """An ISO time as ``2026-11-29 07:00 UTC``."""
    if value is None:
        return "n/a"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


ENV.filters.update(
    sli=sli_text, minutes=minutes, burn=burn, exhaustion=exhaustion, bar=bar_width, when=when,
    duration=duration,
)  # fmt: skip


def page(template: str, **context: Any) -> str:
    """Render one of the site's templates."""
    return ENV.get_template(template).render(**context)


def trusted(html: str) -> Markup:
    """Mark HTML this service generated (charts, rendered runbooks, report body) as safe."""
    return Markup(html)  # noqa: S704
