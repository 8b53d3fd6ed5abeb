"""Where our scrape's time goes: each stage timed in this process on one HAProxy.

Wall stages (HAProxy writing its answer, and the scrape's read, parse and families one after the
other or streamed) are medians of five, interleaved; CPU stages are CPU time of this process on
one recorded answer, the best of five, so that the load of a shared machine weighs on them as
little as it can.
"""

from __future__ import annotations

import socket
import statistics
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from exporters.core.config import Target
from exporters.core.metrics import Family, exposition_chunks, iter_parts, merge
from exporters.haproxy.families import info_families, stat_families
from exporters.haproxy.parse import StatTable, parse_info, parse_stat, split_answers
from exporters.haproxy.scrape import scrape
from exporters.haproxy.source import parse_address, run_commands

COMMANDS = ["show info", "show stat", "show ssl cert"]
# Stage names, used by bench.py to explain what bounds the scrape.
READ = "HAProxy writes the answer: socket read alone (wall)"
SEQUENTIAL = "read, then parse and build the families, one after the other (wall)"
STREAMED = "read, parse and build the families streamed, as the exporter does (wall)"
DECODE = "decode and split the answers"
PARSE = "parse show info and show stat"
BUILD = "build the families"
RENDER = "render and encode the text"
GZIP = "render, encode and gzip, `exposition_chunks` (ISA-L level 1, the HTTP server)"
ZLIB = "render, encode and gzip, zlib level 1 (for comparison)"


def read_socket(sock: Path) -> tuple[float, bytes]:
    """(seconds, answer) of one `show info;show stat;show ssl cert` on the stats socket."""
    start = time.perf_counter()
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(sock))
        s.sendall((";".join(COMMANDS) + "\n").encode())
        chunks = []
        while data := s.recv(1 << 18):
            chunks.append(data)
    return time.perf_counter() - start, b"".join(chunks)


def _best(func: Callable[[], object], runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        func()
        best = min(best, time.process_time() - start)
    return best


def _wall(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _zlib(families: list[Family]) -> None:
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    for part in iter_parts(families):
        comp.compress(part.encode())
    comp.flush()


def _sequential(sock: Path) -> list[Family]:
    """The scrape as it was before streaming: the whole answer, then parsing, then families."""
    answers = split_answers(run_commands(parse_address(f"unix:{sock}"), COMMANDS, 60), 3)
    return info_families(parse_info(answers[0])) + stat_families(parse_stat(answers[1]))


def wall_stages(sock: Path, runs: int = 5) -> dict[str, float]:
    """Median wall seconds of the socket read, the sequential and the streamed scrape."""
    target = Target(name="bench", address=f"unix:{sock}", timeout=60)
    funcs: dict[str, Callable[[], object]] = {
        READ: lambda: read_socket(sock),
        SEQUENTIAL: lambda: _sequential(sock),
        STREAMED: lambda: scrape(target),
    }
    took: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(runs):
        for name, func in funcs.items():
            took[name].append(_wall(func))
    return {name: statistics.median(xs) for name, xs in took.items()}


def stages(sock: Path) -> dict[str, float]:
    """Seconds per stage of one scrape of the HAProxy behind `sock`."""
    out = wall_stages(sock)
    raw = read_socket(sock)[1]
    answers = split_answers(raw.decode(), 3)
    table: StatTable = parse_stat(answers[1])
    families = merge(info_families(parse_info(answers[0])) + stat_families(table))
    out |= {
        DECODE: _best(lambda: split_answers(raw.decode(), 3)),
        PARSE: _best(lambda: (parse_info(answers[0]), parse_stat(answers[1]))),
        BUILD: _best(lambda: stat_families(table)),
        RENDER: _best(lambda: [p.encode() for p in iter_parts(families)]),
        GZIP: _best(lambda: list(exposition_chunks(families, True))),
        ZLIB: _best(lambda: _zlib(families)),
    }
    return out
