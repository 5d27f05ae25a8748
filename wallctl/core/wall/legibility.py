"""Readable from the back of the room: text sized by the visual angle it subtends, as control-room ergonomics
sizes it (MIL-STD-1472H 5.2.2.2, ISO 11064-5): capitals of primary text (alarm rows, banner, summary figures,
labels of alarmed nodes) at least 16 arcminutes at the farthest seat, 20-22 preferred; secondary text (titles,
axis ticks, legends, calm node labels) at least 10. Points mean nothing at 5 m; the angle does.

Everything here is plain arithmetic on the wall model (panel size in mm and px, ``wall.viewing_distance_m``), so
``wallctl validate`` can tell a designer that a tile is too small for its text before the wall draws it, with the
same figures the Qt tiles size their type from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wallctl.core.files.yamldoc import ConfigError, Problem, load_yaml
from wallctl.core.wall.layout import Cells, Rect, WallGeometry, WallSpec

if TYPE_CHECKING:
    from wallctl.core.wall.presets import LayoutSet

PRIMARY_ARCMIN = 16.0
SECONDARY_ARCMIN = 10.0
# DejaVu Sans (regular, bold and mono alike), per pixel of font size: cap height 1493/2048 and line height
# (ascent + descent) 2384/2048. tests/qt/test_legibility.py checks them against Qt's metrics.
CAP_EM = 1493 / 2048
LINE_EM = 2384 / 2048
BOLD_CAPS_EM = 0.74  # mean advance of a bold capital, for width estimates ("CRITICAL", "WARNING")
ROW_SPACING = 1.3  # alarm list rows: line height x this
MIN_LIST_ROWS = 3  # fewer than this and the list is no list
TITLE_PAD = 14  # below a tile's caption
BANNER_PAD = 12  # above and below the banner's badges
TILE_INSET = 4 + 6  # the scene's gap between tiles, then the tile's own margin


def char_height_mm(arcmin: float, distance_m: float) -> float:
    """The height that subtends ``arcmin`` at ``distance_m``: h = 2 d tan(angle / 2)."""
    return 2000.0 * distance_m * math.tan(math.radians(arcmin / 60.0) / 2.0)


def arcmin_of(height_mm: float, distance_m: float) -> float:
    """The visual angle of a character ``height_mm`` tall seen from ``distance_m``."""
    return math.degrees(2.0 * math.atan(height_mm / (2000.0 * distance_m))) * 60.0


@dataclass(frozen=True)
class TextSizes:
    """Cap heights in wall pixels for one wall and viewing distance, and the font sizes that give them."""

    distance_m: float
    mm_per_px: float
    primary_cap: int
    secondary_cap: int

    def font_px(self, cap_px: float) -> int:
        """Pixel size of the wall's font whose capitals are at least ``cap_px`` tall."""
        return math.ceil(cap_px / CAP_EM - 1e-6)

    def line_px(self, cap_px: float) -> float:
        return self.font_px(cap_px) * LINE_EM

    def arcmin(self, cap_px: float) -> float:
        """The visual angle of capitals ``cap_px`` wall pixels tall, from the viewing distance."""
        return arcmin_of(cap_px * self.mm_per_px, self.distance_m)

    @property
    def primary_px(self) -> int:
        return self.font_px(self.primary_cap)

    @property
    def secondary_px(self) -> int:
        return self.font_px(self.secondary_cap)

    @property
    def title_h(self) -> float:
        """A tile's caption strip (secondary text)."""
        return self.line_px(self.secondary_cap) + TITLE_PAD

    @property
    def banner_h(self) -> int:
        """The status banner: one line of primary text in badges."""
        return math.ceil(self.line_px(self.primary_cap) + 2 * BANNER_PAD)

    def describe(self) -> str:
        """``16 arcminutes (37 px capitals at 5 m)``, for messages."""
        return f"{PRIMARY_ARCMIN:g} arcminutes ({self.primary_cap} px capitals at {self.distance_m:g} m)"


def text_sizes(wall: WallSpec) -> TextSizes:
    """The cap heights a wall needs: the angle at the viewing distance, in mm, over the panel's pixel pitch."""
    p = wall.panel
    pitch = p.height_mm / p.height_px  # capitals are measured vertically
    d = wall.viewing_distance_m

    def cap(arcmin: float) -> int:
        return math.ceil(char_height_mm(arcmin, d) / pitch - 1e-6)

    return TextSizes(d, pitch, cap(PRIMARY_ARCMIN), cap(SECONDARY_ARCMIN))


DEFAULT_SIZES = text_sizes(WallSpec(rows=1, columns=1))  # a 55" 1080p panel read from 5 m


# ---------------------------------------------------------------- where tiles go and what they need
def touches_banner(wall: WallSpec, cells: Cells) -> bool:
    """Whether a region's bottom edge sits on a monitor row with a banner (the tile makes room for it)."""
    bottom = cells.row + cells.rows - 1
    return wall.banner == "every_monitor" or (wall.banner == "bottom_row" and bottom == wall.rows - 1)


def region_rect(geometry: WallGeometry, cells: Cells, sizes: TextSizes) -> Rect:
    """Where the scene puts a region's tile: its cells, less the banner below it and the gap between tiles."""
    r = geometry.cells_rect(cells)
    h = r.h - (sizes.banner_h if touches_banner(geometry.spec, cells) else 0)
    return Rect(r.x + 4, r.y + 4, r.w - 8, h - 8)


def list_font_px(options: Any, sizes: TextSizes) -> int:
    """An alarm list's row font: the layout's ``font_pt`` (pt at 96 dpi) or primary size, whichever is larger."""
    asked = round(getattr(options, "font_pt", 0) * 96 / 72)
    return max(asked, sizes.primary_px)


def list_capacity(body_h: float, font_px: float) -> int:
    """Rows an alarm list shows in ``body_h`` (one row's height is kept for its footer)."""
    row = font_px * LINE_EM * ROW_SPACING
    return max(0, int((body_h - row) // row))


def summary_needs(sizes: TextSizes) -> tuple[float, float]:
    """The smallest summary tile content (w, h) whose severity labels and counts line are primary text: four cells
    wide enough for 'WARN' (a cell too narrow for 'WARNING' shows the list's tag), tall enough for a number and its
    label, and two lines below."""
    line = sizes.line_px(sizes.primary_cap)
    w = 4 * (4 * BOLD_CAPS_EM * sizes.primary_px + 24)
    big_h = 2 * line / 0.7 + 12  # the label takes the cell's lower 30 %, the number the rest
    return w, big_h + 8 + 2 * line


def shortfall(tile_type: str, titled: bool, options: Any, w: float, h: float, sizes: TextSizes) -> str | None:
    """Why a tile of ``w`` x ``h`` wall pixels cannot show its primary text at the required height, or None."""
    body_h = h - 12 - (sizes.title_h if titled else 0)
    body_w = w - 12
    if tile_type == "alarm_list":
        font = list_font_px(options, sizes)
        rows = list_capacity(body_h, font)
        if rows < MIN_LIST_ROWS:
            row = font * LINE_EM * ROW_SPACING
            need = (MIN_LIST_ROWS + 1) * row + h - body_h
            return (
                f"an alarm list {w:.0f}x{h:.0f} px shows {rows} rows; {MIN_LIST_ROWS} rows need {need:.0f} px of height"
            )
    elif tile_type == "alarm_summary":
        nw, nh = summary_needs(sizes)
        if body_w < nw or body_h < nh:
            return (
                f"an alarm summary {w:.0f}x{h:.0f} px; its labels and counts need {nw + 12:.0f}x{nh + h - body_h:.0f}"
            )
    elif tile_type == "alarm_health":  # the gauge, the level line and the five bad actors under it
        need_h = 2 * sizes.line_px(sizes.primary_cap) + 8 * sizes.line_px(sizes.secondary_cap) * 1.2 + 24
        if body_h < need_h:
            return (
                f"an alarm-health tile {w:.0f}x{h:.0f} px; its level and five bad actors need {need_h:.0f} px of height"
            )
    elif tile_type == "banner":
        font = max(round(getattr(options, "font_pt", 0) * 96 / 72), sizes.primary_px)
        need = font * LINE_EM * 1.5 + 24
        if h < need:
            return f"a banner tile {h:.0f} px high; one line needs {need:.0f} px"
    elif tile_type == "topology":  # a 16-character name of an alarmed node (bold: ~0.62 em a character) and,
        # beside the map, the legend's three lines
        need_w = 16 * 0.62 * sizes.primary_px + 12
        need_h = 3 * (sizes.line_px(sizes.primary_cap) + 8) + 3 * sizes.line_px(sizes.secondary_cap) * 1.2 + 32
        if body_w < need_w or body_h < need_h:
            return (
                f"a map {w:.0f}x{h:.0f} px; its legend and three names of alarmed nodes need {need_w:.0f}x{need_h:.0f}"
            )
    return None


def check_layouts(layouts: LayoutSet) -> list[Problem]:
    """Warnings for tiles too small to show their primary text at the required height, at the region's place in its
    file (``path:line:col: warning: ...``), as ``wallctl validate`` prints them."""
    sizes = text_sizes(layouts.wall)
    geometry = WallGeometry(layouts.wall)
    where = _region_locations(layouts)
    out = []
    for mode in layouts.modes.values():
        for region in mode.regions:
            r = region_rect(geometry, region.cells, sizes)
            options = layouts.tile_options.get((mode.name, region.name))
            why = shortfall(region.tile.type, bool(region.tile.title), options, r.w, r.h, sizes)
            if why is None:
                continue
            file, line, col = where.get((mode.name, region.name), (str(layouts.files[0]), 1, 1))
            message = (
                f"region {region.name!r} of mode {mode.name!r} is too small for its text at {sizes.describe()}: "
                f"{why}; give it more cells, or check wall.viewing_distance_m"
            )
            out.append(Problem(file, line, col, message, "warning"))
    return out


def _region_locations(layouts: LayoutSet) -> dict[tuple[str, str], tuple[str, int, int]]:
    """(mode, region) -> where the region starts in its file (a mode file, or wall.yaml's ``modes:`` list)."""
    out: dict[tuple[str, str], tuple[str, int, int]] = {}
    for path in layouts.files:
        try:
            doc = load_yaml(path)
        except (ConfigError, OSError):
            continue
        data = doc.data if isinstance(doc.data, dict) else {}
        listed = data.get("modes") if "regions" not in data else None
        modes = [(("modes", i), m) for i, m in enumerate(listed)] if isinstance(listed, list) else [((), data)]
        for base, mode in modes:
            regions = mode.get("regions") if isinstance(mode, dict) else None
            if not isinstance(regions, list):
                continue
            for i, region in enumerate(regions):
                if isinstance(region, dict) and isinstance(region.get("name"), str):
                    line, col = doc.loc((*base, "regions", i))
                    out[(str(mode.get("name")), region["name"])] = (doc.file, line, col)
    return out
