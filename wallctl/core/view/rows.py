"""The rows of one alarm list: its first ``limit`` alarms in its own order, consequences under their cause, and the
counts of what it does not show (hidden by state, beyond the rows by category).

One function for the list tile of the single-process wall and for the controller's projection that display nodes
draw, so that both show the same rows."""

from __future__ import annotations

import heapq
from collections.abc import Sequence, Set
from dataclasses import dataclass
from typing import Any, Protocol

from wallctl.core.alarms.alarm import Alarm, AlarmState, Flag
from wallctl.core.alarms.engine import AlarmEngine
from wallctl.core.alarms.match import AlarmMatch, Groups
from wallctl.core.alarms.ranking import Backlog, Ranking, SortKey
from wallctl.core.severity import Severity
from wallctl.core.signal import Subscriptions

AlarmKey = tuple[str, str]
_STATE_ORDER = {
    AlarmState.UNACK: 0,
    AlarmState.RTNUN: 1,
    AlarmState.ACKED: 2,
    AlarmState.SHLVD: 3,
    AlarmState.DSUPR: 4,
    AlarmState.OOSRV: 5,
    AlarmState.NORM: 6,
}
SORTS = ("priority", "state", "time")


def sort_key(sort: str) -> SortKey:
    if sort == "time":
        return lambda a: (-a.last,)
    if sort == "state":
        return lambda a: (_STATE_ORDER[a.state], -int(a.peak), -a.last)
    return lambda a: (-int(a.peak), _STATE_ORDER[a.state], -a.last)  # priority


def classifier(match: AlarmMatch | None, groups: Groups | None) -> Any:
    """A list's alarms: those its filter matches; shelved and suppressed ones are counted, not listed."""

    def classify(a: Alarm) -> str | bool | None:
        if match is not None and not match.matches(
            source=a.source, type=a.type, category=a.category, severity=a.peak, groups=groups
        ):
            return False
        st = a.state
        if st is AlarmState.SHLVD:
            return "shelved"
        if st is AlarmState.DSUPR or st is AlarmState.OOSRV:
            return "suppressed"
        return None

    return classify


def list_ranking(
    engine: AlarmEngine, sort: str, match: AlarmMatch | None, groups: Groups | None, backlog: Backlog | None = None
) -> Ranking:
    """The ranking one list reads its rows from (not yet connected to the engine's changes: the owner does)."""
    return Ranking(
        engine, sort_key(sort), classifier(match, groups), tally=lambda a: a.category or "other", backlog=backlog
    )


class AlarmRow(Protocol):
    """An alarm as a row draws it: an engine's alarm, or one received by a display node."""

    @property
    def source(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def peak(self) -> Severity: ...
    @property
    def state(self) -> AlarmState: ...
    @property
    def count(self) -> int: ...
    @property
    def first(self) -> float: ...
    @property
    def last(self) -> float: ...
    @property
    def text(self) -> str: ...
    @property
    def category(self) -> str | None: ...
    @property
    def flags(self) -> Set[Flag]: ...
    @property
    def cause(self) -> AlarmKey | None: ...
    @property
    def key(self) -> AlarmKey: ...


@dataclass(frozen=True, slots=True)
class ListRows:
    rows: Sequence[tuple[AlarmRow, int]]  # (alarm, depth): 1 for a consequence listed under its cause
    total: int  # alarms the list would show without the limit
    hidden: dict[str, int]  # shelved, suppressed
    beyond: list[tuple[str, int]]  # (category, alarms) not among the rows, most first


def list_rows(ranking: Ranking, engine: AlarmEngine, limit: int, *, group_consequences: bool = True) -> ListRows:
    """The first ``limit`` rows: O(rows), whatever the number of alarms."""
    rows: list[tuple[Alarm, int]] = []
    if group_consequences:
        key = ranking.sort_key
        for a in ranking:
            if a.cause is not None and a.cause in ranking:
                continue  # listed under its cause
            rows.append((a, 0))
            children = [c for c in engine.consequences_of(a.key) if c.key in ranking]
            rows += [(c, 1) for c in heapq.nsmallest(limit - len(rows), children, key=key)]
            if len(rows) >= limit:
                break
        rows = rows[:limit]
    else:
        rows = [(a, 0) for a in ranking.first(limit)]
    total = len(ranking)
    beyond = ranking.tallies.copy()
    if total > len(rows):  # aggregate what a wall cannot show row by row
        beyond.subtract(a.category or "other" for a, _ in rows)
    else:
        beyond.clear()
    return ListRows(
        rows,
        total,
        {"shelved": ranking.set_aside["shelved"], "suppressed": ranking.set_aside["suppressed"]},
        [(c, n) for c, n in beyond.most_common() if n > 0],
    )


def beyond_text(beyond: list[tuple[str, int]], most: int = 3) -> str:
    """``+198,000 not listed: 120,000 system · 78,000 network`` for the alarms not among the rows ('' if none)."""
    if not beyond:
        return ""
    n = sum(c for _, c in beyond)
    parts = [f"{c:,} {name}" for name, c in beyond[:most]]
    if len(beyond) > most:
        parts.append(f"{sum(c for _, c in beyond[most:]):,} other")
    return f"+{n:,} not listed: " + " · ".join(parts)


def row_notes(alarm: object) -> str:
    """What a row adds after the text: the branch site it came from, and the ticket it belongs to with its owner
    (a display node's rows carry both; the one-process wall's alarms carry the site)."""
    out = ""
    site = getattr(alarm, "site", None)
    if site:
        out += f"  · site {site}"
    inc = getattr(alarm, "incident", None)
    if isinstance(inc, dict) and inc.get("id"):
        owner = f" ({inc['owner']})" if inc.get("owner") else ""
        status = f" {inc['status']}" if inc.get("status") else ""
        out += f"  · {inc['id']}{status}{owner}"
    return out


ROW_LIMIT = 2000  # rows a list keeps: nobody pages past them on a wall; 100,000 alarms sorted whole took 90 ms


class RankedFeed:
    """One list's rows from its own ranking, which follows the engine's changes (the ``ListFeed`` of the process
    that holds the alarms)."""

    def __init__(
        self,
        engine: AlarmEngine,
        sort: str = "priority",
        match: AlarmMatch | None = None,
        groups: Groups | None = None,
        *,
        group_consequences: bool = True,
        limit: int = ROW_LIMIT,
        backlog: Backlog | None = None,
    ) -> None:
        self.engine = engine
        self.ranking = list_ranking(engine, sort, match, groups, backlog)
        self.group_consequences = group_consequences
        self.limit = limit
        self._subs = Subscriptions()
        self.ranking.follow(self._subs.add)

    def rows(self) -> ListRows:
        return list_rows(self.ranking, self.engine, self.limit, group_consequences=self.group_consequences)

    def close(self) -> None:
        self._subs.disconnect_all()
        self.ranking.close()
