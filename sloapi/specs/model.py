"""The typed SLO spec every input format is loaded into."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sloapi.engine.objective import Objective
from sloapi.engine.policy import BudgetPolicy
from sloapi.engine.windows import Window, parse_window

WINDOW_PLACEHOLDER = "{{.window}}"

__all__ = ["WINDOW_PLACEHOLDER", "AlertSpec", "EventsSLI", "RawSLI", "SLOSpec", "Window", "parse_window"]


@dataclass(frozen=True)
class EventsSLI:
    """An event SLI: PromQL rates of bad (or good) and total events, with `{{.window}}` in each."""

    total_query: str
    error_query: str | None = None
    good_query: str | None = None


@dataclass(frozen=True)
class RawSLI:
    """A raw SLI: a PromQL error ratio in [0, 1], with `{{.window}}`."""

    error_ratio_query: str


@dataclass(frozen=True)
class AlertSpec:
    """Sloth's `alerting` block."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    page_labels: dict[str, str] = field(default_factory=dict)
    page_annotations: dict[str, str] = field(default_factory=dict)
    page_disabled: bool = False
    ticket_labels: dict[str, str] = field(default_factory=dict)
    ticket_annotations: dict[str, str] = field(default_factory=dict)
    ticket_disabled: bool = False
    min_events: int = 0  # nines extension: burn-rate tiers need this many events in their long window


@dataclass(frozen=True)
class SLOSpec:
    """One SLO, whatever format it came from.

    Attributes:
        id: `<service>-<name>`, as Sloth builds it.
        service: the service.
        name: the SLO's name within the service.
        objective: exact objective (`Objective.from_percent("99.9")`).
        sli: an `EventsSLI` or a `RawSLI`.
        window: the default window of the SLO.
        labels: labels of the SLO (service-level labels merged with the SLO's own).
        description: free text.
        alerting: the alerting block.
        recipients: report recipients for this SLO.
        source: the file it was read from.
        policy: the error-budget policy (nines extension; defaults documented in
            `sloapi.engine.policy`).
        breakdown: labels of the error query the budget attribution splits by (empty: the
            usual HTTP labels, see `sloapi.prometheus.breakdown.DEFAULT_BREAKDOWN`).
    """

    id: str
    service: str
    name: str
    objective: Objective
    sli: EventsSLI | RawSLI
    window: Window = field(default_factory=Window)
    labels: dict[str, str] = field(default_factory=dict)
    description: str = ""
    alerting: AlertSpec | None = None
    recipients: tuple[str, ...] = ()
    source: str = ""
    policy: BudgetPolicy = field(default_factory=BudgetPolicy)
    breakdown: tuple[str, ...] = ()

    @property
    def objective_percent(self) -> Decimal:
        """The objective in percent, exact."""
        return self.objective.percent

    def queries(self, window: str) -> dict[str, str]:
        """The SLI's PromQL with `{{.window}}` replaced by `window`.

        Returns:
            `{"error": ..., "total": ...}` for event SLIs (error derived from good when needed)
            or `{"ratio": ...}` for raw SLIs.
        """
        if isinstance(self.sli, RawSLI):
            return {"ratio": self.sli.error_ratio_query.replace(WINDOW_PLACEHOLDER, window)}
        total = self.sli.total_query.replace(WINDOW_PLACEHOLDER, window)
        if self.sli.error_query is not None:
            error = self.sli.error_query.replace(WINDOW_PLACEHOLDER, window)
        else:
            good = (self.sli.good_query or "").replace(WINDOW_PLACEHOLDER, window)
            error = f"(({total}) - ({good}))"
        return {"error": error, "total": total}
