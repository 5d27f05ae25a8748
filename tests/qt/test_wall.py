"""The wall on a 3x2 virtual wall (six offscreen screens): windows, regions across bezels, mode switching,
hotkeys, monitors unplugged and plugged back."""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from tests.qt.conftest import Wall
from wallctl.core.alarms.event import Event
from wallctl.core.severity import Severity
from wallctl.core.wall.layout import Cells
from wallctl.qt.scene import qrect

S = Severity


def test_one_full_screen_window_per_monitor_on_the_right_screen(make_wall) -> None:  # type: ignore[no-untyped-def]
    w: Wall = make_wall()
    views = w.windows.views
    assert len(views) == 6
    for view in views:
        cell, screen = view.objectName().split("@")
        r, c = map(int, cell.split(","))
        assert screen == f"WALL-{r * 3 + c + 1}"
        assert view.screen().name() == screen
        g = view.geometry()
        assert (g.x(), g.y(), g.width(), g.height()) == (c * 1920, r * 1080, 1920, 1080)
        assert view.isFullScreen() and view.windowFlags() & Qt.WindowType.FramelessWindowHint
        assert view.cursor().shape() == Qt.CursorShape.BlankCursor
        assert view.area == qrect(w.scene.geometry.monitor_rect(r, c))


def test_bezel_compensation_places_spanning_regions_across_the_gap(make_wall) -> None:  # type: ignore[no-untyped-def]
    w: Wall = make_wall()
    geo = w.scene.geometry
    assert round(geo.gap_x, 2) == round(3.6 * 1920 / 1209.6, 2)  # 3.6 mm of bezel, in pixels
    w.service.ingest(Event("br05-rtr", "node_down", S.CRITICAL, w.clock.now(), category="network"))
    w.scene.apply(w.service.evaluate(force=True))
    assert w.scene.mode == "incident"
    tile = w.scene.placement["incident"]["map"]
    rect = tile.geometry()
    span = qrect(geo.cells_rect(Cells(0, 0, 2, 2)))
    assert abs(rect.left() - span.left() - 4) < 1 and abs(rect.right() - span.right() + 4) < 1
    # the map continues behind the bezel: it is wider than two panels by exactly the gap
    assert abs(span.width() - (2 * 1920 + geo.gap_x)) < 0.01
    for r, c in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        assert qrect(geo.monitor_rect(r, c)).intersects(rect)
    assert not qrect(geo.monitor_rect(0, 2)).intersects(rect)


def test_mode_switch_reuses_tiles(make_wall) -> None:  # type: ignore[no-untyped-def]
    w: Wall = make_wall()
    built = w.scene.factory.built
    normal_map = w.scene.placement["normal"]["map"]
    incident_map = w.scene.placement["incident"]["map"]
    assert normal_map is incident_map  # one topology tile serves every mode that shows the estate
    for mode in ["incident", "flood", "normal", "environment", "briefing", "normal"]:
        w.hotkeys[w.core.layouts.modes[mode].hotkey or ""]()
        assert w.scene.mode == mode
    assert w.scene.factory.built == built
    assert w.scene.last_switch_s < 0.05


def test_hotkeys_work_on_every_window(make_wall, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    w: Wall = make_wall()
    w.service.ingest(Event("dc1-app-01", "down", S.MAJOR, w.clock.now(), category="system"))
    w.service.evaluate(force=True)
    views = w.windows.views
    views[4].activateWindow()
    QTest.keyClick(views[4], Qt.Key.Key_F4)
    assert w.scene.mode == "flood" and w.service.decision.pin is not None
    views[1].activateWindow()
    QTest.keyClick(views[1], Qt.Key.Key_R)  # release the pin
    assert w.service.decision.pin is None
    QTest.keyClick(views[5], Qt.Key.Key_A)  # acknowledge the most important unacknowledged alarm
    assert w.service.engine.get(("dc1-app-01", "down")).state.value == "ACKED"  # type: ignore[union-attr]
    QTest.keyClick(views[0], Qt.Key.Key_S)  # silence
    assert w.service.annunciator.audible.silenced_until is not None
    actions = [e.action for e in w.service.journal.audit_log()]
    assert actions == ["mode", "release", "ack", "silence"]
    assert {e.origin for e in w.service.journal.audit_log()} == {"hotkey"}


def test_monitor_unplugged_and_back(make_wall, qapp) -> None:  # type: ignore[no-untyped-def]
    w: Wall = make_wall()
    w.screens.unplug("WALL-5")
    views = w.windows.views
    assert len(views) == 1 and views[0].objectName() == "scaled"
    assert views[0].area == QRectF(0, 0, *w.scene.geometry.size)  # the whole wall, scaled
    assert w.windows.notice == "WALL SCALED: 5 of 6 monitors present"
    w.service.ingest(Event("r1", "node_down", S.CRITICAL, w.clock.now(), category="network"))
    w.scene.apply(w.service.evaluate(force=True))
    qapp.processEvents()
    assert w.scene.mode == "incident"  # still running, still switching
    w.screens.plug("WALL-5")
    assert len(w.windows.views) == 6 and w.windows.notice is None


def test_start_with_fewer_monitors_says_so(make_wall) -> None:  # type: ignore[no-untyped-def]
    w: Wall = make_wall()
    for n in ("WALL-4", "WALL-5", "WALL-6"):
        w.screens.unplugged.add(n)
    w.windows.remap()
    assert w.windows.notice == "WALL SCALED: 3 of 6 monitors present"
    assert any("WALL SCALED" in (b._notice() or "") for b in w.scene.banners)


def test_views_paint_the_new_mode(make_wall, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    w: Wall = make_wall()
    before = [v.paints for v in w.windows.views]
    t0 = time.perf_counter()
    w.hotkeys["F2"]()
    qtbot.waitUntil(lambda: all(v.paints > b for v, b in zip(w.windows.views, before, strict=True)), timeout=2000)
    assert time.perf_counter() - t0 < 2


def test_held_paints_wait_and_come_with_the_switch(make_wall, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    """A display node holds its repaints in the moment before a stamped switch (a repaint started then held the
    switch back while the other node switched); what changed meanwhile is painted with it, on every monitor."""
    w: Wall = make_wall()
    views = w.windows.views
    qtbot.waitUntil(lambda: all(v.paints > 0 for v in views), timeout=2000)
    mode = w.scene.mode
    w.windows.hold_paints()
    before = [v.paints for v in views]
    w.hotkeys["F2"]()  # a change that repaints every monitor (test_views_paint_the_new_mode)
    assert w.scene.mode != mode
    qtbot.wait(300)  # long enough for the repaint that would have come
    assert [v.paints for v in views] == before
    w.windows.release_paints()
    qtbot.waitUntil(lambda: all(v.paints > b for v, b in zip(views, before, strict=True)), timeout=2000)
