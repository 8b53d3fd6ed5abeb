"""Range queries cut into chunks under the backend's points limit and maximum query range."""

from __future__ import annotations

import math

from sloapi.errors import QueryError


def points_per_chunk(step: int, max_points: int, max_range_seconds: int | None) -> int:
    """The most grid points one range request may hold.

    A request of `n` points spans `(n - 1) * step` seconds and reads one step before its first
    point (the `rate(...[step])` of each point), so `n * step` seconds of data: with a maximum
    range, `n * step <= max_range_seconds`.

    Raises:
        QueryError: the step alone is longer than the maximum range.
    """
    if max_range_seconds is None:
        return max_points
    by_range = max_range_seconds // step
    if by_range < 1:
        raise QueryError(
            f"step {step}s is longer than the maximum query range {max_range_seconds}s "
            "(SLOAPI_PROMETHEUS_MAX_QUERY_RANGE)"
        )
    return min(max_points, by_range)


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
