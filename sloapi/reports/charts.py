"""One PNG chart per SLO: daily SLI against the objective, and the error budget burning down."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
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
TICK_FRACTIONS = (0.05, 0.35, 0.65, 0.95)  # value ticks at these heights of each frame


@dataclass(frozen=True)
class ChartData:
    """What one chart needs."""

    objective: float
    days: tuple[int, ...]
    sli: tuple[float | None, ...]
    remaining: tuple[float, ...]

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

    The static parts (frames, titles, day ticks, grid lines) are drawn once and kept as a
    bitmap; each chart restores it and draws only its own bars, lines and value labels
    ("blitting"). Value ticks sit at fixed heights of each frame, so only their texts change.
    """

    def __init__(self) -> None:
        """Create the figure, draw its static parts and keep them."""
        self.figure: Figure = plt.figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
        self.canvas = FigureCanvasAgg(self.figure)
        self.sli_axes, self.budget_axes = self.figure.subplots(1, 2)
        self.figure.subplots_adjust(left=0.1, right=0.98, bottom=0.1, top=0.9, wspace=0.32)
        titles = ("Daily SLI (%) by day", "Error budget left (%)")
        self.labels: dict[Axes, list[Text]] = {}
        for axes, title in zip((self.sli_axes, self.budget_axes), titles, strict=True):
            axes.set_title(title, fontsize=9)
            axes.set_xlim(0, 32)
            axes.set_xticks([1, 8, 15, 22, 29])
            axes.set_yticks([])
            axes.tick_params(labelsize=7)
            grid = axes.get_xaxis_transform()
            for fraction in TICK_FRACTIONS:
                axes.plot([0, 32], [fraction] * 2, transform=grid, color="#e6e6e6", lw=0.6, zorder=0)
            self.labels[axes] = [
                axes.text(-0.03, fraction, "", transform=axes.transAxes, ha="right",
                          va="center", fontsize=7, animated=True)
                for fraction in TICK_FRACTIONS
            ]  # fmt: skip
        self.bars = self.sli_axes.vlines([], [], [], linewidth=5, animated=True)
        self.objective = self.sli_axes.axhline(99.9, color="#333333", ls="--", lw=1, animated=True)
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
        """Put [low, high] on the outer tick heights and draw the tick labels."""
        span = (high - low) / (TICK_FRACTIONS[-1] - TICK_FRACTIONS[0]) or 1.0
        bottom = low - TICK_FRACTIONS[0] * span
        axes.set_ylim(bottom, bottom + span)
        for fraction, label in zip(TICK_FRACTIONS, self.labels[axes], strict=True):
            label.set_text(f"{bottom + fraction * span:.4g}")
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
        axes.draw_artist(self.bars)
        axes.draw_artist(self.objective)

    def _draw_budget(self, slo: ChartData) -> None:
        axes = self.budget_axes
        days = [0, *slo.days]
        remaining = [100.0] + [100.0 * left for left in slo.remaining]
        self._scale(axes, min(0.0, *remaining), 100.0)
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
