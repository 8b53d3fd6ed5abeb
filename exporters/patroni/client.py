"""HTTP access to one Patroni REST API (httpx): basic auth, TLS options, 503-with-JSON as data."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from exporters.core.errors import ConfigError, ParseError, TargetError
from exporters.patroni.transport import DeadlineTransport, deadline

ENDPOINTS = ("/patroni", "/cluster", "/history")


def secret(options: Mapping[str, Any], prefix: str, env: Mapping[str, str]) -> str | None:
    """The secret named by option `<prefix>_file` (a file) or `<prefix>_env` (a variable), if set.

    Raises:
        ConfigError: the file cannot be read or the variable is not set (naming the option).
    """
    path = options.get(f"{prefix}_file")
    if path:
        try:
            return Path(str(path)).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise ConfigError(f"{prefix}_file: cannot read {path}: {e.strerror}") from None
    var = options.get(f"{prefix}_env")
    if var:
        value = env.get(str(var))
        if value is None:
            raise ConfigError(f"{prefix}_env: variable {var} is not set")
        return value
    return None


def check_url(url: str) -> None:
    """Accept an http(s) URL with a host and without an embedded password.

    Raises:
        ConfigError: naming what is wrong.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"address must be an http:// or https:// URL with a host, got {url!r}")
    if parts.password is not None:
        raise ConfigError("address must not hold a password: use basic_auth_password_file/_env")


def ssl_context(options: Mapping[str, Any]) -> ssl.SSLContext | bool:
    """TLS settings from `ca_file`, `cert_file`/`key_file` and `insecure_skip_verify`.

    Raises:
        ConfigError: a file cannot be loaded.
    """
    if options.get("insecure_skip_verify"):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ca = options.get("ca_file")
        try:
            ctx = ssl.create_default_context(cafile=str(ca) if ca else None)
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(f"ca_file: cannot load {ca}: {e}") from None
    cert = options.get("cert_file")
    if cert:
        key = options.get("key_file")
        try:
            ctx.load_cert_chain(str(cert), str(key) if key else None)
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(f"cert_file/key_file: cannot load {cert}: {e}") from None
    return ctx


def make_client(
    options: Mapping[str, Any],
    timeout: float,
    env: Mapping[str, str] | None = None,
    tls: bool = True,
) -> httpx.Client:
    """An httpx client for one target (keep-alive, basic auth, TLS), redirects not followed.

    `tls=False` (plain http targets) skips loading CA certificates.

    Raises:
        ConfigError: unreadable secret or TLS file.
    """
    env = os.environ if env is None else env
    user = options.get("basic_auth_user")
    auth = None
    if user:
        auth = httpx.BasicAuth(str(user), secret(options, "basic_auth_password", env) or "")
    ctx = ssl_context(options) if tls else None
    return httpx.Client(
        auth=auth,
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        headers={"Accept": "application/json", "User-Agent": "nines-patroni-exporter"},
        transport=DeadlineTransport(
            ctx if isinstance(ctx, ssl.SSLContext) else None,
            httpx.Limits(max_connections=4, max_keepalive_connections=4),
        ),
    )


def get_json(client: httpx.Client, base: str, path: str, until: float | None = None) -> object:
    """GET `base + path` and decode its JSON; a 503 with a JSON body is data too.

    Args:
        client: from `make_client`.
        base: the target's URL.
        path: the endpoint.
        until: `time.monotonic()` deadline of the whole request (connect, send, every read).

    Raises:
        TimeoutError: no answer in time.
        TargetError: connection failure, auth failure or an unexpected status.
        ParseError: a 200 whose body is not JSON.
    """
    try:
        with deadline(until):
            resp = client.get(base + path)
    except httpx.TimeoutException:
        raise TimeoutError(f"GET {path}: no answer in time") from None
    except httpx.HTTPError as e:
        raise TargetError(f"GET {path}: {type(e).__name__}: {e}") from None
    status = resp.status_code
    if status in (401, 403):
        raise TargetError(f"GET {path}: HTTP {status} (check basic_auth_user/password)")
    if status not in (200, 503):
        raise TargetError(f"GET {path}: HTTP {status}")
    try:
        return resp.json()
    except ValueError:
        if status == 503:
            raise TargetError(f"GET {path}: HTTP 503 without a JSON body") from None
        raise ParseError(f"GET {path}: body is not JSON") from None
