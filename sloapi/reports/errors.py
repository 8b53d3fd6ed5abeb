"""Errors the report package raises on purpose; all derive from ReportError (a SloapiError)."""

from sloapi.errors import SloapiError


class ReportError(SloapiError):
    """Root of every error the report package raises on purpose."""


class MonthError(ReportError):
    """A month is malformed (not ``YYYY-MM``) or has not started yet."""


class DeliveryError(ReportError):
    """A report could not be handed to the mail server (the message says why)."""


class AlreadyDeliveredError(ReportError):
    """The report was already delivered to this recipient; pass ``force`` to send it again."""


class UnconfirmedSendError(DeliveryError):
    """The message body reached the mail server but its final reply never came.

    The server may have taken the message or not: sending again may duplicate it.
    """
