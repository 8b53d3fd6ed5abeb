"""One PNG chart per SLO: daily SLI against the objective, and the error budget burning down."""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from sloapi.reports.model import SLOReport

WIDTH_INCHES = 6.0
HEIGHT_INCHES = 3.0
DPI = 100
GOOD = "#2e7d32"
BAD = "#c62828"
NEUTRAL = "#1565c0"
MAX_TICKS = 6  # value ticks drawn at most per frame
NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)


def nice_ticks(low: float, high: float, count: int = 5) -> tuple[list[float], int]:
    """Round tick values covering [low, high]: about `count` of them, every one a multiple of
    1, 2, 2.5 or 5 times a power of ten; and the decimals that print them exactly.

    >>> nice_ticks(99.7, 100.0)
    ([99.7, 99.8, 99.9, 100.0], 1)
    """
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        low, high = (low - 1.0, low + 1.0) if math.isfinite(low) else (0.0, 1.0)
    raw = (high - low) / max(1, count - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(power * n for n in NICE_STEPS if power * n >= raw * (1 - 1e-9))
    first = math.floor(low / step + 1e-9) * step
    ticks: list[float] = []
    value = first
    while value <= high + step * 1e-9 and len(ticks) < MAX_TICKS + 2:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high - step * 1e-9:
        ticks.append(round(value, 12))
    exponent = Decimal(repr(round(step, 12))).normalize().as_tuple().exponent
    decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    return ticks[-MAX_TICKS:] if len(ticks) > MAX_TICKS else ticks, decimals


@dataclass(frozen=True)
class ChartData:
    """What one chart needs."""

    objective: float
    days: tuple[int, ...]
    sli: tuple[float | None, ...]
    remaining: tuple[float | None, ...]

    @classmethod
    def of(cls, slo: SLOReport) -> ChartData:
        """The chart data of an SLO's report."""
        return cls(
            objective=slo.objective,
            days=tuple(day.date.day for day in slo.daily),
            sli=tuple(day.sli for day in slo.daily),
            remaining=tuple(day.budget_remaining_ratio for day in slo.daily),
        )


class ChartRenderer:
    """Draws SLO charts on one reused figure.

    The static parts (frames, titles, day ticks) are drawn once and kept as a bitmap; each
    chart restores it and draws only its own bars, lines, grid lines and value labels
    ("blitting"). Value ticks are round numbers (`nice_ticks`); the objective line is labelled;
    days without data leave a gap in the budget line.
    """

    def __init__(self) -> None:
        """Create the figure, draw its static parts and keep them."""
        self.figure: Figure = plt.figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
        self.canvas = FigureCanvasAgg(self.figure)
        self.sli_axes, self.budget_axes = self.figure.subplots(1, 2)
        self.figure.subplots_adjust(left=0.1, right=0.98, bottom=0.1, top=0.9, wspace=0.32)
        titles = ("Daily SLI (%) by day", "Error budget left (%)")
        self.labels: dict[Axes, list[Text]] = {}
        self.grids: dict[Axes, LineCollection] = {}
        for axes, title in zip((self.sli_axes, self.budget_axes), titles, strict=True):
            axes.set_title(title, fontsize=9)
            axes.set_xlim(0, 32)
            axes.set_xticks([1, 8, 15, 22, 29])
            axes.set_yticks([])
            axes.tick_params(labelsize=7)
            along = axes.get_yaxis_transform()  # x in frame fractions, y in data
            self.grids[axes] = LineCollection(
                [], transform=along, colors="#e6e6e6", linewidths=0.6, zorder=0, animated=True
            )
            axes.add_collection(self.grids[axes], autolim=False)
            self.labels[axes] = [
                axes.text(-0.03, 0, "", transform=along, ha="right", va="center", fontsize=7,
                          animated=True)
                for _ in range(MAX_TICKS)
            ]  # fmt: skip
        self.bars = self.sli_axes.vlines([], [], [], linewidth=5, animated=True)
        self.objective = self.sli_axes.axhline(99.9, color="#333333", ls="--", lw=1, animated=True)
        self.objective_label = self.sli_axes.text(
            0.99, 99.9, "", transform=self.sli_axes.get_yaxis_transform(), ha="right", va="bottom",
            fontsize=7, color="#333333", animated=True,
        )  # fmt: skip
        (self.remaining,) = self.budget_axes.plot([], [], color=NEUTRAL, lw=1.5, animated=True)
        (self.ideal,) = self.budget_axes.plot([], [], color="#999999", ls=":", lw=1, animated=True)
        self.zero = self.budget_axes.axhline(0.0, color=BAD, lw=0.8, animated=True)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)

    def render(self, slo: ChartData) -> bytes:
        """Draw one SLO's chart and return the PNG bytes."""
        self.canvas.restore_region(self.background)
        self._draw_sli(slo)
        self._draw_budget(slo)
        size = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", size, self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="PNG", compress_level=3)
        return buffer.getvalue()

    def close(self) -> None:
        """Free the figure."""
        plt.close(self.figure)

    def _scale(self, axes: Axes, low: float, high: float) -> None:
        """Fit [low, high] with round ticks and draw the grid lines and tick labels."""
        ticks, decimals = nice_ticks(low, high, 4)
        pad = 0.06 * (ticks[-1] - ticks[0])
        axes.set_ylim(ticks[0] - pad, ticks[-1] + pad)
        self.grids[axes].set_segments([[(0, tick), (1, tick)] for tick in ticks])
        axes.draw_artist(self.grids[axes])
        for tick, label in zip(ticks, self.labels[axes], strict=False):
            label.set_y(tick)
            label.set_text(f"{tick:.{decimals}f}")
            axes.draw_artist(label)

    def _draw_sli(self, slo: ChartData) -> None:
        axes = self.sli_axes
        objective = 100.0 * slo.objective
        known = [(day, 100.0 * sli) for day, sli in zip(slo.days, slo.sli, strict=True) if sli is not None]
        lowest = min([value for _, value in known] + [objective])
        floor = max(0.0, lowest - 0.15 * (100 - lowest) - 0.5 * (100 - objective))
        self._scale(axes, floor, 100.0)
        self.bars.set_segments([[(day, floor), (day, value)] for day, value in known])
        self.bars.set_color([GOOD if value >= objective else BAD for _, value in known])
        self.objective.set_ydata([objective, objective])
        self.objective_label.set_y(objective)
        self.objective_label.set_text(f"objective {objective:g}%")
        axes.draw_artist(self.bars)
        axes.draw_artist(self.objective)
        axes.draw_artist(self.objective_label)

    def _draw_budget(self, slo: ChartData) -> None:
        axes = self.budget_axes
        days = [0, *slo.days]
        remaining = [100.0] + [math.nan if left is None else 100.0 * left for left in slo.remaining]
        self._scale(axes, min([0.0, *(v for v in remaining if not math.isnan(v))]), 100.0)
        self.remaining.set_data(days, remaining)
        self.ideal.set_data([0, max(1, len(slo.days))], [100.0, 0.0])
        for artist in (self.zero, self.ideal, self.remaining):
            axes.draw_artist(artist)


def render_charts(slos: Iterable[SLOReport]) -> dict[str, bytes]:
    """PNG chart per SLO id (one figure reused for all)."""
    renderer = ChartRenderer()
    try:
        return {slo.id: renderer.render(ChartData.of(slo)) for slo in slos}
    finally:
        renderer.close()
