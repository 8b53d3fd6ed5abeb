"""The stack's SMTP and webhook sinks: they keep every message they receive, for tests and `stack mail`.

Mail goes to `<dir>/mail/NNNNNN.eml`, webhook bodies to `<dir>/webhook/NNNNNN.json`.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import itertools
import json
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_counter_lock = threading.Lock()


def _store(folder: Path, suffix: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with _counter_lock:
        for n in itertools.count(len(list(folder.iterdir())) + 1):
            path = folder / f"{n:06d}{suffix}"
            if not path.exists():
                path.write_bytes(data)
                return path
    raise AssertionError("unreachable")


class MailHandler:
    """aiosmtpd handler storing each message with its envelope."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        header = (
            f"X-Nines-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Nines-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        content = envelope.original_content or envelope.content
        _store(self.folder, ".eml", header + bytes(content))
        return "250 Message accepted for delivery"


class WebhookHandler(BaseHTTPRequestHandler):
    """Stores each POSTed body."""

    folder = Path(".")

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        _store(self.folder, ".json", self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")


@dataclass
class StoredMail:
    """One received message."""

    path: Path
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def recipients(self) -> list[str]:
        return [a.strip() for a in str(self.message.get("X-Nines-Envelope-To", "")).split(",") if a]


def read_mail(folder: Path) -> list[StoredMail]:
    """Every message in the sink's mail folder, oldest first."""
    out = []
    for path in sorted(folder.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        out.append(StoredMail(path, msg))
    return out


def read_webhooks(folder: Path) -> list[Any]:
    """Every webhook body received, oldest first."""
    return [json.loads(p.read_bytes()) for p in sorted(folder.glob("*.json"))]


def main(argv: list[str] | None = None) -> None:
    """Run both sinks until killed."""
    from aiosmtpd.controller import Controller

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--smtp", default="127.0.0.1:2525")
    parser.add_argument("--webhook", default="127.0.0.1:2526")
    args = parser.parse_args(argv)
    host, port = args.smtp.rsplit(":", 1)
    controller = Controller(MailHandler(args.dir / "mail"), hostname=host, port=int(port))
    controller.start()
    WebhookHandler.folder = args.dir / "webhook"
    whost, wport = args.webhook.rsplit(":", 1)
    server = ThreadingHTTPServer((whost, int(wport)), WebhookHandler)
    server.daemon_threads = True
    try:
        server.serve_forever()
    finally:
        controller.stop()
        time.sleep(0)


if __name__ == "__main__":
    main()
