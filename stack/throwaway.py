"""Helpers for throwaway local daemons (tests and benchmarks): free ports, polling, stopping.

Daemons started this way listen on 127.0.0.1 only; PostgreSQL and PgBouncer refuse to run as
root, so `as_postgres()` / `chown_postgres()` hand them to the `postgres` system user.
"""

from __future__ import annotations

import os
import pwd
import random
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

T = TypeVar("T")

#: Below the kernel's ephemeral range (32768-60999) and above every port a stack of the tests
#: uses (the port table shifted by 0, 10000, 15000 or 20000 ends below 30000).
PORT_RANGE = (30000, 32700)

_taken: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` right now, never handed out twice by this process.

    Ports are taken below the ephemeral range: an ephemeral port could be taken by any outgoing
    connection before the daemon given it binds it.

    Raises:
        OSError: no free port found in `PORT_RANGE`.
    """
    for _ in range(1000):
        port = random.randrange(*PORT_RANGE)  # noqa: S311 - not for security
        if port in _taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        _taken.add(port)
        return port
    raise OSError(f"no free port in {PORT_RANGE}")


def wait_for(
    check: Callable[[], T | None],
    timeout: float = 30.0,
    what: str = "a condition",
    *,
    step: float = 0.1,
    ignore: tuple[type[Exception], ...] = (),
) -> T:
    """Call `check` every `step` seconds until it returns a truthy value, and return that value.

    Exceptions of the types in `ignore` count as "not yet"; any other one propagates at once.

    Raises:
        TimeoutError: after `timeout` seconds, naming `what` and the last ignored exception.
    """
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except ignore as exc:
            last = exc
        if time.monotonic() > deadline:
            why = f" (last error: {last!r})" if last is not None else ""
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}{why}")
        time.sleep(step)


def stop(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM `proc` if it still runs, wait up to `timeout` seconds, then SIGKILL and reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


@dataclass
class Server:
    """A running throwaway daemon: its base URL, port, data directory and process."""

    url: str
    port: int
    data_dir: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Stop it (SIGTERM, SIGKILL after 30 s)."""
        stop(self.process)


def start_server(argv: Sequence[str], log: Path, ready_url: str, timeout: float) -> subprocess.Popen[bytes]:
    """Start `argv` (output appended to `log`) and wait until GET `ready_url` answers 200.

    Raises:
        RuntimeError: the process exited before it was ready (the end of its log quoted).
        TimeoutError: not ready after `timeout` seconds (the process is stopped).
    """
    name = Path(argv[0]).name
    with log.open("ab") as out:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {log.read_text(errors='replace')[-2000:]}")
        return httpx.get(ready_url, timeout=2).status_code == 200

    try:
        wait_for(ready, timeout, f"{name} ready", step=0.2, ignore=(httpx.HTTPError,))
    except BaseException:
        stop(proc)
        raise
    return proc


def as_postgres() -> dict[str, object]:
    """`subprocess` keyword arguments running the child as the `postgres` user and group only."""
    pw = pwd.getpwnam("postgres")
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def chown_postgres(path: Path) -> None:
    """Give `path` to the `postgres` user and group."""
    pw = pwd.getpwnam("postgres")
    os.chown(path, pw.pw_uid, pw.pw_gid)
