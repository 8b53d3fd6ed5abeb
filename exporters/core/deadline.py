"""One deadline for all the reads of a request, not one timeout per read.

A socket timeout bounds each `recv` on its own: a peer that sends one byte just before each
timeout holds the connection for ever. `DeadlineReader` sets the socket's timeout to the time
left before every `recv`, so the whole exchange ends by the deadline.
"""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Callable


class DeadlineReader(io.RawIOBase):
    """A raw, readable stream over `sock` whose reads all end by `deadline`.

    Wrap it in `io.BufferedReader` for `readline`. `eof` tells whether the peer closed its side.

    Args:
        sock: a connected (possibly TLS) socket.
        deadline: a `clock()` value; None reads without a deadline (the socket's own timeout).
        clock: monotonic clock, a parameter for tests.
    """

    def __init__(
        self,
        sock: socket.socket,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._sock = sock
        self._clock = clock
        self.deadline = deadline
        self.eof = False

    def readable(self) -> bool:
        """Always True."""
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        """Read into `buffer`, waiting at most until the deadline.

        Raises:
            TimeoutError: the deadline passed.
        """
        if self.deadline is not None:
            left = self.deadline - self._clock()
            if left <= 0:
                raise TimeoutError("deadline passed")
            self._sock.settimeout(left)
        n = self._sock.recv_into(buffer)
        if n == 0:
            self.eof = True
        return n
