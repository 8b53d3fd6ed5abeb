"""Answers taken apart as they arrive give what the whole-text parsers give, errors included."""

from __future__ import annotations

import socket
import threading
import time
from itertools import pairwise
from pathlib import Path

import pytest
from haproxy_fixtures import VERSIONS, read
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exporters.core.errors import ParseError
from exporters.core.metrics import render
from exporters.haproxy.families import StatFamilies, stat_families
from exporters.haproxy.parse import parse_stat, split_answers
from exporters.haproxy.source import Address, stream_commands
from exporters.haproxy.states import SERVER_STATES
from exporters.haproxy.stream import Answers, StatAnswer, answer_end

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def whole(raw: bytes, count: int = 3) -> tuple[list[str], bytes]:
    """The answers (the stat one as "") and the stat families' text, from the whole answer."""
    answers = split_answers(raw.decode("utf-8", "replace"), count)
    text = render(stat_families(parse_stat(answers[1])))
    answers[1] = ""
    return answers, text


def streamed(raw: bytes, cuts: list[int], block: int, count: int = 3) -> tuple[list[str], bytes]:
    """The same, fed in the pieces `cuts` makes, rows handed on every `block` characters."""
    built = StatFamilies()
    answers = Answers(count, StatAnswer(built.add, block=block))
    edges = [0, *sorted(cuts), len(raw)]
    for start, stop in pairwise(edges):
        answers.feed(raw[start:stop])
        answers.work()  # what the reader does while the socket has nothing more
    texts = answers.close()
    return texts, render(built.families())


def raw_answer(version: str) -> bytes:
    """`show info;show stat;show ssl cert` as HAProxy `version` answers (no certificate: "\\n")."""
    certs = read(version, "ssl_cert_list.txt") if version == "2.6" else "\n"
    return (read(version, "info.txt") + read(version, "stat.csv") + certs).encode()


def test_answer_end() -> None:
    assert answer_end("", "\nx") == 0  # an empty answer
    assert answer_end("\n", "\n") == 0  # the empty line right after the last line
    assert answer_end("a", "\nb\n\nc") == 3
    assert answer_end("a", "\nb\n") == -1


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("piece", [1, 7, 333, 1 << 20])
@pytest.mark.parametrize("block", [1, 200, 1 << 20])
def test_streamed_equals_whole(version: str, piece: int, block: int) -> None:
    raw = raw_answer(version)
    expected = whole(raw)
    assert streamed(raw, list(range(piece, len(raw), piece)), block) == expected
    assert b'haproxy_server_status{proxy="app",server="a1",state="UP"} 1\n' in expected[1]


def test_samples_keep_their_order_across_blocks() -> None:
    raw = raw_answer("2.6")
    text = streamed(raw, list(range(50, len(raw), 50)), 1)[1]  # many blocks
    lines = [ln for ln in text.decode().split("\n") if ln.startswith("haproxy_server_status{")]
    states = [ln.split('state="')[1].split('"')[0] for ln in lines]
    assert states == sorted(states, key=SERVER_STATES.index)
    assert text == whole(raw)[1]


def test_two_commands_without_certificates() -> None:
    raw = (read("2.6", "info.txt") + read("2.6", "stat.csv")).encode()
    assert streamed(raw, [100, 5000], 300, count=2) == whole(raw, count=2)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"Name: HAProxy\n\n# pxname,svname\nweb,FRON", "answer 2 of 3 does not end"),
        (b"Name: HAProxy\n", "answer 1 of 3 does not end"),
        (b"Name: HAProxy\n\n\n\n", "no '# pxname,...' header"),
        (b"Name: HAProxy\n\n# pxname,svname\nweb,FRONTEND\n\n\nextra\n\n", "got more"),
        (b"Name: HAProxy\n\n# pxname,svname\nweb,FRONTEND,x\n\n\n", "row has 3 fields"),
    ],
)
def test_truncated_or_garbled(raw: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        streamed(raw, [len(raw) // 2], 10)
    with pytest.raises(ParseError):
        whole(raw)


@FUZZ
@given(st.data())
def test_garbled_answers_stream_as_they_parse_whole(data: st.DataObject) -> None:
    raw = raw_answer("2.6")
    cut = data.draw(st.integers(0, len(raw)))
    if data.draw(st.booleans()):
        raw = raw[:cut]
    else:
        junk = data.draw(st.text(max_size=12)).encode()
        raw = raw[:cut] + junk + raw[cut + data.draw(st.integers(0, 5)) :]
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=8))
    block = data.draw(st.integers(1, 3000))
    try:
        expected = whole(raw)
    except ParseError:
        with pytest.raises(ParseError):
            streamed(raw, cuts, block)
        return
    assert streamed(raw, cuts, block) == expected


def test_a_target_that_never_runs_dry_is_cut_at_the_deadline(tmp_path: Path) -> None:
    """The socket always holds more (16 bytes a millisecond, each piece taking us 10 ms): the
    read is still cut at the request's deadline, not when the target stops."""
    path = str(tmp_path / "drip.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    stop = threading.Event()

    def drip() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(4096)
            while not stop.is_set():
                try:
                    conn.sendall(b"x" * 16)
                except OSError:
                    return
                time.sleep(0.001)

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError, match=r"no complete answer within 0\.3s"):
            stream_commands(
                Address("unix", path=path),
                ["show stat"],
                0.3,
                lambda _piece: time.sleep(0.01),
                idle=lambda: False,
            )
        assert time.monotonic() - started < 1.0
    finally:
        stop.set()
        server.close()
        thread.join(5)


def test_a_line_that_never_ends_costs_its_length_once() -> None:
    """16 MiB without a newline, fed in 64 KiB pieces, is taken in linear time (a garbled
    target used to cost a copy of the whole line per piece)."""
    answer = StatAnswer(lambda _rows: None)
    piece = "x" * 65536
    started = time.process_time()
    for _ in range(256):
        assert answer.feed(piece) == -1
    assert time.process_time() - started < 0.5
