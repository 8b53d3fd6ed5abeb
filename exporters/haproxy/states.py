"""HAProxy status texts normalised to promex's state label values."""

from __future__ import annotations

SERVER_STATES = ("DOWN", "UP", "MAINT", "DRAIN", "NOLB")
BACKEND_STATES = ("DOWN", "UP")
FRONTEND_STATES = ("DOWN", "UP")
LISTENER_STATES = ("WAITING", "OPEN", "FULL")
CHECK_STATES = (
    "HANA",
    "SOCKERR",
    "L4OK",
    "L4TOUT",
    "L4CON",
    "L6OK",
    "L6TOUT",
    "L6RSP",
    "L7TOUT",
    "L7RSP",
    "L7OK",
    "L7OKC",
    "L7STS",
    "PROCERR",
    "PROCTOUT",
    "PROCOK",
)
_CHECK = frozenset(CHECK_STATES)


def server_state(status: str) -> str:
    """Normalise a server's `status` field to DOWN, UP, MAINT, DRAIN or NOLB ("" if unknown).

    Transitional texts keep the current state, as promex does: "UP 1/3" (going down) is UP,
    "DOWN 1/2" (coming up) is DOWN, "NOLB 1/2" is NOLB; "MAINT (via b/s)" and
    "MAINT (resolution)" are MAINT; "DRAIN (agent)" is DRAIN; "no check" is UP.
    """
    head = status.split(" ", 1)[0]
    if head in ("UP", "DOWN", "MAINT", "DRAIN", "NOLB"):
        return head
    if head.startswith("MAINT"):
        return "MAINT"
    if status == "no check":
        return "UP"
    return ""


def backend_state(status: str) -> str:
    """A backend is UP when HAProxy says so (servers with weight, or none), else DOWN."""
    return "UP" if status == "UP" else "DOWN"


def frontend_state(status: str) -> str:
    """A frontend is UP unless stopped (`STOP`)."""
    return "DOWN" if status.startswith("STOP") or not status else "UP"


def listener_state(status: str) -> str:
    """Listener states: WAITING, OPEN or FULL ("" if unknown)."""
    return status if status in LISTENER_STATES else ""


def check_state(status: str) -> str:
    """Normalise a `check_status` field: drop the in-progress `* ` mark; "" if not a check result."""
    if status.startswith("* "):
        status = status[2:]
    return status if status in _CHECK else ""
