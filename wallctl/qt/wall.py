"""The wall on screen: one frameless full-screen view per monitor onto the shared scene, hotkeys on every one,
and re-mapping when monitors are unplugged or plugged back."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import QGraphicsView

from wallctl.core.signal import Subscriptions
from wallctl.core.view.source import WallSource
from wallctl.core.wall.layout import Rect
from wallctl.core.wall.rules import Decision
from wallctl.qt.keys_overlay import HELP_KEY
from wallctl.qt.overlay import toggle_keys
from wallctl.qt.scene import WallScene, qrect
from wallctl.qt.screens import Mapping, ScreenInfo, ScreenProvider, map_monitors
from wallctl.qt.views import SceneView

log = logging.getLogger("wallctl.wall")
VIEWPORT_UPDATES = QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate


class MonitorView(SceneView):
    """One monitor: a view onto its rectangle of the wall scene."""

    painted = Signal(float)  # a frame shown, with the seconds it took to paint
    help_requested = Signal()  # '?' typed, however the keyboard layout makes it

    def __init__(self, scene: WallScene, name: str) -> None:
        super().__init__(scene)
        self.setObjectName(name)
        self.setWindowTitle(f"wallctl — {name}")
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setViewportUpdateMode(VIEWPORT_UPDATES)
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        self.setBackgroundBrush(scene.background())
        self.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        self.setCursor(Qt.CursorShape.BlankCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.area = QRectF()
        self.paints = 0
        self.last_paint = 0.0

    def show_area(self, area: QRectF) -> None:
        self.area = area
        self.setSceneRect(area)
        self.resetTransform()
        if self.width() > 0 and self.height() > 0:
            sx, sy = self.width() / area.width(), self.height() / area.height()
            s = min(sx, sy)
            if abs(s - 1.0) > 1e-3:
                self.scale(s, s)
        self.centerOn(area.center())
        self.notify_items()

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        if not self.area.isNull():
            self.show_area(self.area)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """``?`` by the character it types: a shortcut for it would miss ``Shift+/`` on some platforms and layouts."""
        held = event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier)
        if event.text() == HELP_KEY and held == Qt.KeyboardModifier.NoModifier:
            self.help_requested.emit()
            return
        super().keyPressEvent(event)

    def paintEvent(self, event: object) -> None:
        started = time.perf_counter()
        super().paintEvent(event)  # type: ignore[arg-type]
        self.paints += 1
        self.last_paint = time.perf_counter()
        self.painted.emit(self.last_paint - started)


class WallWindows:
    """Creates, places and re-maps the monitor views; binds hotkeys on each."""

    def __init__(
        self,
        scene: WallScene,
        source: WallSource,
        screens: ScreenProvider,
        *,
        windowed: bool = False,
        hotkeys: dict[str, Callable[[], None]] | None = None,
        node: str | None = None,
    ) -> None:
        """``node``: a display node opens the monitors of that node only (``node:`` in wall.yaml)."""
        self.node = node
        self.scene = scene
        self.source = source
        self.screens = screens
        self.windowed = windowed
        self.hotkeys = hotkeys or {}
        self.views: list[MonitorView] = []
        self.mapping: Mapping | None = None
        self.notice: str | None = None
        self.notice_short: str | None = None  # the banner's form when room is tight
        self.painted_hook: Callable[[dict[str, object]], None] | None = None  # benchmarks: mode painted everywhere
        self.paint_cost_hook: Callable[[float], None] | None = None  # each monitor's frame: seconds it took
        self._switch: dict[str, object] | None = None
        self._unpainted: set[int] = set()
        self.holding = False  # repaints held for a switch due in a moment (display nodes)
        screens.on_change(self.remap)
        self.subs = Subscriptions()
        self.subs.add(source.decision_changed, self.on_decision)
        self.subs.add(source.layouts_changed, self._relayout)

    # ---------------------------------------------------------------- mapping
    def remap(self) -> None:
        infos = self.screens.screens()
        mapping = map_monitors(self.scene.layouts.wall, infos, self.node)
        self.mapping = mapping
        for v in self.views:
            v.close()
            v.deleteLater()
        self.views = []
        geo = self.scene.geometry
        if mapping.complete and infos:
            for (r, c), info in sorted(mapping.cells.items()):
                self._open(f"{r},{c}@{info.name}", qrect(geo.monitor_rect(r, c)), info)
            self.notice = self.notice_short = None
        else:
            missing = len(mapping.missing)
            total = len(mapping.cells) + missing
            if infos:
                self.notice = f"WALL SCALED: {total - missing} of {total} monitors present"
                self.notice_short = f"SCALED: {total - missing}/{total} MONITORS"
            else:
                self.notice = self.notice_short = "NO SCREEN: wall rendered off-screen only"
            log.warning("%s (missing cells %s)", self.notice, mapping.missing)
            present = list(mapping.cells.values()) + mapping.spare
            if present:
                span = _bounding(present)
                w, h = geo.size
                self._open("scaled", QRectF(0, 0, w, h), span)
        self.scene.notice, self.scene.notice_short = self.notice, self.notice_short
        for b in self.scene.banners:
            b.update()
        self.source.state_changed.emit()

    def _open(self, name: str, area: QRectF, info: ScreenInfo) -> None:
        view = MonitorView(self.scene, name)
        qscreen = self.screens.qscreen(info.name)
        if self.windowed:
            scale = 0.5
            view.resize(int(area.width() * scale), int(area.height() * scale))
        else:
            if qscreen is not None:
                view.setScreen(qscreen)
            view.setGeometry(info.x, info.y, info.width, info.height)
        if HELP_KEY not in self.hotkeys:  # the wall lists its own keys, unless the config gave '?' another job
            view.help_requested.connect(lambda: toggle_keys(self.scene))
        for key, action in self.hotkeys.items():
            sc = QShortcut(QKeySequence(key), view)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(action)
        view.show_area(area)
        if self.windowed:
            view.show()
        else:
            view.showFullScreen()
        view.show_area(area)
        view.painted.connect(lambda seconds, v=view: self._view_painted(v, seconds))
        self.views.append(view)

    def on_decision(self, decision: Decision) -> None:
        before = self.scene.mode
        t0 = time.time()
        self.scene.apply(decision)
        if self.painted_hook is not None and self.scene.mode != before and self.views:
            self._switch = {"mode": self.scene.mode, "decided_at": t0, "switch_s": self.scene.last_switch_s}
            self._unpainted = {id(v) for v in self.views}

    def hold_paints(self) -> None:
        """No repaint starts until :meth:`release_paints` (a switch is due in a moment: it must not wait for one)."""
        for v in self.views:
            v.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.NoViewportUpdate)
        self.holding = True

    def release_paints(self) -> None:
        """Repaint what changed while held: the whole of each monitor."""
        if not self.holding:
            return
        self.holding = False
        for v in self.views:
            v.setViewportUpdateMode(VIEWPORT_UPDATES)
            v.viewport().update()  # what the scene changed meanwhile was not noted: all of it again

    def expect_paint(self, label: str) -> None:
        """Benchmarks: report through ``painted_hook`` once every monitor has painted (start-up, say)."""
        if self.views:
            self._switch = {"mode": label, "decided_at": time.time(), "switch_s": 0.0}
            self._unpainted = {id(v) for v in self.views}

    def _view_painted(self, view: MonitorView, seconds: float) -> None:
        if self.paint_cost_hook is not None:
            self.paint_cost_hook(seconds)
        if self._switch is None or id(view) not in self._unpainted:
            return
        self._unpainted.discard(id(view))
        if not self._unpainted and self.painted_hook is not None:
            info, self._switch = self._switch, None
            info["painted_at"] = time.time()
            info["monitors"] = len(self.views)
            self.painted_hook(info)

    def _relayout(self, _layouts: object) -> None:
        self.remap()

    def close(self) -> None:
        self.subs.disconnect_all()
        for v in self.views:
            v.close()
        self.views = []


def _bounding(infos: list[ScreenInfo]) -> ScreenInfo:
    x0 = min(i.x for i in infos)
    y0 = min(i.y for i in infos)
    x1 = max(i.x + i.width for i in infos)
    y1 = max(i.y + i.height for i in infos)
    return ScreenInfo("+".join(i.name for i in infos), x0, y0, x1 - x0, y1 - y0)


def rect_of(r: Rect) -> QRectF:
    return qrect(r)
