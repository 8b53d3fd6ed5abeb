"""Where our scrape's time goes: each stage timed in this process on one recorded answer.

The socket read is wall time (HAProxy writing `show info;show stat;show ssl cert`); the other
stages are CPU time of this process, the best of five, so that the load of a shared machine
weighs on them as little as it can.
"""

from __future__ import annotations

import socket
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from exporters.core.metrics import Family, exposition_chunks, iter_parts, merge
from exporters.haproxy.families import info_families, stat_families
from exporters.haproxy.parse import StatTable, parse_info, parse_stat, split_answers

COMMANDS = b"show info;show stat;show ssl cert\n"


def read_socket(sock: Path) -> tuple[float, bytes]:
    """(seconds, answer) of one `show info;show stat;show ssl cert` on the stats socket."""
    start = time.perf_counter()
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(sock))
        s.sendall(COMMANDS)
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


def _zlib(families: list[Family]) -> None:
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    for part in iter_parts(families):
        comp.compress(part.encode())
    comp.flush()


def stages(sock: Path) -> dict[str, float]:
    """Seconds per stage of one scrape of the HAProxy behind `sock`."""
    took, raw = read_socket(sock)
    answers = split_answers(raw.decode(), 3)
    table: StatTable = parse_stat(answers[1])
    families = merge(info_families(parse_info(answers[0])) + stat_families(table))
    out = {
        "socket read (wall)": took,
        "decode and split the answers": _best(lambda: split_answers(raw.decode(), 3)),
        "parse show info and show stat": _best(lambda: (parse_info(answers[0]), parse_stat(answers[1]))),
        "build the families": _best(lambda: stat_families(table)),
        "render and encode the text": _best(lambda: [p.encode() for p in iter_parts(families)]),
        "render, encode and gzip, zlib level 1 (the HTTP server today)": _best(lambda: _zlib(families)),
        "render, encode and gzip, `exposition_chunks` (ISA-L level 1)": _best(
            lambda: list(exposition_chunks(families, True))
        ),
    }
    return out
