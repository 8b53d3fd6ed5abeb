"""The dump reader's deadline and errors, against a small stand-in process that handles keepalived's
signals (writing nothing, garbage, or a too-large file): the edges keepalived itself never shows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporters.core.errors import ParseError, TargetError
from exporters.keepalived import dumps
from exporters.keepalived.dumps import DumpReader, read_pid
from stack.throwaway import stop, wait_for

STAND_IN = """
import pathlib, signal, sys, time
folder, mode = pathlib.Path(sys.argv[1]), sys.argv[2]
def on_json(signum, frame):
    if mode == "garbage":
        (folder / "keepalived.json").write_text('[{"data": {"iname": "VI_1"')
    elif mode == "huge":
        (folder / "keepalived.json").write_text("[" + " " * (1 << 20) + "]")
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
signal.signal(signal.SIGRTMIN + 2, on_json)
(folder / "ready").touch()
while True:
    time.sleep(1)
"""


@pytest.fixture
def stand_in(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[int]:
    proc = subprocess.Popen([sys.executable, "-c", STAND_IN, str(tmp_path), request.param])
    try:
        wait_for((tmp_path / "ready").exists, 10, "the stand-in")
        yield proc.pid
    finally:
        stop(proc, 5)


@pytest.mark.parametrize("stand_in", ["silent"], indirect=True)
def test_no_dump_times_out_at_the_deadline(stand_in: int, tmp_path: Path) -> None:
    (tmp_path / "keepalived.json").write_text("[]")  # an old dump is never read
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="wrote no dump"):
        DumpReader().request(stand_in, tmp_path, start + 0.3)
    assert 0.3 <= time.monotonic() - start < 0.5
    assert not (tmp_path / "keepalived.json").exists()


@pytest.mark.parametrize("stand_in", ["garbage"], indirect=True)
def test_a_dump_that_never_parses_is_a_parse_error(stand_in: int, tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(ParseError, match="not valid JSON"):
        DumpReader().request(stand_in, tmp_path, start + 0.3)
    assert time.monotonic() - start < 0.5


@pytest.mark.parametrize("stand_in", ["huge"], indirect=True)
def test_a_dump_above_the_size_limit_is_refused(
    stand_in: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dumps, "MAX_DUMP_BYTES", 1 << 16)
    with pytest.raises(ParseError, match="larger than 65536 bytes"):
        DumpReader().request(stand_in, tmp_path, time.monotonic() + 1)


@pytest.mark.parametrize("stand_in", ["silent"], indirect=True)
def test_a_busy_folder_waits_only_until_the_deadline(stand_in: int, tmp_path: Path) -> None:
    reader = DumpReader()
    outcome: list[BaseException] = []

    def hold() -> None:  # a silent keepalived: the first request holds the folder for 1 s
        try:
            reader.request(stand_in, tmp_path, time.monotonic() + 1.0)
        except TimeoutError as e:
            outcome.append(e)

    first = threading.Thread(target=hold)
    first.start()
    wait_for(lambda: reader._slots, 5, "the first request", step=0.01)
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="busy"):
        reader.request(stand_in, tmp_path, start + 0.2)
    assert time.monotonic() - start < 0.4
    first.join(5)
    assert len(outcome) == 1 and "wrote no dump" in str(outcome[0])
    assert reader._slots == {}  # no lock is kept for a folder nobody asks for


def test_a_process_gone_or_not_keepalived_is_a_target_error(tmp_path: Path) -> None:
    pid_file = tmp_path / "k.pid"
    for text, error in [("", "holds no pid"), ("abc", "holds no pid"), ("999999999", "is gone")]:
        pid_file.write_text(text)
        with pytest.raises(TargetError, match=error):
            read_pid(str(pid_file))
    pid_file.write_text(f"{os.getpid()}\n")
    with pytest.raises(TargetError, match="is not keepalived"):
        read_pid(str(pid_file))
    with pytest.raises(TargetError, match="cannot read pid file"):
        read_pid(str(tmp_path / "none.pid"))


def test_the_json_signal_is_keepalived_s() -> None:
    out = subprocess.run(["keepalived", "--signum=JSON"], capture_output=True, text=True, check=True)
    assert int(out.stdout) == dumps.JSON_SIGNAL
    out = subprocess.run(["keepalived", "--signum=DATA"], capture_output=True, text=True, check=True)
    assert int(out.stdout) == signal.SIGUSR1 == dumps.DATA_SIGNAL
