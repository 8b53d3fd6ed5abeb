"""The report as one email: text and HTML alternatives, inline PNG charts, the CSV attached."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol

from sloapi.reports.html import to_html
from sloapi.reports.model import MonthReport
from sloapi.reports.render import to_csv, to_text


def content_id(report: MonthReport, index: int) -> str:
    """Content-ID (without brackets) of the ``index``-th SLO's chart."""
    return f"chart-{index}.{report.month}@nines"


def message_id(month: str, recipient: str, sends: int) -> str:
    """A Message-ID fixed by month, recipient and send number (clients drop duplicates)."""
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:16]
    return f"<report-{month}-{digest}-{sends}@nines>"


def build_message(
    report: MonthReport,
    charts: Mapping[str, bytes],
    *,
    sender: str,
    recipient: str,
    msg_id: str | None = None,
) -> EmailMessage:
    """Build the report mail.

    Structure: ``multipart/mixed`` [ ``multipart/alternative`` [ text/plain,
    ``multipart/related`` [ text/html, image/png (one per SLO, by Content-ID) ] ],
    text/csv attachment ].
    """
    cids = {slo.id: content_id(report, i) for i, slo in enumerate(report.slos) if slo.id in charts}
    msg = EmailMessage()
    msg["Subject"] = report.subject()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Date"] = format_datetime(report.generated_at)
    msg["Message-ID"] = msg_id or make_msgid(domain="nines")
    msg.set_content(to_text(report))
    msg.add_alternative(to_html(report, {k: f"cid:{v}" for k, v in cids.items()}), subtype="html")
    html_part = msg.get_payload()[1]  # type: ignore[index]
    assert isinstance(html_part, EmailMessage)
    for slo_id, cid in cids.items():
        html_part.add_related(
            charts[slo_id],
            "image",
            "png",
            cid=f"<{cid}>",
            filename=f"{slo_id}.png",
            disposition="inline",
        )
    msg.add_attachment(
        to_csv(report).encode("utf-8"),
        maintype="text",
        subtype="csv",
        filename=f"availability-{report.month}.csv",
    )
    return msg


class Mailer(Protocol):
    """Anything that hands a message to a mail server (raises on failure)."""

    def send(self, message: EmailMessage) -> None:
        """Send one message."""


@dataclass(frozen=True)
class SMTPMailer:
    """Sends through one SMTP server.

    Attributes:
        host: Server name or address (from settings).
        port: Server port.
        security: ``none``, ``starttls`` or ``tls``.
        user: Login user, if any.
        password: Login password, if any (never logged).
        timeout: Socket timeout in seconds.
    """

    host: str
    port: int
    security: str = "none"
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0

    def send(self, message: EmailMessage) -> None:
        """Send ``message``; raises ``smtplib.SMTPException`` or ``OSError`` on failure."""
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)
