"""Drawing on a Pillow image in chart terms: a plot frame mapping data to pixels, text placed by
anchor, dashed and broken lines. The image is drawn at `SCALE` times its size and reduced at the
end, which smooths the lines' edges as antialiasing would; the reduced image is mapped onto a
fixed palette of the inks' shades (a small PNG, quick to encode, the same bytes every time)."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib
from PIL import Image, ImageColor, ImageDraw, ImageFont

SCALE = 2  # drawn at twice the size, then reduced
SHADES = 32  # tones of each ink on white in the palette
POINT = 100 / 72  # pixels per typographic point at 100 dpi
Point = tuple[float, float]
Colour = str
_FONT_LOCK = threading.Lock()  # one FreeType face serves every thread that renders reports


@lru_cache(maxsize=8)
def font(points: float) -> ImageFont.FreeTypeFont:
    """DejaVu Sans (shipped with matplotlib) at `points` on the drawn scale."""
    path = Path(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")
    return ImageFont.truetype(str(path), size=points * POINT * SCALE)


@lru_cache(maxsize=1024)
def _glyphs(text: str, points: float, anchor: str) -> tuple[Image.Image, int, int]:
    """The coverage mask of `text` and its offset from the anchor point (labels repeat a lot)."""
    face = font(points)
    left, top, right, bottom = (int(v) for v in face.getbbox(text, anchor=anchor))
    mask = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(mask).text((-left, -top), text, fill=255, font=face, anchor=anchor)
    return mask, left, top


class Canvas:
    """An image being drawn on: Pillow's drawing calls, and text from cached glyph masks."""

    def __init__(self, image: Image.Image) -> None:
        self.image = image
        self.draw = ImageDraw.Draw(image)

    def text(self, at: Point, text: str, points: float, anchor: str, fill: Colour = "black") -> None:
        """`text` in DejaVu Sans at `points`, placed by its Pillow `anchor` (e.g. "rm") at `at`."""
        with _FONT_LOCK:
            mask, left, top = _glyphs(text, points, anchor)
        self.image.paste(fill, (round(at[0]) + left, round(at[1]) + top), mask)


def px(size: float) -> float:
    """A length in output pixels on the drawn scale."""
    return size * SCALE


def width(points: float) -> int:
    """A line width given in points, in drawn pixels (at least one)."""
    return max(1, round(points * POINT * SCALE))


@dataclass(frozen=True)
class Frame:
    """A plot area in drawn pixels and the data ranges it shows."""

    left: float
    top: float
    right: float
    bottom: float
    x_range: tuple[float, float]
    y_range: tuple[float, float] = (0.0, 1.0)

    def with_y(self, low: float, high: float) -> Frame:
        """The same area showing `[low, high]` vertically."""
        return Frame(self.left, self.top, self.right, self.bottom, self.x_range, (low, high))

    def x(self, value: float) -> float:
        """Pixel column of a data x."""
        low, high = self.x_range
        return self.left + (value - low) / (high - low) * (self.right - self.left)

    def y(self, value: float) -> float:
        """Pixel row of a data y, kept inside the frame."""
        low, high = self.y_range
        row = self.bottom - (value - low) / (high - low) * (self.bottom - self.top)
        return min(max(row, self.top), self.bottom)

    def at(self, x: float, y: float) -> Point:
        """Pixel of a data point."""
        return self.x(x), self.y(y)

    @property
    def centre(self) -> float:
        """Pixel column of the frame's middle."""
        return (self.left + self.right) / 2


def new_image(width_px: int, height_px: int) -> Image.Image:
    """A white RGB image of the output size, on the drawn scale."""
    return Image.new("RGB", (width_px * SCALE, height_px * SCALE), "white")


@lru_cache(maxsize=4)
def palette(inks: tuple[Colour, ...]) -> Image.Image:
    """A palette image of `SHADES` tones of each ink from white (at most 256 colours)."""
    colours: dict[tuple[int, ...], None] = {}
    for ink in inks:
        rgb = ImageColor.getrgb(ink)
        for step in range(SHADES):
            share = step / (SHADES - 1)
            colours[tuple(round(255 + (value - 255) * share) for value in rgb[:3])] = None
    flat = [value for colour in list(colours)[:256] for value in colour]
    image = Image.new("P", (1, 1))
    image.putpalette(flat + [0] * (768 - len(flat)))
    return image


def finish(image: Image.Image, inks: tuple[Colour, ...]) -> Image.Image:
    """The drawn image reduced to the output size (each output pixel the mean of its block), each
    pixel then the nearest tone of `inks` (no dithering)."""
    return image.reduce(SCALE).quantize(palette=palette(inks), dither=Image.Dither.NONE)


def dashed(
    draw: ImageDraw.ImageDraw, start: Point, end: Point, pattern: tuple[float, float], fill: Colour, line: int
) -> None:
    """A straight line of dashes `pattern` = (on, off) in drawn pixels."""
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    if length == 0:
        return
    dx, dy = (x1 - x0) / length, (y1 - y0) / length
    on, off = pattern
    pos = 0.0
    while pos < length:
        stop = min(pos + on, length)
        draw.line([(x0 + dx * pos, y0 + dy * pos), (x0 + dx * stop, y0 + dy * stop)], fill=fill, width=line)
        pos = stop + off


def runs(points: Iterable[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """The points split where a value is NaN: each run is drawn as its own line (a gap between)."""
    out: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if math.isnan(y):
            if out[-1]:
                out.append([])
        else:
            out[-1].append((x, y))
    return [run for run in out if run]


def polyline(draw: ImageDraw.ImageDraw, pixels: Sequence[Point], fill: Colour, line: int) -> None:
    """A line through `pixels` with round joints; a single point as a dot."""
    if len(pixels) == 1:
        (x, y), r = pixels[0], line / 2
        draw.ellipse([(x - r, y - r), (x + r, y + r)], fill=fill)
    else:
        draw.line(list(pixels), fill=fill, width=line, joint="curve")


__all__ = [
    "SCALE",
    "Canvas",
    "Frame",
    "dashed",
    "finish",
    "font",
    "new_image",
    "palette",
    "polyline",
    "px",
    "runs",
    "width",
]
