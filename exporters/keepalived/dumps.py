"""Fresh dumps from a running keepalived: find its process, signal it, wait for the files.

keepalived writes its dumps from its VRRP child when its main process is signalled: SIGUSR1 ->
`keepalived.data`, signal RTMIN+2 -> `keepalived.json`, always under /tmp in 2.2.7 (of the mount
namespace keepalived runs in, reached from outside as `/proc/<pid>/root/tmp`). A request:

1. removes the old files, so only a dump written for this request can be read;
2. sends SIGUSR1 then RTMIN+2 to the main process; the child handles them in that order in its
   one event loop, so once `keepalived.json` is complete JSON, `keepalived.data` is complete too;
3. polls until the JSON parses, under one deadline for the whole request.

Requests to one dump folder are serialised (a lock per folder, identified by device and inode,
kept while a request uses it), so two scrapes at once never read each other's half-written files.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from exporters.core.errors import ParseError, TargetError
from exporters.keepalived.parse import Instance, parse_json

JSON_SIGNAL = signal.SIGRTMIN + 2  # `keepalived --signum=JSON` in 2.2.x
DATA_SIGNAL = signal.SIGUSR1
JSON_FILE = "keepalived.json"
DATA_FILE = "keepalived.data"
MAX_DUMP_BYTES = 32 << 20
_POLL = (0.002, 0.005, 0.01, 0.02)


@dataclass(frozen=True)
class Dump:
    """What one request read: the parsed JSON dump and the data dump's text."""

    instances: list[Instance]
    data: str


@dataclass
class _Slot:
    """The lock of one dump folder and how many requests use it now."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    users: int = 0


def read_pid(pid_file: str) -> int:
    """The pid in keepalived's pid file, checked to be a running keepalived.

    Raises:
        TargetError: no pid file, no such process, or the process is not keepalived.
    """
    try:
        raw = Path(pid_file).read_text(encoding="ascii", errors="replace").strip()
    except OSError as e:
        raise TargetError(f"cannot read pid file {pid_file}: {e.strerror}") from None
    if not raw.isdigit() or int(raw) <= 0:
        raise TargetError(f"pid file {pid_file} holds no pid")
    pid = int(raw)
    try:
        comm = Path(f"/proc/{pid}/comm").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        raise TargetError(f"keepalived is not running (pid {pid} from {pid_file} is gone)") from None
    if comm != "keepalived":
        raise TargetError(f"pid {pid} from {pid_file} is not keepalived but {comm!r}")
    return pid


def _read(path: Path) -> str | None:
    """The file's text, None if it does not exist (yet).

    Raises:
        TargetError: unreadable.
        ParseError: larger than `MAX_DUMP_BYTES` (memory stays bounded).
    """
    try:
        with path.open("rb") as f:
            data = f.read(MAX_DUMP_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise TargetError(f"cannot read {path}: {e.strerror}") from None
    if len(data) > MAX_DUMP_BYTES:
        raise ParseError(f"{path} is larger than {MAX_DUMP_BYTES} bytes")
    return data.decode("utf-8", errors="replace")


class DumpReader:
    """Requests fresh dumps, one at a time per dump folder.

    Args:
        clock: monotonic clock; sleep: sleep function (parameters for tests).
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._slots: dict[tuple[int, int], _Slot] = {}
        self._guard = threading.Lock()

    def _key(self, folder: Path) -> tuple[int, int]:
        try:
            st = folder.stat()
        except OSError as e:
            raise TargetError(f"dump folder {folder}: {e.strerror}") from None
        return st.st_dev, st.st_ino

    def request(self, pid: int, folder: Path, deadline: float) -> Dump:
        """Signal keepalived `pid` and return its fresh dumps from `folder` before `deadline`.

        Raises:
            TimeoutError: no complete dump before the deadline (or the folder stayed busy).
            TargetError: the process vanished or a file cannot be read.
            ParseError: the JSON dump never parsed.
        """
        key = self._key(folder)
        with self._guard:  # a folder's slot lives while someone uses it: the table stays small
            slot = self._slots.setdefault(key, _Slot())
            slot.users += 1
        try:
            if not slot.lock.acquire(timeout=max(0.0, deadline - self._clock())):
                raise TimeoutError(f"dump folder {folder} busy until the deadline")
            try:
                return self._request(pid, folder, deadline)
            finally:
                slot.lock.release()
        finally:
            with self._guard:
                slot.users -= 1
                if slot.users == 0:
                    del self._slots[key]

    def _request(self, pid: int, folder: Path, deadline: float) -> Dump:
        json_path, data_path = folder / JSON_FILE, folder / DATA_FILE
        for path in (json_path, data_path):
            try:
                path.unlink(missing_ok=True)
            except OSError as e:
                raise TargetError(f"cannot remove the old dump {path}: {e.strerror}") from None
        try:
            os.kill(pid, DATA_SIGNAL)
            os.kill(pid, JSON_SIGNAL)
        except ProcessLookupError:
            raise TargetError(f"keepalived (pid {pid}) exited") from None
        except PermissionError:
            raise TargetError(f"not allowed to signal keepalived (pid {pid}): run as root") from None
        last_error: ParseError | None = None
        for step in _steps(self._clock, deadline):
            text = _read(json_path)
            if text is not None:
                try:
                    instances = parse_json(text)
                except ParseError as e:  # still being written, or garbled: look again
                    last_error = e
                else:
                    return Dump(instances, _read(data_path) or "")
            self._sleep(step)
        if last_error is not None:
            raise last_error
        raise TimeoutError(f"keepalived (pid {pid}) wrote no dump to {folder} before the deadline")


def _steps(clock: Callable[[], float], deadline: float) -> Iterator[float]:
    """Poll intervals growing from 2 ms to 20 ms until the deadline (the last one cut short)."""
    i = 0
    while (left := deadline - clock()) > 0:
        yield min(_POLL[min(i, len(_POLL) - 1)], left)
        i += 1
