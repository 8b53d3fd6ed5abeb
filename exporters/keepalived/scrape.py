"""One scrape of one keepalived: fresh dumps, the namespace's addresses, parsed into families."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from exporters.core.config import Target
from exporters.core.errors import ConfigError, TargetError
from exporters.core.metrics import Family
from exporters.keepalived.dumps import DumpReader, read_pid
from exporters.keepalived.families import instance_families, script_families, track_process_families
from exporters.keepalived.parse import (
    Instance,
    parse_fib_trie,
    parse_if_inet6,
    parse_scripts,
    parse_track_processes,
)

OPTIONS = ("dump_dir",)


def check_target(target: Target) -> None:
    """Validate a target at start: absolute pid file and dump folder, no unknown option.

    Raises:
        ConfigError: a relative path or an unknown option.
    """
    if not Path(target.address).is_absolute():
        raise ConfigError(f"target {target.name}: pid_file must be an absolute path: {target.address!r}")
    for key, value in target.options.items():
        if key not in OPTIONS:
            raise ConfigError(f"target {target.name}: unknown option {key!r}")
        if not isinstance(value, str) or not Path(value).is_absolute():
            raise ConfigError(f"target {target.name}: {key} must be an absolute path: {value!r}")


def dump_folder(target: Target, pid: int) -> Path:
    """The folder keepalived writes its dumps to: `dump_dir`, or its own /tmp seen through /proc."""
    configured = target.options.get("dump_dir")
    return Path(configured) if configured else Path(f"/proc/{pid}/root/tmp")


def _proc_lines(pid: int, name: str, deadline: float, clock: Callable[[], float]) -> Iterator[str]:
    """Stream `/proc/<pid>/net/<name>` line by line (a host with full routing tables has a large
    fib_trie): memory stays bounded, and the deadline is checked as it goes.

    Raises:
        TargetError: keepalived exited, or the file is unreadable.
        TimeoutError: past the deadline.
    """
    path = f"/proc/{pid}/net/{name}"
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for i, line in enumerate(f):
                if i % 4096 == 4095 and clock() > deadline:
                    raise TimeoutError(f"reading {path} took past the deadline")
                yield line
    except FileNotFoundError:
        if name == "if_inet6":  # a kernel without IPv6
            return
        raise TargetError(f"keepalived (pid {pid}) exited") from None
    except OSError as e:
        raise TargetError(f"cannot read {path}: {e.strerror}") from None


class KeepalivedScraper:
    """Scrapes keepalived targets; holds the per-folder locks shared by concurrent scrapes.

    Args:
        reader: the dump reader (a new one by default).
        clock: monotonic clock (a parameter for tests).
    """

    def __init__(self, reader: DumpReader | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._reader = reader or DumpReader(clock)
        self._clock = clock

    def scrape(self, target: Target) -> list[Family]:
        """Read one keepalived's fresh state within the target's timeout (one deadline for all).

        Raises:
            TargetError: keepalived is not running (or not keepalived), or a file is unreadable.
            TimeoutError: no complete dump before the deadline.
            ParseError: the dump never parsed.
        """
        deadline = self._clock() + target.timeout
        pid = read_pid(target.address)
        dump = self._reader.request(pid, dump_folder(target, pid), deadline)
        local = parse_fib_trie(_proc_lines(pid, "fib_trie", deadline, self._clock))
        local6 = parse_if_inet6(_proc_lines(pid, "if_inet6", deadline, self._clock))
        return families_of(dump.instances, dump.data, local, local6)


def families_of(
    instances: list[Instance], data: str, local: set[str], local6: set[tuple[str, str]]
) -> list[Family]:
    """All families of one keepalived: its parsed JSON dump, its data dump's text and its addresses."""
    return [
        *instance_families(instances, local, local6),
        *script_families(parse_scripts(data)),
        *track_process_families(parse_track_processes(data)),
    ]
