"""Start, find and stop the stack's processes by pid file.

Each process runs in its own session (so its children share its process group), with
stdin from /dev/null and stdout/stderr into its log file: nothing keeps the caller's pipes open.
A pid file records the pid and the kernel's start time of that pid, so a recycled pid is
never mistaken for ours and `down` stops exactly what `up` started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22 (starttime); the command name in parentheses may contain spaces.
    return stat.rsplit(")", 1)[1].split()[19]


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def spawn(
    argv: Sequence[str],
    *,
    log: Path,
    pidfile: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> int:
    """Start `argv` detached, logging to `log`, and record it in `pidfile`; return its pid."""
    log.parent.mkdir(parents=True, exist_ok=True)
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting: {' '.join(argv)}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            user=user,
            group=user,  # the user's own group and no supplementary groups: never root's
            extra_groups=[] if user else None,
            start_new_session=True,
        )
    pidfile.write_text(f"{proc.pid} {_start_time(proc.pid) or ''}\n")
    return proc.pid


def running_pid(pidfile: Path) -> int | None:
    """The pid recorded in `pidfile` if that very process is still alive, else None."""
    try:
        pid_s, _, start = pidfile.read_text().strip().partition(" ")
        pid = int(pid_s)
    except (OSError, ValueError):
        return None
    now = _start_time(pid)
    if now is None or (start and now != start) or _is_zombie(pid):
        return None
    return pid


def pid_alive(pid: int) -> bool:
    """True if a process with this pid exists and is not a zombie."""
    return _start_time(pid) is not None and not _is_zombie(pid)


def terminate(pid: int, *, timeout: float = 30.0, group: bool = True) -> bool:
    """SIGTERM the process (group), wait up to `timeout`, then SIGKILL; True if it had to be killed."""

    def send(sig: int) -> None:
        try:
            if group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            os.kill(pid, sig)

    send(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not pid_alive(pid):
            return False
        time.sleep(0.1)
    send(signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)
    return True


def kill(pid: int, sig: int = signal.SIGKILL) -> None:
    """Send `sig` to one process (not its group); a vanished process is not an error."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    """Send `sig` to the process group led by `pid` (the stack starts each process in its own)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _reap(pid: int) -> None:
    """Collect our own exited child so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def tail(path: Path, lines: int = 20) -> str:
    """The last `lines` lines of a log file (empty when missing)."""
    try:
        data = path.read_bytes()[-16384:]
    except OSError:
        return ""
    return "\n".join(data.decode(errors="replace").splitlines()[-lines:])
