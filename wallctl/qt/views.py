"""A QGraphicsView that pyqtgraph items accept as their view (they look for these signals on it)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGraphicsView


class SceneView(QGraphicsView):
    # pyqtgraph's GraphicsItem connects to these on the first view of its scene (GraphicsItem._updateView)
    sigDeviceRangeChanged = Signal(object, object)
    sigDeviceTransformChanged = Signal(object)

    def notify_items(self) -> None:
        self.sigDeviceRangeChanged.emit(self, self.sceneRect())
        self.sigDeviceTransformChanged.emit(self)
