"""The one Qt item model over the core's alarms: a sorted, grouped snapshot refreshed at most a few times a second.

No widget per row anywhere: the wall's list tile paints visible rows from this model, and any desk view can put a
QTableView on it. Consequences follow their cause, indented.
"""

from __future__ import annotations

import time
from typing import Any
from weakref import WeakKeyDictionary

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer

from wallctl.core.alarms.alarm import Alarm, Flag
from wallctl.core.alarms.engine import AlarmEngine
from wallctl.core.alarms.match import AlarmMatch, Groups
from wallctl.core.alarms.ranking import Ranking
from wallctl.core.signal import Signal, Subscriptions
from wallctl.core.view.rows import beyond_text, list_ranking, list_rows

COLUMNS = ("severity", "state", "source", "type", "text", "count", "last", "flags")
Index = QModelIndex | QPersistentModelIndex


# Rankings shared by the list models that show the same alarms in the same order: six list tiles on the shipped
# modes kept six rankings, each paying for every change of every alarm (seconds of an ack_all at 200,000).
_SHARED: WeakKeyDictionary[AlarmEngine, dict[tuple[Any, ...], list[Any]]] = WeakKeyDictionary()


def _shared_ranking(engine: AlarmEngine, sort: str, match: AlarmMatch | None, groups: Groups | None) -> Ranking:
    pool = _SHARED.setdefault(engine, {})
    key = (sort, match, id(groups))
    entry = pool.get(key)
    if entry is None:
        ranking = list_ranking(engine, sort, match, groups)
        subs = Subscriptions()
        ranking.follow(subs.add)
        entry = pool[key] = [ranking, subs, 0]
    entry[2] += 1
    ranking_: Ranking = entry[0]
    return ranking_


def _release(engine: AlarmEngine, ranking: Ranking) -> None:
    pool = _SHARED.get(engine, {})
    for key, entry in list(pool.items()):
        if entry[0] is ranking:
            entry[2] -= 1
            if entry[2] <= 0:
                entry[1].disconnect_all()
                del pool[key]
            return


class AlarmTableModel(QAbstractTableModel):
    REFRESH_MS = 400  # a list that changes faster than the eye can read only costs CPU
    ROW_LIMIT = 2000  # rows kept: nobody pages past them on a wall; 100,000 alarms sorted whole took 90 ms

    def __init__(
        self,
        engine: AlarmEngine,
        *,
        match: AlarmMatch | None = None,
        sort: str = "priority",
        groups: Groups | None = None,
        group_consequences: bool = True,
        changed: Signal[[]] | None = None,
        parent: QObject | None = None,
    ) -> None:
        """``changed``: a batched "alarms changed" signal (the service's); default: every engine change."""
        super().__init__(parent)
        self.engine = engine
        self.alarm_match = match
        self.sort_name = sort  # the list's order by name (not ``sort``: QAbstractItemModel.sort is a method)
        self.groups = groups
        self.group_consequences = group_consequences
        self.rows: list[tuple[Alarm, int]] = []  # (alarm, depth), the first ROW_LIMIT in list order
        self.total = 0  # alarms the list would show without the limit
        self.hidden = {"shelved": 0, "suppressed": 0}
        self._dirty = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh)
        self.last_refresh_s = 0.0
        self.active = True  # a model whose view is hidden only remembers that it is stale
        # kept in order as alarms change; counted by category for what lies beyond the rows kept
        self.ranking = _shared_ranking(engine, sort, match, groups)
        self.beyond: list[tuple[str, int]] = []  # (category, alarms) not among the rows kept, most first
        self.subs = Subscriptions()
        self.subs.add(changed if changed is not None else engine.changed, self._on_change)
        self.subs.add(engine.bulk_changed, self._on_change)

    def close(self) -> None:
        self._timer.stop()
        self.subs.disconnect_all()
        _release(self.engine, self.ranking)

    def _on_change(self, *_args: object) -> None:
        if not self._dirty:  # the common case under load costs one attribute test
            self.mark_dirty()

    def mark_dirty(self) -> None:
        if self._dirty and (not self.active or self._timer.isActive()):
            return
        self._dirty = True
        if self.active and not self._timer.isActive():
            # a refresh costs O(alarms): space them so they never take more than a tenth of the main loop
            self._timer.start(max(self.REFRESH_MS, int(self.last_refresh_s * 10_000)))

    def set_active(self, active: bool) -> None:
        self.active = active
        if active and self._dirty:
            self.refresh()

    def refresh(self) -> None:
        """The first ROW_LIMIT rows from the ranking: O(rows), whatever the number of alarms."""
        t0 = time.perf_counter()
        self._dirty = False
        listed = list_rows(self.ranking, self.engine, self.ROW_LIMIT, group_consequences=self.group_consequences)
        self.beyond = listed.beyond
        self.beginResetModel()
        self.rows = listed.rows
        self.total = listed.total
        self.hidden = listed.hidden
        self.endResetModel()
        self.last_refresh_s = time.perf_counter() - t0

    def beyond_text(self, most: int = 3) -> str:
        """``+198,000: 120,000 system · 78,000 network`` for the alarms not among the rows kept ('' if none)."""
        return beyond_text(self.beyond, most)

    # ---------------------------------------------------------------- Qt model API
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        alarm, depth = self.rows[index.row()]
        col = COLUMNS[index.column()]
        if col == "severity":
            return alarm.peak.label
        if col == "state":
            return alarm.state.value
        if col == "source":
            return ("  " * depth) + alarm.source
        if col == "flags":
            flags = {f.value for f in alarm.flags}
            if alarm.cause is not None:
                flags.add(Flag.CONSEQUENCE.value)
            return ",".join(sorted(flags))
        if col == "last":
            return time.strftime("%H:%M:%S", time.localtime(alarm.last))
        return getattr(alarm, col)

    def alarm_at(self, row: int) -> Alarm | None:
        return self.rows[row][0] if 0 <= row < len(self.rows) else None

    def row_of(self, key: Any) -> int:
        return next((i for i, (a, _) in enumerate(self.rows) if a.key == key), -1)
