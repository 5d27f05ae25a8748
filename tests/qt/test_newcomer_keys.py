"""The wall lists its own keys: ``?`` shows every binding of the running configuration and the modes' keys, the
diagnostics view lists them too, and the README names every default (issue 22, item 7)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from tests.qt.conftest import Wall
from tests.support.wall import write_config
from wallctl.app import build_scene
from wallctl.controller.build import build_core
from wallctl.core.config.settings import HotkeyConfig, load_config
from wallctl.core.wall.hotkeys import normalize_hotkey
from wallctl.qt import theme
from wallctl.qt.keys_overlay import HELP_KEY, KeysTile
from wallctl.qt.overlay import toggle_diagnostics
from wallctl.qt.shots import render_scene
from wallctl.qt.tiles.diagnostics import diagnostics_lines

ROOT = Path(__file__).resolve().parents[2]


def test_question_mark_shows_every_key_of_the_config_and_the_modes(
    make_wall: Callable[..., Wall], qtbot: QtBot
) -> None:
    w = make_wall()
    view = w.windows.views[0]
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow, timeout=2000)
    QTest.keyClick(view, Qt.Key.Key_Question)
    overlay = w.scene.overlays.get("keys")
    assert isinstance(overlay, KeysTile) and overlay.isVisible()
    operator, modes = overlay.columns()
    hk = w.core.config.model.operator.hotkeys
    want = {normalize_hotkey(getattr(hk, f.name)) for f in fields(hk)}
    assert want <= {b.key for b in operator}, want - {b.key for b in operator}
    assert "Ctrl+T" in {b.key for b in operator} and HELP_KEY in {b.key for b in operator}
    assert {b.mode: b.key for b in modes} == {m.name: m.hotkey for m in w.core.layouts.modes.values()}
    assert set(w.hotkeys) | {HELP_KEY} == {b.key for b in operator + modes}, "listed keys are the bound keys"
    img = render_scene(w.scene, scale=1.0, source=overlay.sceneBoundingRect())
    framed = sum(
        1 for x in range(0, img.width(), 3) for y in range(0, img.height(), 3) if QColor(img.pixel(x, y)) == theme.FOCUS
    )
    assert framed > 200, "the key boxes are not drawn"
    QTest.keyClick(view, Qt.Key.Key_Question, Qt.KeyboardModifier.ShiftModifier)  # as typed on most layouts
    assert not overlay.isVisible()


def test_one_overlay_at_a_time(make_wall: Callable[..., Wall], qtbot: QtBot) -> None:
    w = make_wall()
    assert toggle_diagnostics(w.scene)
    view = w.windows.views[3]
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow, timeout=2000)
    QTest.keyClick(view, Qt.Key.Key_Question)
    assert w.scene.overlays["keys"].isVisible() and not w.scene.overlays["diagnostics"].isVisible()


def test_the_list_follows_the_configuration(qapp: object, tmp_path: Path) -> None:
    extra = "operator:\n  hotkeys: {ack: K, silence: Ctrl+M}\n"
    core = build_core(load_config(write_config(tmp_path, extra=extra)))
    scene = build_scene(core)
    try:
        keys = {b.key: b.what for b in scene.factory.bindings}
        assert keys["K"] == HotkeyConfig.__dataclass_fields__["ack"].metadata["doc"]
        assert "Ctrl+M" in keys and "A" not in keys and "S" not in keys
        lines = [t for t, _ in diagnostics_lines(scene.source, scene.factory.bindings)]
        assert lines[0].startswith("Broker link")
        assert any(re.match(r"^\s+K\s+acknowledge", t) for t in lines), lines
        assert any(re.match(r"^\s+F1\s+mode normal", t) for t in lines), lines
    finally:
        scene.dispose()
        if core.journal is not None:
            core.journal.close()


def test_the_diagnostics_overlay_lists_the_keys_too(make_wall: Callable[..., Wall]) -> None:
    w = make_wall()
    assert toggle_diagnostics(w.scene)
    tile = w.scene.overlays["diagnostics"]
    lines = [t for t, _ in diagnostics_lines(w.source, tile.bindings())]
    assert any(t.startswith("Keys (? shows them on the wall)") for t in lines)
    assert any(re.match(r"^\s+Ctrl\+T\s+sound self-test", t) for t in lines), lines


def test_readme_names_every_default_key() -> None:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Hotkeys", 1)[1].split("\n## ", 1)[0]
    for f in fields(HotkeyConfig):
        assert f"`{f.default}`" in section, f"README's hotkeys lack {f.name} ({f.default})"
    assert f"`{HELP_KEY}`" in section
