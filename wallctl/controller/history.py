"""The journal's history rows (issue 19): one per alarm transition, built from the engine's changes.

What ``wallctl report`` and the alarm-health tile measure (wallctl.core.measures) must be what the wall did, so the
rows are built where the wall decides: the engine's change says what happened, the sound map which priority it was
annunciated with. A bulk change (an ``ack_all`` of 200,000 alarms, in slices of 500) becomes plain tuples: no JSON,
no objects per row.
"""

from __future__ import annotations

from collections.abc import Callable

from wallctl.controller.journal_rows import HistoryTuple, storable
from wallctl.core.alarms.alarm import Alarm
from wallctl.core.alarms.engine import AlarmChange, ChangeKind
from wallctl.core.alarms.event import AlarmKey
from wallctl.core.measures import records as k
from wallctl.core.sound.soundmap import SoundMap

_KIND: dict[ChangeKind, str] = {
    ChangeKind.NEW: k.RAISE,
    ChangeKind.REALARM: k.REALARM,
    ChangeKind.ESCALATE: k.ESCALATE,
    ChangeKind.CLEAR: k.CLEAR,
    ChangeKind.ACK: k.ACK,
    ChangeKind.SHELVE: k.SHELVE,
    ChangeKind.UNSHELVE: k.UNSHELVE,
}


def history_kind(change: AlarmChange, alarm: Alarm | None) -> str | None:
    """The row's kind, or None for a change the measures do not need (a repeated event, a flag) unless it sounds."""
    kind = _KIND.get(change.kind)
    if kind is not None:
        return kind
    if change.kind is ChangeKind.SUPPRESS:  # one kind for both edges: the alarm says which (gone: not suppressed)
        return k.SUPPRESS if alarm is not None and alarm.suppressed else k.UNSUPPRESS
    if change.kind is ChangeKind.OUT_OF_SERVICE:
        return k.OUT_OF_SERVICE if alarm is not None and alarm.out_of_service else k.IN_SERVICE
    return k.ANNUNCIATE if change.annunciate else None  # UPDATE, FLAGS


def change_rows(now: float, change: AlarmChange, alarm: Alarm | None, soundmap: SoundMap) -> tuple[HistoryTuple, ...]:
    """The rows of one change: none for what the measures ignore, two for an alarm born inside a maintenance
    window (its raise, and that it is suppressed: the engine says both with one change)."""
    kind = history_kind(change, alarm)
    if kind is None:
        return ()
    priority = None
    if change.annunciate and alarm is not None:
        ann = soundmap.resolve(alarm)  # what the annunciator plays for it (memoised)
        priority = ann.sound.priority if ann is not None else None
    site = alarm.site if alarm is not None else None
    row = (now, change.key[0], change.key[1], kind, int(change.severity), priority, site)
    if change.kind is ChangeKind.NEW and alarm is not None and alarm.suppressed:
        return row, (now, change.key[0], change.key[1], k.SUPPRESS, int(change.severity), None, site)
    return (row,)


def bulk_rows(
    now: float, kind: ChangeKind, keys: list[AlarmKey], get: Callable[[AlarmKey], Alarm | None]
) -> list[HistoryTuple]:
    """One row per key of a bulk change (only acknowledgements are bulk today); an alarm that left the table with
    it was cleared, so its severity is 0."""
    name = _KIND.get(kind, str(kind.value))
    rows: list[HistoryTuple] = []
    append = rows.append
    for key in keys:
        a = get(key)
        if a is None:
            append((now, key[0], key[1], name, 0, None, None))
        else:
            append((now, key[0], key[1], name, int(a.severity), None, a.site))
    return rows


def storable_rows(rows: list[HistoryTuple], drop: Callable[[str], None]) -> list[HistoryTuple]:
    """The rows SQLite can take (a lone surrogate in a name cannot be encoded): the others are dropped alone."""
    if all(r[1].isascii() and r[2].isascii() and (r[6] is None or r[6].isascii()) for r in rows):
        return rows
    kept = []
    for r in rows:
        if storable(r[1]) and storable(r[2]) and (r[6] is None or storable(r[6])):
            kept.append(r)
        else:
            drop(f"history row of {(r[1], r[2])!r:.120} is not valid UTF-8")
    return kept
