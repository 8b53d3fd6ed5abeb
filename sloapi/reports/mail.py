"""The report as one email: text and HTML alternatives, inline PNG charts, the CSV attached."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

from sloapi.reports.errors import UnconfirmedSendError
from sloapi.reports.html import to_html
from sloapi.reports.model import MonthReport
from sloapi.reports.render import to_csv, to_text


def content_id(report: MonthReport, index: int) -> str:
    """Content-ID (without brackets) of the ``index``-th SLO's chart."""
    return f"chart-{index}.{report.month}@nines"


def message_id(month: str, recipient: str, generation: int) -> str:
    """A Message-ID fixed by month, recipient and generation.

    Every try of one copy (retries, an instance taking over a dead one's claim) carries the same
    id, so receivers can fold duplicates; only a deliberate resend (``force``) starts a new
    generation.
    """
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:16]
    return f"<report-{month}-{digest}-{generation}@nines>"


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
        """Send ``message``.

        Raises:
            UnconfirmedSendError: The whole body went out but no final reply came (timeout or
                connection lost): the server may have taken the message.
            smtplib.SMTPException: A definite refusal, or a failure before the body was sent.
            OSError: No connection, or it broke before the body was sent.
        """
        smtp = self._connect()
        try:
            if self.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)
        except smtplib.SMTPResponseException:
            smtp.close()
            raise  # the server answered: a definite outcome
        except (smtplib.SMTPException, OSError) as exc:
            smtp.close()
            if smtp.body_sent:
                raise UnconfirmedSendError(f"no final reply after the message body: {exc}") from exc
            raise
        _quit(smtp)

    def _connect(self) -> _SMTP | _SMTPSSL:
        if self.security == "tls":
            context = ssl.create_default_context()
            return _SMTPSSL(self.host, self.port, timeout=self.timeout, context=context)
        return _SMTP(self.host, self.port, timeout=self.timeout)


class _SMTP(smtplib.SMTP):
    """Remembers whether the DATA body (which ends with CRLF.CRLF) was written out.

    smtplib writes commands as text and the DATA body as bytes ending with the end-of-data
    marker, so the write of those bytes is the moment the outcome becomes ambiguous.
    """

    body_sent = False

    def send(self, s: ReadableBuffer | str) -> None:
        """Write ``s``; note when it was the whole DATA body."""
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.body_sent = True


class _SMTPSSL(_SMTP, smtplib.SMTP_SSL):
    """SMTP over TLS from the first byte, remembering the body as ``_SMTP`` does."""


def _quit(smtp: smtplib.SMTP) -> None:
    """QUIT politely; a failing QUIT changes nothing once the message was answered."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
