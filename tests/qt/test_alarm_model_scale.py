"""The alarm list over more alarms than a wall can show: the rows kept come from the ranking, in order, and what
lies beyond them is summed up by class instead of drawn (issue 15: 200,000 alarms)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from wallctl.core.alarms.engine import AlarmEngine
from wallctl.core.alarms.event import Event
from wallctl.core.clock import ManualClock
from wallctl.core.severity import Severity
from wallctl.core.signal import Signal
from wallctl.core.view.rows import ROW_LIMIT, RankedFeed, sort_key
from wallctl.qt.alarm_model import AlarmTableModel


def test_rows_beyond_the_limit_are_aggregated_by_class(qapp: QApplication) -> None:
    clock = ManualClock()
    engine = AlarmEngine(clock)
    model = AlarmTableModel(RankedFeed(engine, group_consequences=False), Signal("changed"))
    limit = ROW_LIMIT
    for i in range(limit + 700):
        category = "network" if i % 3 == 0 else "system"
        engine.ingest(
            Event(f"n{i:05d}", "t", Severity.MAJOR if i % 2 else Severity.MINOR, clock.now(), category=category)
        )
        clock.advance(0.01)
    engine.shelve(("n00001", "t"), 60)
    model.refresh()
    assert len(model.rows) == limit and model.total == limit + 699
    assert model.hidden["shelved"] == 1
    expected = sorted((a for a in engine if a.shelved_until is None), key=lambda a: (sort_key("priority")(a), a.key))
    assert [a.key for a, _ in model.rows] == [a.key for a in expected[:limit]]
    beyond = {name: n for name, n in model.beyond}
    rest = expected[limit:]
    assert beyond == {
        "network": sum(1 for a in rest if a.category == "network"),
        "system": sum(1 for a in rest if a.category == "system"),
    }
    assert model.beyond_text().startswith("+699 not listed: ")
    engine.ack_many([a.key for a in engine if a.shelved_until is None][:10])  # a bulk change reaches the rows too
    model.refresh()
    again = sorted((a for a in engine if a.shelved_until is None), key=lambda a: (sort_key("priority")(a), a.key))
    assert [a.key for a, _ in model.rows] == [a.key for a in again[:limit]]
    model.close()
