"""The diagnostics overlay the diagnostics hotkey toggles over the wall's focus zone."""

from __future__ import annotations

from PySide6.QtCore import QRectF

from wallctl.core.layout import Cells
from wallctl.core.service import WallService
from wallctl.core.tiles import DiagnosticsOptions
from wallctl.qt.scene import WallScene, qrect
from wallctl.qt.tiles.diagnostics import DiagnosticsTile

_OVERLAYS: dict[int, DiagnosticsTile] = {}


def toggle_diagnostics(scene: WallScene, service: WallService) -> bool:
    """Show or hide the overlay; returns whether it is now shown."""
    tile = _OVERLAYS.get(id(scene))
    if tile is None:
        tile = DiagnosticsTile("Diagnostics (press D to close)", DiagnosticsOptions(font_pt=18), service)
        tile.setZValue(50)
        scene.addItem(tile)
        _OVERLAYS[id(scene)] = tile
        tile.hide()
    wall = scene.layouts.wall
    zone = wall.focus_zone or Cells(0, 0, wall.rows, wall.columns)
    rect: QRectF = qrect(scene.geometry.cells_rect(zone)).adjusted(40, 40, -40, -120)
    tile.setGeometry(rect)
    tile.setVisible(not tile.isVisible())
    return tile.isVisible()
