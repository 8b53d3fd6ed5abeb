"""Where our PgBouncer scrape's time goes, each stage timed in the bench process.

The console queries are wall time on one connection (PgBouncer answering plus libpq and the
cell-by-cell decoding in `console.py`); parsing and rendering are CPU time on the answers
recorded by those queries, the best of five.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from exporters.core.metrics import iter_parts
from exporters.pgbouncer.console import Console, Table
from exporters.pgbouncer.scrape import Options, collect_views

QUERIES = (
    "SHOW VERSION",
    "SHOW LISTS",
    "SHOW CONFIG",
    "SHOW DATABASES",
    "SHOW POOLS",
    "SHOW STATS_TOTALS",
    "SHOW CLIENTS",
    "SHOW SERVERS",
)


def _best(func: Callable[[], object], runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        func()
        best = min(best, time.process_time() - start)
    return best


def stages(conninfo: str) -> dict[str, float]:
    """Seconds per stage of one scrape of the PgBouncer at `conninfo`."""
    answers: dict[str, Table] = {}
    out: dict[str, float] = {}
    start = time.perf_counter()
    with Console(conninfo, time.monotonic() + 30) as console:
        out["connect (wall)"] = time.perf_counter() - start
        for query in QUERIES:
            start = time.perf_counter()
            answers[query] = console.query(query)
            out[f"{query}: {len(answers[query][1])} rows (wall)"] = time.perf_counter() - start
    families = collect_views(answers.__getitem__, Options())
    out["parse every view (CPU)"] = _best(lambda: collect_views(answers.__getitem__, Options()))
    out["render and encode the text (CPU)"] = _best(lambda: [p.encode() for p in iter_parts(families)])
    return out
