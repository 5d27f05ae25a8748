"""The one Qt item model over the core's alarms: a sorted, grouped snapshot refreshed at most a few times a second.

No widget per row anywhere: the wall's list tile paints visible rows from this model, and any desk view can put a
QTableView on it. Consequences follow their cause, indented.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer

from wallctl.core.alarms.alarm import Flag
from wallctl.core.signal import Signal, Subscriptions
from wallctl.core.view.rows import AlarmRow, beyond_text
from wallctl.core.view.source import ListFeed

COLUMNS = ("severity", "state", "source", "type", "text", "count", "last", "flags")
Index = QModelIndex | QPersistentModelIndex


class AlarmTableModel(QAbstractTableModel):
    REFRESH_MS = 400  # a list that changes faster than the eye can read only costs CPU

    def __init__(self, feed: ListFeed, changed: Signal[[]], parent: QObject | None = None) -> None:
        """``feed``: the list's rows as of now (from a ranking, or from the wire on a display node); ``changed``: a
        batched "alarms changed" signal."""
        super().__init__(parent)
        self.feed = feed
        self.rows: Sequence[tuple[AlarmRow, int]] = []  # (alarm, depth), the first rows in list order
        self.total = 0  # alarms the list would show without the limit
        self.hidden = {"shelved": 0, "suppressed": 0}
        self.beyond: list[tuple[str, int]] = []  # (category, alarms) not among the rows kept, most first
        self._dirty = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh)
        self.last_refresh_s = 0.0
        self.active = True  # a model whose view is hidden only remembers that it is stale
        self.subs = Subscriptions()
        self.subs.add(changed, self._on_change)

    def close(self) -> None:
        self._timer.stop()
        self.subs.disconnect_all()
        self.feed.close()

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
        """The rows the feed holds: O(rows), whatever the number of alarms."""
        t0 = time.perf_counter()
        self._dirty = False
        listed = self.feed.rows()
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

    def alarm_at(self, row: int) -> AlarmRow | None:
        return self.rows[row][0] if 0 <= row < len(self.rows) else None

    def row_of(self, key: Any) -> int:
        return next((i for i, (a, _) in enumerate(self.rows) if a.key == key), -1)
