"""The report's PNG charts, read back pixel by pixel: bars coloured by the objective, a labelled
objective line, round value labels, a gap in the budget line for days without data, the same
bytes for the same data."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image, ImageColor

from sloapi.reports.charts import BAD, GOOD, INK, NEUTRAL, ChartData, ChartRenderer
from sloapi.reports.raster import SCALE, Frame

SLI = (1.0, 1.0, 0.99, 1.0, None, 1.0, 0.9995, 1.0, 1.0, 1.0)
LEFT = (1.0, 0.9, 0.5, 0.45, None, None, 0.4, 0.3, 0.2, -0.2)
DATA = ChartData(objective=0.999, days=tuple(range(1, 11)), sli=SLI, remaining=LEFT)


@pytest.fixture(scope="module")
def drawn() -> tuple[bytes, Image.Image, ChartRenderer]:
    renderer = ChartRenderer()
    png = renderer.render(DATA)
    return png, Image.open(io.BytesIO(png)).convert("RGB"), renderer


def column(image: Image.Image, frame: Frame, day: float) -> list[tuple[int, int, int]]:
    """The pixels of the column of `day` inside `frame` (output pixels)."""
    x = round(frame.x(day) / SCALE)
    return [image.getpixel((x, y)) for y in range(int(frame.top / SCALE) + 2, int(frame.bottom / SCALE) - 1)]


def test_chart_is_a_small_palette_png_of_600_by_300(drawn) -> None:  # type: ignore[no-untyped-def]
    png, image, _renderer = drawn
    assert png.startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(png)).mode == "P"
    assert image.size == (600, 300)
    assert len(png) < 20_000


def test_same_data_same_bytes(drawn) -> None:  # type: ignore[no-untyped-def]
    png, _image, _renderer = drawn
    assert ChartRenderer().render(DATA) == png
    other = ChartData(objective=0.999, days=DATA.days, sli=(0.98, *SLI[1:]), remaining=LEFT)
    assert ChartRenderer().render(other) != png


def test_bars_are_green_when_met_red_when_missed_absent_without_data(drawn) -> None:  # type: ignore[no-untyped-def]
    _png, image, renderer = drawn
    good, bad = ImageColor.getrgb(GOOD), ImageColor.getrgb(BAD)
    frame = renderer.sli_frame
    for day, sli in zip(DATA.days, SLI, strict=True):
        pixels = column(image, frame, day)
        if sli is None:
            assert good not in pixels and bad not in pixels, day
        elif sli >= 0.999:
            assert pixels.count(good) > 10 and bad not in pixels, day
        else:
            assert pixels.count(bad) > 10 and good not in pixels, day


def test_objective_line_is_dashed_across_the_frame_and_labelled(drawn) -> None:  # type: ignore[no-untyped-def]
    _png, image, renderer = drawn
    frame = renderer.sli_frame
    ink = ImageColor.getrgb(INK)[0]

    def grey(pixel: tuple[int, int, int]) -> bool:  # the ink's tones on white
        return max(pixel) - min(pixel) < 8 and ink <= pixel[0] < 200

    left, right = round(frame.left / SCALE) + 2, round(frame.right / SCALE) - 2
    rows = {
        y: sum(grey(image.getpixel((x, y))) for x in range(left, right))
        for y in range(round(frame.top / SCALE) + 2, round(frame.bottom / SCALE) - 2)
    }
    row, dashes = max(rows.items(), key=lambda item: item[1])
    assert dashes > 0.3 * (right - left)  # a dashed line over the whole width
    # its label sits just above it at the right end: dark pixels there, none where no bar is
    above = [image.getpixel((x, y)) for x in range(right - 60, right) for y in range(row - 12, row - 1)]
    assert sum(sum(p) < 600 for p in above) > 40
    empty = range(round(frame.x(15) / SCALE), round(frame.x(19) / SCALE))
    assert all(sum(image.getpixel((x, y))) > 680 for x in empty for y in range(row - 12, row - 1))


def test_value_labels_left_of_each_frame(drawn) -> None:  # type: ignore[no-untyped-def]
    _png, image, renderer = drawn
    for frame in (renderer.sli_frame, renderer.budget_frame):
        x0 = round(frame.left / SCALE)
        strip = [
            sum(sum(image.getpixel((x, y)) or (0, 0, 0)) < 300 for x in range(x0 - 35, x0 - 3))
            for y in range(round(frame.top / SCALE), round(frame.bottom / SCALE))
        ]
        # three to six labels: runs of rows with dark pixels, separated by blank rows
        runs = sum(1 for i in range(1, len(strip)) if strip[i] and not strip[i - 1])
        assert 3 <= runs <= 6


def test_budget_line_leaves_a_gap_where_days_have_no_data(drawn) -> None:  # type: ignore[no-untyped-def]
    _png, image, renderer = drawn
    frame = renderer.budget_frame

    def blue(day: float) -> int:
        return sum(1 for r, g, b in column(image, frame, day) if b > r + 60 and b > g + 30)

    assert ImageColor.getrgb(NEUTRAL) in {colour for _count, colour in image.getcolors(1 << 16)}
    for day in (0.5, 1.5, 2.5, 3.5, 7.5, 8.5, 9.5):
        assert blue(day) > 0, day
    for day in (4.3, 5.0, 5.5, 6.0, 6.7):
        assert blue(day) == 0, day


def test_renderers_in_threads_draw_the_same_bytes(drawn) -> None:  # type: ignore[no-untyped-def]
    png, _image, _renderer = drawn
    variants = [
        ChartData(objective=0.999, days=DATA.days, sli=(value, *SLI[1:]), remaining=LEFT)
        for value in (1.0, 0.998, 0.95, 0.5)
    ]
    alone = [ChartRenderer().render(data) for data in variants]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda data: ChartRenderer().render(data), variants * 3))
    assert together == alone * 3
    assert alone[0] == png
