"""Choosing the platform and keeping the wall awake."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wallctl.core.wall.presets import load_layouts
from wallctl.qt.platform import inhibit_screensaver, offscreen_config

ROOT = Path(__file__).resolve().parents[2]


def test_screensaver_and_dpms_are_turned_off_on_x11(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")
    calls: list[list[str]] = []
    msg = inhibit_screensaver(lambda args: calls.append(args) or 0)
    assert calls == [["/usr/bin/xset", "s", "off"], ["/usr/bin/xset", "s", "noblank"], ["/usr/bin/xset", "-dpms"]]
    assert msg == "screen saver and DPMS turned off (xset)"
    assert "could not" in inhibit_screensaver(lambda args: 1)


def test_no_display_means_nothing_to_inhibit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    assert inhibit_screensaver(lambda args: 0) == "no X display: nothing to inhibit"


def test_offscreen_config_has_one_named_screen_per_monitor(tmp_path: Path) -> None:
    wall = load_layouts(ROOT / "layouts").wall
    cfg = json.loads(offscreen_config(wall, tmp_path).read_text())
    names = [(s["name"], s["x"], s["y"]) for s in cfg["screens"]]
    assert names == [
        ("WALL-1", 0, 0),
        ("WALL-2", 1920, 0),
        ("WALL-3", 3840, 0),
        ("WALL-4", 0, 1080),
        ("WALL-5", 1920, 1080),
        ("WALL-6", 3840, 1080),
    ]


_TYPE_PROBE = """
import os
from wallctl.qt.platform import prepare_qt_environment
prepare_qt_environment()
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter
app = QGuiApplication([])
ink = {}
for px in (24, 71, 120, 200, 300):
    image = QImage(500, 500, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor(0, 0, 0))
    painter = QPainter(image)
    font = QFont()
    font.setPixelSize(px)
    painter.setFont(font)
    painter.setPen(QColor(255, 255, 255))
    for _ in range(2):  # the second draw comes from Qt's glyph cache where it keeps one
        painter.drawText(image.rect(), Qt.AlignmentFlag.AlignCenter, "8")
    painter.end()
    ink[px] = sum(image.pixelColor(x, y).red() > 128 for y in range(0, 500, 2) for x in range(0, 500, 2))
print(ink)
"""


def test_type_of_every_size_is_drawn_in_the_wall_s_environment() -> None:
    """The summary's figures and the clock are a few hundred pixels tall: with Qt's glyph cache raised above its
    64 px, this Qt drew cached glyphs as nothing, and the wall showed empty severity boxes."""
    clean = {k: v for k, v in os.environ.items() if k != "QT_MAX_CACHED_GLYPH_SIZE"}
    out = subprocess.run([sys.executable, "-c", _TYPE_PROBE], env=clean, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    ink = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    assert all(ink[px] > px * px // 40 for px in ink), ink  # an "8" covers well over a tenth of its em square


_FILL_PROBE = """
import os
from wallctl.qt.platform import prepare_qt_environment
prepare_qt_environment()
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
app = QGuiApplication([])
image = QImage(1920, 1080, QImage.Format.Format_ARGB32_Premultiplied)
painter = QPainter(image)
for _ in range(3):
    painter.fillRect(0, 0, 1920, 1080, QColor(10, 20, 30, 128))  # a monitor-sized blend: Qt splits it by lines
painter.end()
print(sorted(open(f"/proc/self/task/{t}/comm").read().strip() for t in os.listdir("/proc/self/task")))
"""


def _threads_after_a_big_fill(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("QT_NO_GUI_THREADPOOL", "WALLCTL_QT_FILL_THREADS")}
    out = subprocess.run(
        [sys.executable, "-c", _FILL_PROBE], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return list(ast.literal_eval(out.stdout.strip().splitlines()[-1]))


def test_a_display_paints_its_fills_itself_not_through_a_thread_pool() -> None:
    """Qt hands each big fill to its GUI thread pool and waits: on a loaded two-core PC the hand-offs cost a third
    of a display node's CPU during a flood. The wall turns the pool off; an integrator can keep it."""
    assert "Thread (pooled)" not in _threads_after_a_big_fill()
    kept = _threads_after_a_big_fill(WALLCTL_QT_FILL_THREADS="1")
    assert "Thread (pooled)" in kept  # the same fill with the pool: the probe sees the pool when there is one
