"""Server-side SVG charts of one SLO: budget burn-down and SLI over time (matplotlib, no pyplot).

Each chart is its own `Figure` (thread-safe: no global pyplot state). Steps without data are
NaN, which matplotlib draws as gaps. Text stays text in the SVG (small, selectable, crisp).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import datetime

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

WIDTH_INCHES = 8.0
HEIGHT_INCHES = 2.8
LINE = "#1565c0"
IDEAL = "#9e9e9e"
OBJECTIVE = "#c62828"
BAD = OBJECTIVE
GRID = "#e6e6e6"
FLOOR = -100.0  # budget drawn down to -100 % (spent twice); lower values sit on the floor, noted


def _percent_formatter(decimals: int) -> FuncFormatter:
    return FuncFormatter(lambda value, _pos: f"{value:.{decimals}f}%")


def _decimals(low: float, high: float) -> int:
    """Tick decimals for a range in percent: enough to tell ticks apart, no more."""
    span = max(high - low, 1e-9)
    return max(0, min(4, 1 - math.floor(math.log10(span / 5))))


def _marker(values: np.ndarray) -> str | None:
    """Dots when few points have data (a lone point draws no line)."""
    return "o" if np.isfinite(values).sum() < 48 else None


def _axes(title: str) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=100)
    axes = figure.add_subplot()
    figure.subplots_adjust(left=0.1, right=0.97, top=0.88, bottom=0.14)
    axes.set_title(title, fontsize=10, loc="left")
    axes.grid(True, color=GRID, linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(labelsize=8)
    locator = AutoDateLocator(minticks=4, maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    return figure, axes


def _span(axes: Axes, x: np.ndarray) -> None:
    """The whole window on the x axis, with a little room so the last point is not cut."""
    if len(x) > 1:
        pad = 0.01 * float(x[-1] - x[0])
        axes.set_xlim(float(x[0]), float(x[-1]) + pad)


def _svg(figure: Figure, salt: str) -> str:
    """The figure as an inline ``<svg>`` element (ids salted so several charts share a page)."""
    buffer = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def budget_chart(
    times: Sequence[datetime], remaining: Sequence[float | None], ideal: Sequence[float | None], salt: str
) -> str:
    """Error budget left (%) over the window, with the ideal straight line; gaps where no data."""
    figure, axes = _axes("Error budget left (%)")
    x = np.asarray(date2num(list(times)), dtype=float)
    left = np.array([np.nan if v is None else 100.0 * v for v in remaining], dtype=float)
    line = np.array([np.nan if v is None else 100.0 * v for v in ideal], dtype=float)
    known = left[np.isfinite(left)]
    lowest = float(known.min()) if known.size else 0.0
    shown = np.where(np.isfinite(left), np.maximum(left, FLOOR), np.nan)
    axes.plot(x, line, color=IDEAL, linestyle=":", linewidth=1, label="even spend")
    axes.plot(x, shown, color=LINE, linewidth=1.6, label="budget left", marker=_marker(left), markersize=3)
    axes.axhline(0.0, color=OBJECTIVE, linewidth=0.8)
    axes.set_ylim(min(0.0, max(lowest, FLOOR)) - 4.0, 104.0)
    if lowest < FLOOR:
        note = f"overspent: lowest {lowest:.0f}% (drawn at {FLOOR:.0f}%)"
        axes.text(0.99, 0.04, note, transform=axes.transAxes, ha="right", va="bottom", fontsize=8, color=BAD)
    axes.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    axes.yaxis.set_major_formatter(_percent_formatter(0))
    axes.legend(loc="lower left", fontsize=8, frameon=False)
    _span(axes, x)
    return _svg(figure, salt)


def sli_chart(times: Sequence[datetime], sli: Sequence[float], objective: float, salt: str) -> str:
    """SLI per step (%) with the objective as a labelled line; gaps where no data or no traffic."""
    figure, axes = _axes("SLI per step (%)")
    x = np.asarray(date2num(list(times)), dtype=float)
    values = 100.0 * np.asarray(sli, dtype=float)
    target = 100.0 * objective
    axes.plot(x, values, color=LINE, linewidth=1.2, marker=_marker(values), markersize=3)
    known = values[np.isfinite(values)]
    lowest = float(known.min()) if known.size else target
    floor = max(0.0, min(lowest, target) - 0.5 * (100.0 - min(lowest, target)) - 1e-3)
    axes.set_ylim(floor, 100.0 + 0.05 * (100.0 - floor))
    decimals = _decimals(floor, 100.0)
    axes.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    axes.yaxis.set_major_formatter(_percent_formatter(decimals))
    axes.axhline(target, color=OBJECTIVE, linestyle="--", linewidth=1)
    axes.annotate(
        f"objective {target:g}%",
        xy=(1.0, target),
        xycoords=("axes fraction", "data"),
        xytext=(-4, 3),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize=8,
        color=OBJECTIVE,
    )
    if not known.size:
        axes.text(0.5, 0.5, "no data", transform=axes.transAxes, ha="center", va="center", color="#777")
    _span(axes, x)
    return _svg(figure, salt)
