"""The Qt-free heart of wallctl: events, alarms, rules, layouts, topology, annunciator policy, journal.

Nothing here imports PySide6 or pyqtgraph (``tools/check_boundary.py`` enforces it), so every model can be
built and tested without a display.
"""
