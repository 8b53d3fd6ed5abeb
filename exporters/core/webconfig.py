"""`--web.config.file`: TLS and basic auth as Prometheus' exporter-toolkit reads them.

```yaml
tls_server_config:
  cert_file: server.crt          # paths relative to this file's folder
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert   # NoClientCert (default), VerifyClientCertIfGiven
  client_ca_file: clients-ca.crt
  min_version: TLS12             # TLS10..TLS13 (default TLS12); max_version likewise
basic_auth_users:
  prometheus: $2b$12$...         # bcrypt hashes (`htpasswd -nBC 12 prometheus`)
```

The file (and the certificate, key and CA files it names) is re-read when it changes, as the
toolkit does; a change that does not load is logged and the last good configuration stays in
force. A bad file at start refuses the start, naming the file and the key.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from exporters.core.errors import ConfigError

log = logging.getLogger("exporters.webconfig")
TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
_TLS_KEYS = ("cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version", "max_version")
# exporter-toolkit keys this server does not implement: refused rather than silently ignored
_UNSUPPORTED = {
    "tls_server_config": ("cipher_suites", "curve_preferences", "client_allowed_sans", "cert", "key"),
    "": ("http_server_config", "rate_limit"),
}
_BCRYPT = re.compile(r"^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$")
# compared against when the user is unknown, so that an unknown name takes as long as a known one
_DUMMY_HASH = bcrypt.hashpw(b"nines", bcrypt.gensalt(rounds=10))


@dataclass(frozen=True)
class WebConfig:
    """A loaded web config: a TLS context (None: plain HTTP) and bcrypt hashes by user."""

    tls: ssl.SSLContext | None = None
    users: dict[str, bytes] = field(default_factory=dict)
    files: tuple[Path, ...] = ()


def _mapping(value: object, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: must be a mapping")
    return value


def _refuse_unknown(doc: dict[str, Any], known: tuple[str, ...], where: str, section: str) -> None:
    for key in doc:
        if key in _UNSUPPORTED.get(section, ()):
            raise ConfigError(f"{where}{key}: not supported by this exporter")
        if key not in known:
            raise ConfigError(f"{where}{key}: unknown key (known: {', '.join(known)})")


def _version(doc: dict[str, Any], key: str, default: str, where: str) -> ssl.TLSVersion:
    name = str(doc.get(key) or default)
    if name not in TLS_VERSIONS:
        raise ConfigError(f"{where}{key}: unknown version {name!r} (use {', '.join(TLS_VERSIONS)})")
    return TLS_VERSIONS[name]


def _tls(doc: dict[str, Any], base: Path, where: str) -> tuple[ssl.SSLContext, list[Path]]:
    _refuse_unknown(doc, _TLS_KEYS, where, "tls_server_config")
    for required in ("cert_file", "key_file"):
        if not doc.get(required):
            raise ConfigError(f"{where}{required}: required when tls_server_config is given")
    cert, key = base / str(doc["cert_file"]), base / str(doc["key_file"])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = _version(doc, "min_version", "TLS12", where)
    ctx.maximum_version = _version(doc, "max_version", "TLS13", where)
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as e:
        raise ConfigError(f"{where}cert_file/key_file: cannot load {cert}, {key}: {e}") from None
    files = [cert, key]
    auth = str(doc.get("client_auth_type") or "NoClientCert")
    if auth not in CLIENT_AUTH:
        raise ConfigError(f"{where}client_auth_type: {auth!r} not supported (use {', '.join(CLIENT_AUTH)})")
    ctx.verify_mode = CLIENT_AUTH[auth]
    if doc.get("client_ca_file"):
        ca = base / str(doc["client_ca_file"])
        try:
            ctx.load_verify_locations(cafile=ca)
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(f"{where}client_ca_file: cannot load {ca}: {e}") from None
        files.append(ca)
    elif ctx.verify_mode != ssl.CERT_NONE:
        raise ConfigError(f"{where}client_ca_file: required by client_auth_type {auth}")
    return ctx, files


def _users(doc: dict[str, Any], where: str) -> dict[str, bytes]:
    users: dict[str, bytes] = {}
    for name, hashed in doc.items():
        if not isinstance(hashed, str) or not _BCRYPT.match(hashed):
            raise ConfigError(f"{where}{name}: not a bcrypt hash (e.g. htpasswd -nBC 12 {name})")
        users[str(name)] = hashed.encode()
    return users


def load_web_config(path: str | Path) -> WebConfig:
    """Load and check a web config file.

    Raises:
        ConfigError: unreadable file, bad YAML, unknown or bad key (naming the file and the key).
    """
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{p}: cannot read web config file: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: invalid YAML: {getattr(e, 'problem', None) or e}") from None
    doc = _mapping(doc, f"{p}")
    _refuse_unknown(doc, ("tls_server_config", "basic_auth_users"), f"{p}: ", "")
    tls, files = None, [p]
    if "tls_server_config" in doc:
        where = f"{p}: tls_server_config."
        tls, more = _tls(_mapping(doc["tls_server_config"], where[:-1]), p.parent, where)
        files += more
    users = _users(_mapping(doc.get("basic_auth_users"), f"{p}: basic_auth_users"), f"{p}: basic_auth_users.")
    return WebConfig(tls, users, tuple(files))


def _signature(files: tuple[Path, ...]) -> tuple[tuple[int, int, int] | None, ...]:
    out: list[tuple[int, int, int] | None] = []
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            out.append(None)
        else:
            out.append((st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(out)


class WebConfigFile:
    """A web config file, re-read when it or a file it names changes.

    Args:
        path: the YAML file; loaded at once.

    Raises:
        ConfigError: the file does not load (at start only; later failures are logged).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._config = load_web_config(self.path)
        self._signature = _signature(self._config.files)
        self._lock = threading.Lock()
        self._ok: dict[bytes, bool] = {}

    def current(self) -> WebConfig:
        """The configuration in force, reloaded first if a file changed."""
        with self._lock:
            sig = _signature(self._config.files)
            if sig == self._signature:
                return self._config
            self._signature = sig
            try:
                config = load_web_config(self.path)
                if (config.tls is None) != (self._config.tls is None):
                    raise ConfigError(
                        f"{self.path}: tls_server_config: turning TLS on or off needs a restart"
                    )
            except ConfigError as e:
                log.error("web config not reloaded, the previous one stays", extra={"fields": {"error": e}})
            else:
                self._config = config
                self._signature = _signature(self._config.files)
                self._ok.clear()
                log.info("web config reloaded", extra={"fields": {"file": self.path}})
            return self._config

    def authorized(self, config: WebConfig, user: str, password: str) -> bool:
        """True if `user`/`password` match a bcrypt hash of `config` (or no users are set).

        Successful checks are remembered (bcrypt is slow by design); an unknown user costs
        one bcrypt comparison like a known one.
        """
        if not config.users:
            return True
        hashed = config.users.get(user)
        key = hashlib.sha256(b"\0".join((user.encode(), password.encode(), hashed or b""))).digest()
        with self._lock:
            if self._ok.get(key):
                return True
        try:
            ok = bcrypt.checkpw(password.encode(), hashed or _DUMMY_HASH) and hashed is not None
        except ValueError:
            ok = False
        if ok:
            with self._lock:
                if len(self._ok) > 1000:
                    self._ok.clear()
                self._ok[key] = True
        return ok
