"""Which incidents to open, update and resolve: one per cause, decided over the live alarms and a clock.

An incident belongs to a root alarm (an alarm with no ``cause``); the alarms the engine marks as its consequences
ride on it (``consequences`` in the contract's JSON) instead of opening tickets of their own. It opens when a
matching alarm of the group has stayed unacknowledged for ``open_after_s``; any later change of the root's state,
severity or text, or of the set of consequences, is an update; it resolves when no alarm of the group is in alarm.
Pure: the controller feeds changes in and sends what :meth:`IncidentTracker.step` returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from wallctl.core.alarms.alarm import Alarm, AlarmState
from wallctl.core.alarms.event import AlarmKey
from wallctl.core.incidents.config import IncidentsConfig

Action = Literal["open", "update", "resolve"]


@dataclass
class Incident:
    key: str  # the contract's "key": stable for the incident's life, the receiver's idempotency key
    root: AlarmKey
    opened_at: float
    alarm: dict[str, Any]  # the last alarm JSON sent (used for the resolve once the root is gone)
    consequences: list[list[str]] = field(default_factory=list)
    ref: dict[str, Any] | None = None  # {"id", "owner", "status"} from the ticket system
    updates: int = 0  # updates sent so far: numbers each one's idempotency key

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "root": list(self.root),
            "opened_at": self.opened_at,
            "alarm": self.alarm,
            "consequences": self.consequences,
            "ref": self.ref,
            "updates": self.updates,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Incident:
        root = d["root"]
        return cls(str(d["key"]), (str(root[0]), str(root[1])), float(d["opened_at"]), dict(d["alarm"]),
                   [list(c) for c in d.get("consequences", [])], d.get("ref"), int(d.get("updates", 0)))  # fmt: skip


@dataclass(frozen=True)
class IncidentAction:
    incident: Incident
    action: Action
    payload: dict[str, Any]  # the contract's webhook JSON


def alarm_json(a: Alarm) -> dict[str, Any]:
    return {
        "source": a.source,
        "type": a.type,
        "severity": a.severity.label,
        "state": a.state.value,
        "text": a.text,
        "site": a.site,
    }


class IncidentTracker:
    """Open incidents by root alarm, and the groups waiting for ``open_after_s``."""

    def __init__(
        self,
        config: IncidentsConfig,
        wall_id: str,
        lookup: Callable[[AlarmKey], Alarm | None],
        consequences: Callable[[AlarmKey], list[Alarm]],
    ) -> None:
        self.config = config
        self.wall_id = wall_id
        self.lookup = lookup
        self.consequences_of = consequences
        self.open: dict[AlarmKey, Incident] = {}
        self._dirty: set[AlarmKey] = set()
        self._waiting: set[AlarmKey] = set()
        self._root_of: dict[AlarmKey, AlarmKey] = {}  # a consequence's root, remembered for when it is gone
        self._used: set[str] = set()  # keys given out: a realarm of the same occurrence gets a key of its own

    def restore(self, incidents: list[Incident]) -> None:
        """Open incidents back from the journal; each is re-checked at the next step (resolved if all cleared)."""
        for inc in incidents:
            self.open[inc.root] = inc
            self._used.add(inc.key)
            self._dirty.add(inc.root)

    def observe(self, key: AlarmKey, alarm: Alarm | None) -> None:
        """An alarm changed (``None``: it left the table)."""
        old_root = self._root_of.get(key)
        root = alarm.cause if alarm is not None and alarm.cause is not None else key
        if alarm is None:
            root = old_root or key
            self._root_of.pop(key, None)
        elif root != key:
            self._root_of[key] = root
        elif old_root is not None:
            del self._root_of[key]
        for r in {root} if old_root is None else {root, old_root}:
            if r in self.open or r in self._waiting or (alarm is not None and self._matches(alarm)):
                self._dirty.add(r)

    def ref_of(self, alarm: Alarm) -> dict[str, Any] | None:
        """The ticket an alarm belongs to (its own, or its cause's), as shown on the alarms topic."""
        inc = self.open.get(alarm.cause or alarm.key)
        return inc.ref if inc is not None else None

    def step(self, now: float) -> list[IncidentAction]:
        """What to send now; call often (every second or so): ``open_after_s`` is measured here."""
        todo, self._dirty = self._dirty | self._waiting, set()
        out: list[IncidentAction] = []
        for root in sorted(todo):
            action = self._decide(root, now)
            if action is not None:
                out.append(action)
        return out

    def _matches(self, a: Alarm) -> bool:
        return self.config.match.applies(source=a.source, type=a.type, category=a.category, severity=a.severity)

    def _decide(self, root: AlarmKey, now: float) -> IncidentAction | None:
        head = self.lookup(root)
        members = ([head] if head is not None else []) + self.consequences_of(root)
        inc = self.open.get(root)
        if inc is None:
            self._waiting.discard(root)
            ready = [m for m in members if m.state is AlarmState.UNACK and self._matches(m)]
            if not ready:
                return None
            since = min(m.raised_at or m.first for m in ready)
            if now - since < self.config.open_after_s:
                self._waiting.add(root)
                return None
            main = head if head is not None and head.in_alarm else ready[0]
            inc = Incident(self._key(root, head or main), root, now, alarm_json(main))
            self.open[root] = inc
            return self._action(inc, "open", main, members)
        active = [m for m in members if m.in_alarm]
        if not active:
            del self.open[root]
            inc.alarm = alarm_json(head) if head is not None else dict(inc.alarm, state="NORM", severity="cleared")
            inc.consequences = []
            return IncidentAction(inc, "resolve", self._payload(inc, "resolve"))
        main = head if head is not None else active[0]
        before = (inc.alarm, inc.consequences)
        inc.alarm = alarm_json(main)
        inc.consequences = _consequences(members, root)
        if (inc.alarm, inc.consequences) == before:
            return None
        inc.updates += 1
        return IncidentAction(inc, "update", self._payload(inc, "update"))

    def _key(self, root: AlarmKey, alarm: Alarm) -> str:
        """The incident's key from what both controllers of a hot standby pair know alike: the root alarm and when
        its occurrence began (the source's own time when the event carries one), so the one that takes the wall
        over updates the other's ticket instead of opening a second. A reopened occurrence adds its event count."""
        key = f"{self.wall_id}:{root[0]}:{root[1]}:{int(alarm.first)}"
        if key in self._used:
            key = f"{key}:{alarm.count}"
        self._used.add(key)
        return key

    def _action(self, inc: Incident, action: Action, main: Alarm, members: list[Alarm]) -> IncidentAction:
        inc.alarm = alarm_json(main)
        inc.consequences = _consequences(members, inc.root)
        return IncidentAction(inc, action, self._payload(inc, action))

    @staticmethod
    def _payload(inc: Incident, action: Action) -> dict[str, Any]:
        return {"key": inc.key, "action": action, "alarm": dict(inc.alarm), "consequences": list(inc.consequences)}


def _consequences(members: list[Alarm], root: AlarmKey) -> list[list[str]]:
    return sorted([m.source, m.type] for m in members if m.key != root and m.in_alarm)
