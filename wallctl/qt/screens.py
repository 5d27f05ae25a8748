"""Which OS screen shows which monitor of the wall, and what to do when screens come and go.

Monitors are matched by screen name, index or position. If a configured monitor has no screen, the wall is not
lost: it is shown scaled onto the screens that exist, and the banner says so (Nagstamon crashes here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtGui import QGuiApplication, QScreen

from wallctl.core.wall.layout import ScreenPosition, WallSpec


@dataclass(frozen=True, slots=True)
class ScreenInfo:
    name: str
    x: int
    y: int
    width: int
    height: int


class ScreenProvider(Protocol):
    def screens(self) -> list[ScreenInfo]: ...

    def on_change(self, callback: Callable[[], None]) -> None: ...

    def qscreen(self, name: str) -> QScreen | None: ...


class QtScreens:
    """The real provider: QGuiApplication's screens and its screenAdded/screenRemoved signals."""

    def __init__(self) -> None:
        self._app = QGuiApplication.instance()

    def screens(self) -> list[ScreenInfo]:
        out = []
        for s in QGuiApplication.screens():
            g = s.geometry()
            out.append(ScreenInfo(s.name(), g.x(), g.y(), g.width(), g.height()))
        return out

    def on_change(self, callback: Callable[[], None]) -> None:
        app = QGuiApplication.instance()
        assert isinstance(app, QGuiApplication)
        app.screenAdded.connect(lambda _s: callback())
        app.screenRemoved.connect(lambda _s: callback())

    def qscreen(self, name: str) -> QScreen | None:
        return next((s for s in QGuiApplication.screens() if s.name() == name), None)


@dataclass(frozen=True)
class Mapping:
    cells: dict[tuple[int, int], ScreenInfo]  # monitor cell -> screen
    missing: list[tuple[int, int]]
    spare: list[ScreenInfo]

    @property
    def complete(self) -> bool:
        return not self.missing


def map_monitors(wall: WallSpec, screens: list[ScreenInfo], node: str | None = None) -> Mapping:
    """Grid cells to OS screens; with ``node``, only the cells that node drives (a display node's own monitors)."""
    cells = [
        (r, c) for r in range(wall.rows) for c in range(wall.columns) if node is None or wall.node_of(r, c) == node
    ]
    specified = {(m.row, m.column): m.screen for m in wall.monitors}
    out: dict[tuple[int, int], ScreenInfo] = {}
    used: set[str] = set()
    for cell in cells:
        want = specified.get(cell)
        found: ScreenInfo | None = None
        if isinstance(want, str):
            found = next((s for s in screens if s.name == want), None)
        elif isinstance(want, int):
            found = screens[want] if 0 <= want < len(screens) else None
        elif isinstance(want, ScreenPosition):
            found = next((s for s in screens if s.x == want.x and s.y == want.y), None)
        if found is not None and found.name not in used:
            out[cell] = found
            used.add(found.name)
    # cells without an explicit screen take the remaining screens in order
    free = [s for s in screens if s.name not in used]
    for cell in cells:
        if cell not in out and specified.get(cell) is None and free:
            s = free.pop(0)
            out[cell] = s
            used.add(s.name)
    missing = [c for c in cells if c not in out]
    spare = [s for s in screens if s.name not in used]
    return Mapping(out, missing, spare)
