"""Logging set-up (logfmt or JSON lines) with secrets masked in every message."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import TextIO

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}
MASK = "***"
_QUOTED = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
_PATTERNS = (
    # scheme://user:password@host; the password ends at the last `@` (it may hold a raw `@`)
    (
        re.compile(r"(?P<pre>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)\S*(?P<post>@)"),
        r"\g<pre>***\g<post>",
    ),
    # user:password@host:port without a scheme, as a word of its own
    (
        re.compile(r"(?P<pre>(?:^|(?<=[\s'\"=(\[,]))[^\s:/@'\"=(\[,]+:)(?!//)\S*(?P<post>@[^\s@'\"]+)"),
        r"\g<pre>***\g<post>",
    ),
    # password=secret, sslpassword=..., password: secret, "password": "secret", 'password': 'x'
    (
        re.compile(
            r"(?i)(?P<pre>(?<![A-Za-z0-9])[A-Za-z0-9_.-]*?(?:password|passwd|pwd|secret|token)['\"]?"
            r"\s*[=:]\s*)(?:" + _QUOTED + r"|[^\s,;&'\"}]+)"
        ),
        r"\g<pre>***",
    ),
    # HTTP Authorization headers
    (re.compile(r"(?i)(?P<pre>\b(?:basic|bearer)\s+)[A-Za-z0-9+/=._~-]{4,}"), r"\g<pre>***"),
)


def mask(text: str) -> str:
    """Return `text` with DSN passwords, `password=...` values and basic/bearer secrets hidden."""
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def _logfmt_value(value: str) -> str:
    if value and not any(c in value for c in ' ="\\\n\t'):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class _Formatter(logging.Formatter):
    def __init__(self, fmt: str) -> None:
        super().__init__()
        self.kind = fmt

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.exc_info:
            msg = f"{msg}: {self.formatException(record.exc_info)}"
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        ts = f"{ts}.{int(record.msecs):03d}Z"
        fields = {
            "ts": ts,
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": mask(msg),
        }
        for key, value in getattr(record, "fields", {}).items():
            fields[key] = mask(str(value))
        if self.kind == "json":
            return json.dumps(fields)
        return " ".join(f"{k}={_logfmt_value(v)}" for k, v in fields.items())


def setup_logging(level: str = "info", fmt: str = "logfmt", stream: TextIO | None = None) -> None:
    """Configure the root logger: `level` in debug|info|warn|error, `fmt` in logfmt|json."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_Formatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(LEVELS[level])
