"""The SLO service's one exception hierarchy, rooted in SloapiError."""


class SloapiError(Exception):
    """Root of every error the SLO service raises on purpose."""


class SettingsError(SloapiError):
    """A setting is invalid; the message names it."""


class SpecError(SloapiError):
    """An SLO spec is invalid.

    Attributes:
        file: the spec file.
        slo: the SLO id (or name) when the problem is in one SLO, else None.
        reason: what is wrong.
    """

    def __init__(self, file: str, slo: str | None, reason: str) -> None:
        self.file = file
        self.slo = slo
        self.reason = reason
        where = f"{file}: SLO {slo}" if slo else file
        super().__init__(f"{where}: {reason}")


class UnknownSLOError(SloapiError):
    """No SLO has the requested id."""


class WindowError(SloapiError):
    """A window, step or time given by a caller is invalid."""


class PrometheusUnavailableError(SloapiError):
    """Prometheus could not be reached, timed out or answered with a server error."""


class QueryError(SloapiError):
    """Prometheus rejected a query (bad PromQL, too many points)."""


class DeadlineExceededError(PrometheusUnavailableError):
    """The request's deadline passed before Prometheus (or the store) answered."""


class StoreUnavailableError(SloapiError):
    """The database could not be reached or lost the connection; the message says why."""
