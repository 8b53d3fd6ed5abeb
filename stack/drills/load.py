"""Load during a drill: numbered committed writes and reads through PgBouncer, HTTP through HAProxy.

Every write inserts one numbered row in autocommit; a write counts as acknowledged only when the
server confirmed the commit. After recovery `verify` reads the rows back from the primary: every
acknowledged write must be there (synchronous replication promises zero loss).
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import psycopg

SCHEMA = """
CREATE TABLE IF NOT EXISTS drill_writes (
    run text NOT NULL,
    seq bigint NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run, seq)
)
"""


@dataclass
class Failure:
    """One failed request."""

    at: float
    kind: str  # write | read | http
    error: str


@dataclass
class LoadStats:
    """What the load saw, with wall-clock times (time.time())."""

    acked: list[int] = field(default_factory=list)
    ok: dict[str, list[float]] = field(default_factory=lambda: {"write": [], "read": [], "http": []})
    failures: list[Failure] = field(default_factory=list)
    http_served_by: dict[str, list[float]] = field(default_factory=dict)

    def first_success_after(self, kind: str, t0: float) -> float | None:
        """Time of the first successful request of `kind` at or after t0."""
        return next((t for t in self.ok[kind] if t >= t0), None)

    def last_failure(self, kind: str | None = None) -> float | None:
        times = [f.at for f in self.failures if kind is None or f.kind == kind]
        return max(times) if times else None


class Load:
    """Background load: a writer, a reader and an HTTP client, each in its own thread.

    Args:
        write_dsn: the app path for writes (PgBouncer).
        read_dsn: where reads go (HAProxy's replica listener, or PgBouncer).
        http_targets: name -> URL, tried in order for each request (active HAProxy first, then the
            passive one, as a client behind a floating virtual IP would end up).
        run_id: tags this drill's rows.
        interval: pause between requests of each thread, seconds.
    """

    def __init__(
        self, write_dsn: str, read_dsn: str, http_targets: dict[str, str], run_id: str, interval: float = 0.05
    ) -> None:
        self.write_dsn = write_dsn
        self.read_dsn = read_dsn
        self.http_targets = dict(http_targets)
        self.run_id = run_id
        self.interval = interval
        self.stats = LoadStats()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=f, daemon=True, name=f.__name__)
            for f in (self._writer, self._reader, self._http)
        ]

    def prepare(self) -> None:
        """Create the drill table (idempotent)."""
        with psycopg.connect(
            self.write_dsn, autocommit=True, prepare_threshold=None, connect_timeout=5
        ) as conn:
            conn.execute(SCHEMA)

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=15)

    def _fail(self, kind: str, exc: BaseException) -> None:
        with self._lock:
            self.stats.failures.append(Failure(time.time(), kind, f"{type(exc).__name__}: {exc}"[:300]))

    def _ok(self, kind: str) -> None:
        with self._lock:
            self.stats.ok[kind].append(time.time())

    def _writer(self) -> None:
        seqs = iter(range(1, 1 << 62))

        def write(conn: psycopg.Connection) -> None:
            seq = next(seqs)
            conn.execute("INSERT INTO drill_writes (run, seq) VALUES (%s, %s)", (self.run_id, seq))
            with self._lock:
                self.stats.acked.append(seq)  # acknowledged: the commit returned

        self._db_loop("write", self.write_dsn, write, self.interval)

    def _reader(self) -> None:
        def read(conn: psycopg.Connection) -> None:
            conn.execute("SELECT count(*) FROM drill_writes WHERE run = %s", (self.run_id,)).fetchone()

        self._db_loop("read", self.read_dsn, read, self.interval * 2)

    def _db_loop(
        self, kind: str, dsn: str, request: Callable[[psycopg.Connection], None], pause: float
    ) -> None:
        """Run `request` until stopped, reconnecting after each failure and recording every outcome."""
        conn: psycopg.Connection | None = None
        while not self._stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(dsn, autocommit=True, prepare_threshold=None, connect_timeout=2)
                request(conn)
                self._ok(kind)
            except psycopg.Error as exc:
                self._fail(kind, exc)
                _close(conn)
                conn = None
                self._stop.wait(0.2)
            self._stop.wait(pause)
        _close(conn)

    def _http(self) -> None:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the stack's self-signed certificate
        with httpx.Client(verify=ctx, timeout=3) as client:
            while not self._stop.is_set():
                errors = []
                for name, url in self.http_targets.items():
                    try:
                        r = client.get(url)
                        r.raise_for_status()
                        with self._lock:
                            self.stats.http_served_by.setdefault(name, []).append(time.time())
                        self._ok("http")
                        break
                    except httpx.HTTPError as exc:
                        errors.append(exc)
                else:
                    self._fail("http", errors[-1])
                self._stop.wait(self.interval * 2)

    def verify(self, primary_dsn: str) -> list[int]:
        """Acknowledged writes missing on the primary (must be empty)."""
        with psycopg.connect(primary_dsn, autocommit=True, prepare_threshold=None, connect_timeout=5) as c:
            rows = c.execute("SELECT seq FROM drill_writes WHERE run = %s", (self.run_id,)).fetchall()
        present = {r[0] for r in rows}
        return [s for s in self.stats.acked if s not in present]


def _close(conn: psycopg.Connection | None) -> None:
    if conn is not None:
        with contextlib.suppress(psycopg.Error):
            conn.close()
