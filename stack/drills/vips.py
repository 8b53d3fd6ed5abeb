"""Who holds each VIP during a drill, read from `ip` in the nodes' namespaces ten times a second."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from stack import netops
from stack.network import PAIRS, Plan

POLL = 0.1


@dataclass
class VipChange:
    """The holders of one VIP changed at `at` (time.time())."""

    at: float
    instance: str
    holders: tuple[str, ...]


@dataclass
class VipWatch:
    """Polls the holders of every VIP in a thread and keeps each change."""

    plan: Plan
    changes: list[VipChange] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def holders(self, instance: str) -> tuple[str, ...]:
        return tuple(netops.vip_holders(self.plan, instance))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True, name="vips")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        last: dict[str, tuple[str, ...]] = {}
        while not self._stop.is_set():
            for pair in PAIRS:
                now = self.holders(pair.instance)
                if last.get(pair.instance) != now:
                    self.changes.append(VipChange(time.time(), pair.instance, now))
                    last[pair.instance] = now
            self._stop.wait(POLL)

    def first(self, instance: str, t0: float, want: tuple[str, ...]) -> float | None:
        """First time at or after t0 the instance's holders were exactly `want`."""
        return next(
            (c.at for c in self.changes if c.instance == instance and c.at >= t0 and c.holders == want),
            None,
        )

    def ever(self, instance: str, t0: float, t1: float, want: tuple[str, ...]) -> bool:
        """True when the holders were `want` at some time in [t0, t1]."""
        state: tuple[str, ...] | None = None
        for c in self.changes:
            if c.instance != instance:
                continue
            if c.at > t1:
                break
            if c.at >= t0 and c.holders == want:
                return True
            state = c.holders
        return state == want
