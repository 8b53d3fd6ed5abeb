"""How to reach a Prometheus-compatible query API (Prometheus, Thanos Query, Mimir, VictoriaMetrics
cluster): extra headers, basic auth or a bearer token, a CA file; applied to one HTTP session."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests
from urllib3.util import parse_url


@dataclass(frozen=True)
class Access:
    """Credentials and TLS trust of the query API (secrets already read from their files).

    Attributes:
        headers: sent with every request, e.g. `{"X-Scope-OrgID": "tenant-1"}` for Mimir.
        basic_auth: (user, password), or None.
        bearer_token: sent as `Authorization: Bearer <token>`, or None.
        ca_file: PEM bundle that verifies the server's certificate (None: the system's).
    """

    headers: Mapping[str, str] = field(default_factory=dict)
    basic_auth: tuple[str, str] | None = None
    bearer_token: str | None = None
    ca_file: Path | None = None

    def describe(self) -> str:
        """What is configured, for logs: header names and the kind of auth, never a secret."""
        parts = [f"headers {', '.join(sorted(self.headers))}"] if self.headers else []
        if self.basic_auth is not None:
            parts.append(f"basic auth as {self.basic_auth[0]}")
        if self.bearer_token is not None:
            parts.append("bearer token")
        if self.ca_file is not None:
            parts.append(f"CA {self.ca_file}")
        return "; ".join(parts) or "no credentials"


def is_loopback(url: str) -> bool:
    """True when `url`'s host is this machine (localhost or a loopback address)."""
    host = parse_url(url).host or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def mask_http_url(url: str) -> str:
    """`url` with any `user:password@` replaced by `***@`, for logs."""
    parsed = parse_url(url)
    if parsed.auth is None:
        return url
    return parsed._replace(auth="***").url


def make_session(url: str, access: Access) -> requests.Session:
    """One keep-alive session for every query, carrying `access`.

    A Prometheus on this host is asked for uncompressed answers (gzip would cost both processes
    more CPU than the loopback saves) and reached without proxy or certificate settings from the
    environment, which requests would otherwise look up again for every request.
    """
    session = requests.Session()
    if is_loopback(url):
        session.trust_env = False
        session.headers["Accept-Encoding"] = "identity"
    session.headers.update(dict(access.headers))
    if access.basic_auth is not None:
        session.auth = access.basic_auth
    if access.bearer_token is not None:
        session.headers["Authorization"] = f"Bearer {access.bearer_token}"
    if access.ca_file is not None:
        session.verify = str(access.ca_file)
    return session
