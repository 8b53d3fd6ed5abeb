"""Range queries cut into chunks under Prometheus's points limit."""

from __future__ import annotations

import math


def chunk_bounds(start: float, end: float, step: int, max_points: int) -> list[tuple[float, float]]:
    """Split the grid `start, start+step, ..., <= end` into chunks of at most `max_points`.

    Chunks are contiguous and do not overlap; every grid point belongs to exactly one chunk.
    """
    if step <= 0 or max_points < 1:
        raise ValueError("step and max_points must be positive")
    if end < start:
        return []
    points = math.floor((end - start) / step) + 1
    chunks = []
    first = 0
    while first < points:
        last = min(points, first + max_points) - 1
        chunks.append((start + first * step, start + last * step))
        first = last + 1
    return chunks
