"""The records the measures read: one history row per alarm transition, one audit row per operator action.

Plain tuples (``NamedTuple``), so a SQLite cursor's rows can be folded as they come: a million rows must not become a
million objects first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

# the history's ``kind`` column (what the controller writes, see wallctl.controller.history)
RAISE = "raise"  # a new alarm
REALARM = "realarm"  # back into alarm (from returned-unacknowledged), or worse while acknowledged
ESCALATE = "escalate"  # worse while still unacknowledged
CLEAR = "clear"  # the condition returned to normal
ACK = "ack"
SHELVE = "shelve"
UNSHELVE = "unshelve"
SUPPRESS = "suppress"  # by design (maintenance window)
UNSUPPRESS = "unsuppress"
OUT_OF_SERVICE = "out_of_service"
IN_SERVICE = "in_service"
ANNUNCIATE = "annunciate"  # an alarm already raised sounds only now (a site's backlog caught up, its cause cleared)
KINDS = (
    RAISE,
    REALARM,
    ESCALATE,
    CLEAR,
    ACK,
    SHELVE,
    UNSHELVE,
    SUPPRESS,
    UNSUPPRESS,
    OUT_OF_SERVICE,
    IN_SERVICE,
    ANNUNCIATE,
)
PRIORITIES = ("high", "medium", "low")  # IEC 60601-1-8, as the sound map names them ("cue" is kept apart)


class HistoryRow(NamedTuple):
    time: float  # seconds since the epoch, when the wall saw the transition
    source: str
    type: str
    kind: str  # one of KINDS
    severity: int  # wallctl.core.severity.Severity value
    priority: str | None  # high, medium, low (or cue) when the transition was annunciated, else None
    site: str | None


class AuditRow(NamedTuple):
    time: float
    origin: str  # hotkey, mqtt, cli, timer, system
    action: str
    ok: bool


@dataclass(frozen=True, slots=True)
class MeasurePolicy:
    """What counts as what. The defaults are EEMUA 191's and ISA-18.2's; the engine's own policy may override."""

    chatter_transitions: int = 3  # 3 or more transitions...
    chatter_window_s: float = 60.0  # ...within a minute
    fleeting_s: float = 10.0  # in and out of alarm faster than an operator can act
    stale_after_s: float = 86_400.0  # active for more than 24 h
    flood_window_s: float = 600.0
    flood_start_above: int = 10  # per window
    flood_end_below: int = 5
    list_limit: int = 50  # chattering, fleeting and per-source lists keep their worst this many


def rfc3339(t: float) -> str:
    """UTC, seconds (what ``--from``/``--to`` accept back)."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> float:
    """An RFC 3339 time (``2025-01-31T08:00:00Z``, an offset, or a plain date as midnight UTC) in epoch seconds."""
    s = text.strip()
    if len(s) == 10:
        s += "T00:00:00Z"
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise ValueError(f"{text!r} is not an RFC 3339 time (e.g. 2025-01-31T08:00:00Z)") from None
    if dt.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; add Z for UTC or an offset such as +01:00")
    return dt.timestamp()
