"""One PNG chart per SLO: daily SLI against the objective, and the error budget burning down."""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sloapi.reports.model import SLOReport
from sloapi.reports.raster import Canvas, Frame, dashed, finish, new_image, polyline, px, runs, width

WIDTH_INCHES = 6.0
HEIGHT_INCHES = 3.0
DPI = 100
GOOD = "#2e7d32"
BAD = "#c62828"
NEUTRAL = "#1565c0"
INK = "#333333"
GRID = "#e6e6e6"
DAY_TICKS = (1, 8, 15, 22, 29)
FAINT = "#999999"
INKS = ("black", INK, GOOD, BAD, NEUTRAL, GRID, FAINT)  # every colour drawn
BAR_WIDTH = 0.85  # of a day
PNG_LEVEL = 3  # zlib level of the PNG encoder
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
    """Draws SLO charts with Pillow on a copy of one static background.

    The static parts (frames, titles, day ticks) are drawn once; each chart copies them and draws
    its own bars, lines, grid lines and value labels. Value ticks are round numbers
    (`nice_ticks`); the objective line is labelled; days without data leave a gap in the budget
    line. The same data always gives the same PNG bytes.
    """

    def __init__(self) -> None:
        """Lay out the two plot frames and draw the static background."""
        width, height = WIDTH_INCHES * DPI, HEIGHT_INCHES * DPI
        left, right, bottom, top, space = 0.1, 0.98, 0.1, 0.9, 0.32  # fractions of the figure
        frame_width = (right - left) * width / (2 + space)
        frames = []
        for i in range(2):
            x0 = left * width + i * frame_width * (1 + space)
            frames.append(
                Frame(
                    px(x0), px((1 - top) * height), px(x0 + frame_width), px((1 - bottom) * height), (0, 32)
                )
            )
        self.sli_frame, self.budget_frame = frames
        self.background = new_image(int(width), int(height))
        canvas = Canvas(self.background)
        for frame, title in zip(frames, ("Daily SLI (%) by day", "Error budget left (%)"), strict=True):
            _draw_static(canvas, frame, title)

    def render(self, slo: ChartData) -> bytes:
        """Draw one SLO's chart and return the PNG bytes."""
        image = self.background.copy()
        canvas = Canvas(image)
        self._draw_sli(canvas, slo)
        self._draw_budget(canvas, slo)
        buffer = io.BytesIO()
        finish(image, INKS).save(buffer, format="PNG", compress_level=PNG_LEVEL)
        return buffer.getvalue()

    def close(self) -> None:
        """Nothing to free (kept for callers that close renderers)."""

    @staticmethod
    def _scale(canvas: Canvas, frame: Frame, low: float, high: float) -> Frame:
        """Fit [low, high] with round ticks, draw the grid lines and tick labels; the frame
        with its vertical range set."""
        ticks, decimals = nice_ticks(low, high, 4)
        pad = 0.06 * (ticks[-1] - ticks[0])
        frame = frame.with_y(ticks[0] - pad, ticks[-1] + pad)
        label_x = frame.left - 0.03 * (frame.right - frame.left)
        for tick in ticks:
            row = frame.y(tick)
            canvas.draw.line([(frame.left + 1, row), (frame.right - 1, row)], fill=GRID, width=width(0.6))
            canvas.text((label_x, row), f"{tick:.{decimals}f}", 7, "rm")
        return frame

    def _draw_sli(self, canvas: Canvas, slo: ChartData) -> None:
        objective = 100.0 * slo.objective
        known = [(day, 100.0 * sli) for day, sli in zip(slo.days, slo.sli, strict=True) if sli is not None]
        lowest = min([value for _, value in known] + [objective])
        floor = max(0.0, lowest - 0.15 * (100 - lowest) - 0.5 * (100 - objective))
        frame = self._scale(canvas, self.sli_frame, floor, 100.0)
        half = BAR_WIDTH * (frame.x(1) - frame.x(0)) / 2
        for day, value in known:
            x = frame.x(day)
            top, base = sorted((frame.y(value), frame.y(floor)))
            canvas.draw.rectangle(
                [(x - half, top), (x + half - 1, base)], fill=GOOD if value >= objective else BAD
            )
        row = frame.y(objective)
        dashed(canvas.draw, (frame.left, row), (frame.right, row), (px(5.1), px(2.2)), INK, width(1))
        label = f"objective {objective:g}%"
        canvas.text((frame.left + 0.99 * (frame.right - frame.left), row), label, 7, "rd", INK)

    def _draw_budget(self, canvas: Canvas, slo: ChartData) -> None:
        days = [0, *slo.days]
        remaining = [100.0] + [math.nan if left is None else 100.0 * left for left in slo.remaining]
        frame = self._scale(
            canvas, self.budget_frame, min([0.0, *(v for v in remaining if not math.isnan(v))]), 100.0
        )
        row = frame.y(0.0)
        canvas.draw.line([(frame.left, row), (frame.right, row)], fill=BAD, width=width(0.8))
        ideal = (frame.at(0, 100.0), frame.at(max(1, len(slo.days)), 0.0))
        dashed(canvas.draw, *ideal, (px(1.4), px(2.3)), FAINT, width(1))
        for run in runs(zip(days, remaining, strict=True)):
            polyline(canvas.draw, [frame.at(x, y) for x, y in run], NEUTRAL, width(1.5))


def _draw_static(canvas: Canvas, frame: Frame, title: str) -> None:
    """A frame's border, title and day ticks (1, 8, 15, 22, 29)."""
    line = width(0.8)
    draw = canvas.draw
    draw.rectangle([(frame.left, frame.top), (frame.right, frame.bottom)], outline="black", width=line)
    canvas.text((frame.centre, frame.top - px(8.3)), title, 9, "ms")
    for day in DAY_TICKS:
        x = frame.x(day)
        draw.line([(x, frame.bottom), (x, frame.bottom + px(4.9))], fill="black", width=line)
        canvas.text((x, frame.bottom + px(8.4)), str(day), 7, "mt")


def render_charts(slos: Iterable[SLOReport]) -> dict[str, bytes]:
    """PNG chart per SLO id (one figure reused for all)."""
    renderer = ChartRenderer()
    try:
        return {slo.id: renderer.render(ChartData.of(slo)) for slo in slos}
    finally:
        renderer.close()
