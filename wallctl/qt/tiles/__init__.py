"""Wall tiles: QGraphicsWidgets placed on the shared wall scene, built once and reused across modes."""
