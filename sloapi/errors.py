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
        reason: what is wrong (naming the field when there is one).
        line: the line in the file (1-based) when YAML gives one, else None.
        field: the field's path in the document (`slos[0].objective`), else None.
    """

    def __init__(
        self, file: str, slo: str | None, reason: str, line: int | None = None, field: str | None = None
    ) -> None:
        self.file = file
        self.slo = slo
        self.reason = reason
        self.line = line
        self.field = field
        place = f"{file}:{line}" if line else file
        where = f"{place}: SLO {slo}" if slo else place
        super().__init__(f"{where}: {reason}")


class InvalidSpecsError(SpecError):
    """Several invalid specs at once; file, slo, reason and line are those of the first.

    Attributes:
        errors: every error, in file and line order.
    """

    def __init__(self, errors: list[SpecError]) -> None:
        first = errors[0]
        super().__init__(first.file, first.slo, first.reason, first.line, first.field)
        self.errors = errors
        self.args = ("\n".join(str(e) for e in errors),)


class UnknownSLOError(SloapiError):
    """No SLO has the requested id."""


class WindowError(SloapiError):
    """A window, step or time given by a caller is invalid."""


class PrometheusUnavailableError(SloapiError):
    """Prometheus could not be reached, timed out or answered with a server error."""


class QueryError(SloapiError):
    """Prometheus rejected a query (bad PromQL, too many points)."""
