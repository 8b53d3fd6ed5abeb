"""One deadline per request: every wait of the request (a Prometheus query, a queued chunk, a
database read) gets the time left, not a fresh timeout of its own."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sloapi.errors import DeadlineExceededError


@dataclass(frozen=True)
class Deadline:
    """An instant on the monotonic clock by which a request must have its answer.

    Attributes:
        seconds: the budget the deadline was made with (for messages).
        end: monotonic time at which it expires.
        clock: the monotonic clock (a parameter so tests need no patching).
    """

    seconds: float
    end: float
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        """The deadline `seconds` from now."""
        return cls(seconds, clock() + seconds, clock)

    @classmethod
    def never(cls) -> Deadline:
        """A deadline that does not expire in practice (command-line jobs)."""
        return cls(float("inf"), float("inf"))

    def remaining(self) -> float:
        """Seconds left (0 when expired)."""
        return max(0.0, self.end - self.clock())

    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self.clock() >= self.end

    def timeout(self, cap: float) -> float:
        """The time left, at most `cap`: the timeout of one wait of this request.

        Raises:
            DeadlineExceededError: no time is left.
        """
        left = self.remaining()
        if left <= 0:
            raise self.error("no time left for the next query")
        return min(left, cap)

    def error(self, reason: str) -> DeadlineExceededError:
        """The error naming the deadline and `reason` (what did not finish in time)."""
        return DeadlineExceededError(
            f"request deadline of {self.seconds:g} s (SLOAPI_REQUEST_DEADLINE_SECONDS) passed: {reason}"
        )
