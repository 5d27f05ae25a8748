"""The wall and its display modes, as layout designers write them in YAML.

The wall is a grid of monitors with known bezels. A mode places tiles on regions in grid units (a region may
span monitors) and names one focus region. Geometry is computed here, in wall pixels, so the Qt views and the
designer preview only map rectangles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from wallctl.core.files.spec import spec

TileType = Literal[
    "topology",
    "alarm_list",
    "alarm_summary",
    "alarm_rate",
    "kpi",
    "clock",
    "banner",
    "text",
    "image",
    "diagnostics",
    "alarm_health",
]
TILE_TYPES: tuple[str, ...] = TileType.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ScreenPosition:
    """An OS screen chosen by where its top-left corner is on the desktop."""

    x: int = spec("desktop x of the screen's top-left corner")
    y: int = spec("desktop y of the screen's top-left corner")


@dataclass(frozen=True)
class Monitor:
    row: int = spec("grid row, from 0 at the top", minimum=0)
    column: int = spec("grid column, from 0 at the left", minimum=0)
    screen: str | int | ScreenPosition | None = spec(
        "OS screen: its name (e.g. DP-1), its index, or its position {x, y}; default: the n-th screen", default=None
    )
    node: str = spec("the display node (PC) that drives this monitor: wallctl display --node NAME", default="main")


@dataclass(frozen=True)
class Panel:
    width_px: int = spec("active area width in pixels", default=1920, minimum=64)
    height_px: int = spec("active area height in pixels", default=1080, minimum=64)
    width_mm: float = spec("active area width in millimetres", default=1209.6, minimum=10)
    height_mm: float = spec("active area height in millimetres", default=680.4, minimum=10)


@dataclass(frozen=True)
class Bezel:
    left: float = spec("bezel width in mm", default=1.8, minimum=0)
    right: float = spec("bezel width in mm", default=1.8, minimum=0)
    top: float = spec("bezel width in mm", default=1.8, minimum=0)
    bottom: float = spec("bezel width in mm", default=1.8, minimum=0)


@dataclass(frozen=True)
class Cells:
    row: int = spec("top row", minimum=0)
    column: int = spec("left column", minimum=0)
    rows: int = spec("rows spanned", default=1, minimum=1)
    columns: int = spec("columns spanned", default=1, minimum=1)

    def cells(self) -> set[tuple[int, int]]:
        return {
            (r, c)
            for r in range(self.row, self.row + self.rows)
            for c in range(self.column, self.column + self.columns)
        }


@dataclass(frozen=True)
class WallSpec:
    """The physical wall: a grid of identical panels."""

    rows: int = spec("monitor rows", minimum=1, maximum=16)
    columns: int = spec("monitor columns", minimum=1, maximum=16)
    name: str = spec("shown in the preview", default="wall")
    panel: Panel = spec("one panel's size", default_factory=Panel)
    bezel_mm: Bezel = spec("bezel widths", default_factory=Bezel)
    bezel_compensation: bool = spec("content continues behind bezels (lines stay straight across panels)", default=True)
    focus_zone: Cells | None = spec("where the eye rests: the cells of the central focus zone", default=None)
    monitors: tuple[Monitor, ...] = spec("grid cell -> OS screen; default: screens in order, row by row", default=())
    default_mode: str | None = spec("the mode shown when no rule applies; default the first mode", default=None)
    banner: Literal["bottom_row", "every_monitor", "none"] = spec(
        "where the status banner runs: along the wall's bottom row, at the foot of every monitor, or nowhere",
        default="bottom_row",
    )
    viewing_distance_m: float = spec(
        "distance from the wall to the farthest seat that must read it; text is sized for it by visual angle "
        "(primary text 16 arcminutes, secondary 10)",
        default=5.0,
        minimum=0.5,
        maximum=100,
    )

    def node_of(self, row: int, column: int) -> str:
        """The display node that drives the monitor at (row, column): ``main`` unless ``monitors`` says."""
        return next((m.node for m in self.monitors if (m.row, m.column) == (row, column)), "main")

    def nodes(self) -> list[str]:
        """Every display node the wall expects, in order of first appearance."""
        out: list[str] = []
        for r in range(self.rows):
            for c in range(self.columns):
                if (n := self.node_of(r, c)) not in out:
                    out.append(n)
        return out


@dataclass(frozen=True)
class Tile:
    type: TileType = spec("what the region shows")
    title: str | None = spec("caption shown on the tile", default=None)
    options: dict[str, Any] = spec("options of the tile type", default_factory=dict)


@dataclass(frozen=True)
class Region:
    name: str = spec("unique within the mode")
    row: int = spec("top grid row", minimum=0)
    column: int = spec("left grid column", minimum=0)
    tile: Tile = spec("the content")
    rows: int = spec("rows spanned", default=1, minimum=1)
    columns: int = spec("columns spanned", default=1, minimum=1)

    @property
    def cells(self) -> Cells:
        return Cells(self.row, self.column, self.rows, self.columns)


@dataclass(frozen=True)
class Mode:
    name: str = spec("unique mode name, used by rules and commands")
    regions: tuple[Region, ...] = spec("the tiles of this mode")
    title: str = spec("shown on the banner", default="")
    hotkey: str | None = spec("key that switches to this mode and pins it, e.g. F2", default=None)
    focus: str | None = spec("the region that receives the focus target (default: the first region)", default=None)
    description: str = spec("for designers", default="")

    def region(self, name: str) -> Region | None:
        return next((r for r in self.regions if r.name == name), None)

    @property
    def focus_region(self) -> Region | None:
        return self.region(self.focus) if self.focus else (self.regions[0] if self.regions else None)


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def intersects(self, other: Rect) -> bool:
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom


@dataclass(frozen=True)
class WallGeometry:
    """Wall pixels: panels at their physical place, bezel gaps included when compensating."""

    spec: WallSpec
    gap_x: float = field(init=False)
    gap_y: float = field(init=False)

    def __post_init__(self) -> None:
        p, b = self.spec.panel, self.spec.bezel_mm
        comp = self.spec.bezel_compensation
        object.__setattr__(self, "gap_x", (b.left + b.right) * p.width_px / p.width_mm if comp else 0.0)
        object.__setattr__(self, "gap_y", (b.top + b.bottom) * p.height_px / p.height_mm if comp else 0.0)

    @property
    def size(self) -> tuple[float, float]:
        s, p = self.spec, self.spec.panel
        return (s.columns * p.width_px + (s.columns - 1) * self.gap_x, s.rows * p.height_px + (s.rows - 1) * self.gap_y)

    def monitor_rect(self, row: int, column: int) -> Rect:
        p = self.spec.panel
        return Rect(column * (p.width_px + self.gap_x), row * (p.height_px + self.gap_y), p.width_px, p.height_px)

    def cells_rect(self, cells: Cells) -> Rect:
        a = self.monitor_rect(cells.row, cells.column)
        b = self.monitor_rect(cells.row + cells.rows - 1, cells.column + cells.columns - 1)
        return Rect(a.x, a.y, b.right - a.x, b.bottom - a.y)

    def monitors(self) -> list[tuple[int, int]]:
        return [(r, c) for r in range(self.spec.rows) for c in range(self.spec.columns)]
