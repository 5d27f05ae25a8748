"""Pictures of the wall: the whole scene (all monitors, bezel gaps as black) or one view, as PNG."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsScene

from wallctl.qt.tiles.base import Tile


def render_scene(scene: QGraphicsScene, scale: float = 0.5, source: QRectF | None = None) -> QImage:
    """What the wall shows now, including what its tiles put off to their next refresh (the map's names)."""
    for item in scene.items():
        if isinstance(item, Tile) and item.isVisible():
            item.settle()
    src = source or scene.sceneRect()
    img = QImage(int(src.width() * scale), int(src.height() * scale), QImage.Format.Format_RGB32)
    img.fill(QColor("#000000"))
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    scene.render(p, QRectF(0, 0, img.width(), img.height()), src)
    p.end()
    return img


def save_wall_png(scene: QGraphicsScene, path: Path, scale: float = 0.5) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    render_scene(scene, scale).save(str(tmp))
    tmp.replace(path)
    return path
