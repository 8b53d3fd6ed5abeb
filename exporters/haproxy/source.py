"""Thin I/O: send commands to HAProxy's stats socket (unix or TCP) or fetch the stats page CSV."""

from __future__ import annotations

import base64
import http.client
import io
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from exporters.core.deadline import DeadlineReader
from exporters.core.errors import ConfigError, TargetError
from exporters.core.logs import mask

_CHUNK = 1 << 18
_MAX_ANSWER = 256 << 20  # refuse answers above 256 MiB


@dataclass(frozen=True)
class Address:
    """A parsed target address: kind `unix`, `tcp` or `http`."""

    kind: str
    path: str = ""
    host: str = ""
    port: int = 0
    url: str = ""


def parse_address(address: str) -> Address:
    """Parse `unix:/path`, `tcp:host:port` or `http(s)://host:port/stats;csv`.

    Raises:
        ConfigError: any other form.
    """
    if address.startswith("unix:"):
        path = address[5:]
        if not path:
            raise ConfigError("address unix: needs a socket path")
        return Address("unix", path=path)
    if address.startswith("tcp:"):
        host, sep, port = address[4:].rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"address {address!r}: use tcp:host:port")
        return Address("tcp", host=host.strip("[]"), port=int(port))
    if address.startswith(("http://", "https://")):
        if not urlsplit(address).hostname:
            raise ConfigError(f"address {mask(address)!r}: no host")
        return Address("http", url=address)
    if address.startswith("/"):
        return Address("unix", path=address)
    raise ConfigError(f"address {mask(address)!r}: use unix:/path, tcp:host:port or http(s)://")


def _connect(addr: Address, timeout: float) -> socket.socket:
    if addr.kind == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(addr.path)
        except BaseException:
            sock.close()
            raise
        return sock
    return socket.create_connection((addr.host, addr.port), timeout=timeout)


def stream_commands(
    addr: Address,
    commands: list[str],
    timeout: float,
    consume: Callable[[bytes], None],
    idle: Callable[[], bool] | None = None,
) -> None:
    """Send `a;b;c` on one connection and hand the answer to `consume` piece by piece as it
    arrives, until HAProxy closes the connection; all of it within `timeout`, `consume` and
    `idle` included.

    With `idle`, the socket is drained first: `idle` is called (to do some work, returning
    whether it did any) only when nothing is waiting in the socket, so HAProxy never waits for it.

    Raises:
        TargetError: connection failure or an oversized answer. TimeoutError: no complete answer
            in time. Whatever `consume` or `idle` raises.
    """
    deadline = time.monotonic() + timeout
    where = addr.path if addr.kind == "unix" else f"{addr.host}:{addr.port}"
    try:
        with _connect(addr, timeout) as sock:
            sock.sendall((";".join(commands) + "\n").encode())
            size = 0
            while True:
                data = _receive(sock, deadline, idle)
                if not data:
                    break
                size += len(data)
                if size > _MAX_ANSWER:
                    raise TargetError(f"{where}: answer larger than {_MAX_ANSWER} bytes")
                consume(data)
    except TimeoutError:
        raise TimeoutError(f"{where}: no complete answer within {timeout:g}s") from None
    except OSError as e:
        raise TargetError(f"{where}: {e.strerror or type(e).__name__}") from None


def _receive(sock: socket.socket, deadline: float, idle: Callable[[], bool] | None) -> bytes:
    """The next piece of the answer (b"" at its end), calling `idle` while none is waiting.

    Raises:
        TimeoutError: the deadline passed. OSError.
    """
    while idle is not None:
        # checked before every read, waiting or not: a target that never lets the socket run
        # dry (a fast drip, a flood) is still cut at the request's deadline
        if time.monotonic() >= deadline:
            raise TimeoutError
        sock.settimeout(0.0)
        try:
            return sock.recv(_CHUNK)
        except BlockingIOError:
            if not idle():
                break
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    sock.settimeout(left)
    return sock.recv(_CHUNK)


def run_commands(addr: Address, commands: list[str], timeout: float) -> str:
    """Send `a;b;c` on one connection and read the whole answer until HAProxy closes it.

    Raises:
        TargetError: connection failure or an oversized answer. TimeoutError: no complete answer
            in time.
    """
    chunks: list[bytes] = []
    stream_commands(addr, commands, timeout, chunks.append)
    return b"".join(chunks).decode("utf-8", "replace")


def _deadline_response(deadline: float) -> type[http.client.HTTPResponse]:
    class _Response(http.client.HTTPResponse):
        """Reads status, headers and body through one deadline."""

        def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
            super().__init__(sock, *args, **kwargs)
            self.fp.close()
            self.fp = io.BufferedReader(DeadlineReader(sock, deadline))

    return _Response


def fetch_csv(addr: Address, timeout: float) -> str:
    """GET the stats page CSV, all of it within `timeout`; credentials in the URL become basic auth.

    Redirects are not followed.

    Raises:
        TargetError: HTTP or connection failure. TimeoutError: no complete answer in time.
    """
    deadline = time.monotonic() + timeout
    parts = urlsplit(addr.url)
    headers = {"User-Agent": "nines-haproxy-exporter", "Connection": "close"}
    if parts.username is not None:
        user = unquote(parts.username)
        password = unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    netloc = parts.netloc.rpartition("@")[2]
    url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    host, port = parts.hostname or "", parts.port
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    conn.response_class = _deadline_response(deadline)
    try:
        conn.request("GET", urlunsplit(("", "", parts.path or "/", parts.query, "")), headers=headers)
        resp = conn.getresponse()
        if resp.status != 200:
            raise TargetError(f"{url}: HTTP {resp.status}")
        body = resp.read(_MAX_ANSWER + 1)
    except TimeoutError:
        raise TimeoutError(f"{url}: no complete answer within {timeout:g}s") from None
    except (OSError, http.client.HTTPException) as e:
        raise TargetError(f"{url}: {mask(str(e)) or type(e).__name__}") from None
    finally:
        conn.close()
    if len(body) > _MAX_ANSWER:
        raise TargetError(f"{url}: answer larger than {_MAX_ANSWER} bytes")
    return body.decode("utf-8", "replace")
