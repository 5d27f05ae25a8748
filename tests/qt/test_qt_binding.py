"""The Qt binding itself must not leak references on every repaint (PySide6 6.12.0 under Python 3.11 loses a
reference to None per call of a Python paint override; a wall repaints for months)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsScene,
    QGraphicsView,
    QGraphicsWidget,
    QStyleOptionGraphicsItem,
    QWidget,
)


class _Item(QGraphicsWidget):
    def paint(self, p: QPainter, _o: QStyleOptionGraphicsItem, _w: QWidget | None = None) -> None:
        p.fillRect(self.rect(), QColor("#102030"))


class _View(QGraphicsView):
    def paintEvent(self, event: object) -> None:
        super().paintEvent(event)  # type: ignore[arg-type]


def test_repaints_do_not_leak_references_to_none(qapp: QApplication) -> None:
    scene = QGraphicsScene(0, 0, 200, 100)
    item = _Item()
    item.setGeometry(QRectF(0, 0, 200, 100))
    scene.addItem(item)
    view = _View(scene)
    view.resize(200, 100)
    view.show()
    qapp.processEvents()
    before = sys.getrefcount(None)
    for _ in range(200):
        view.viewport().repaint()
    drift = sys.getrefcount(None) - before
    view.close()
    assert abs(drift) < 50, f"None lost {-drift} references in 200 repaints: this Qt binding leaks (see pyproject)"
