"""Qt views of the core models. Everything PySide6 and pyqtgraph lives under this package."""
