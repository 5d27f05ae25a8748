"""``wallctl preview``: the whole wall scaled into one window for layout designers, reloading on save.

Monitor outlines and bezels are drawn over the real renderer's output, so what the designer sees is what the wall
shows. ``--png DIR`` renders every mode to a PNG file (for review, and for the README's screenshots), with the
sample alarms in it (and says so). An unknown ``--mode`` is a usage error (exit 2), found before any window opens.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from wallctl.controller.service import WallService
from wallctl.core.alarms.event import Event
from wallctl.core.clock import SystemClock
from wallctl.core.config.settings import load_config
from wallctl.core.severity import Severity

SAMPLE = [
    ("br05-rtr", "node_down", Severity.CRITICAL, "network", "Chengdu branch router not responding"),
    ("br05-fw", "unreachable", Severity.MAJOR, "network", "Chengdu firewall unreachable"),
    ("br05-sw", "unreachable", Severity.MAJOR, "network", "Chengdu switch unreachable"),
    ("dc1-ups-1", "ups_on_battery", Severity.MAJOR, "environment", "UPS 1 on battery, 18 min runtime"),
    ("dc1-db-03", "replication_lag", Severity.MINOR, "system", "Standby replication lag 45 s"),
    ("dc1-app-05", "cpu_high", Severity.WARNING, "system", "CPU above 90%"),
    ("dc1-fw-2", "port_scan", Severity.MAJOR, "security", "Port scan from 203.0.113.7"),
]


def feed_sample(service: WallService) -> None:
    now = service.clock.now()
    for i, (src, typ, sev, cat, text) in enumerate(SAMPLE):
        service.ingest(Event(src, typ, sev, now - 600 + i * 40, category=cat, text=text, received=now))
    service.engine.ack(("dc1-db-03", "replication_lag"))


def run_preview(
    config: Path, *, layouts: Path | None, mode: str | None, png_dir: Path | None, sample_alarms: bool
) -> int:
    from PySide6.QtCore import QRect, QRectF, Qt
    from PySide6.QtGui import QColor, QKeySequence, QPainter, QPen, QShortcut
    from PySide6.QtWidgets import QApplication

    from wallctl.app import build_scene
    from wallctl.controller.build import build_core, load_config_layouts
    from wallctl.controller.reload import LayoutWatcher
    from wallctl.core.wire.commands import Command
    from wallctl.qt.loop import QtLoop
    from wallctl.qt.platform import prepare_qt_environment
    from wallctl.qt.shots import save_wall_png
    from wallctl.qt.views import SceneView

    cfg = load_config(config)
    if layouts is not None:
        object.__setattr__(cfg.model, "layouts", str(layouts.resolve()))
    journal = Path(tempfile.mkdtemp(prefix="wallctl-preview-")) / "journal.sqlite3"
    core = build_core(cfg, clock=SystemClock(), journal_path=str(journal))  # no Qt yet: a bad --mode exits at once
    if mode is not None and mode not in core.layouts.modes:
        print(
            f"wallctl preview: error: unknown mode {mode!r}; known modes: {', '.join(core.layouts.modes)}",
            file=sys.stderr,
        )
        return 2
    prepare_qt_environment()
    if png_dir is not None:
        import os

        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    service = core.service
    service.set_link("none")  # no broker in a preview: not 'down' either
    if sample_alarms or png_dir is not None:
        feed_sample(service)
        print(
            f"preview: showing {len(SAMPLE)} made-up sample alarms (not real ones) so that every tile has something "
            "to draw",
            file=sys.stderr,
        )
    scene = build_scene(core)
    service.decision_changed.connect(scene.apply)

    def show(name: str) -> None:
        service.execute(Command("mode", {"mode": name, "pin_s": 86400}), "preview")
        scene.apply(service.evaluate(force=True))

    if png_dir is not None:
        png_dir.mkdir(parents=True, exist_ok=True)
        for name in core.layouts.modes:
            show(name)
            for _ in range(5):
                app.processEvents()
            for topo_tile in scene.tiles.values():
                refresh = getattr(topo_tile, "refresh", None)
                if callable(refresh):
                    refresh()
            out = save_wall_png(scene, png_dir / f"{name}.png", scale=0.5)
            print(f"wrote {out}")
        return 0

    class Preview(SceneView):
        def drawForeground(self, p: QPainter, _rect: QRectF | QRect) -> None:
            geo = scene.geometry
            p.setPen(QPen(QColor("#000000"), max(geo.gap_x, 4)))
            for r, c in geo.monitors():
                m = geo.monitor_rect(r, c)
                p.drawRect(QRectF(m.x, m.y, m.w, m.h))
            p.setPen(QPen(QColor("#f0e442"), 3, Qt.PenStyle.DashLine))
            zone = scene.layouts.wall.focus_zone
            if zone is not None:
                z = geo.cells_rect(zone)
                p.drawRect(QRectF(z.x, z.y, z.w, z.h))

        def resizeEvent(self, event: object) -> None:
            super().resizeEvent(event)  # type: ignore[arg-type]
            self.fitInView(scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    view = Preview(scene)
    view.setWindowTitle(f"wallctl preview — {cfg.resolve(cfg.model.layouts)}")
    view.resize(1600, int(1600 * scene.sceneRect().height() / scene.sceneRect().width()) + 20)
    for i, name in enumerate(core.layouts.modes):
        if i < 12:
            QShortcut(QKeySequence(f"F{i + 1}"), view).activated.connect(lambda n=name: show(n))
    QShortcut(QKeySequence("Ctrl+Q"), view).activated.connect(app.quit)
    watcher = LayoutWatcher(cfg.resolve(cfg.model.layouts), lambda: load_config_layouts(cfg), service, QtLoop())
    show(mode or core.layouts.default_mode)
    view.show()
    print("preview: F1-F12 switch modes; edits to the layouts are applied on save; Ctrl+Q quits", file=sys.stderr)
    view.watcher = watcher  # type: ignore[attr-defined]  # keep it alive with the window
    return int(app.exec())
