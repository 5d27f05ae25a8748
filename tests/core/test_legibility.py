"""Text sized by visual angle at the wall's viewing distance, and ``validate`` warning of tiles too small for it
(issue 15, item 6). No Qt here: the figures are the wall model's arithmetic."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from tests.support.wall import write_config
from wallctl.core.wall.layout import Panel, WallSpec
from wallctl.core.wall.legibility import (
    DEFAULT_SIZES,
    MIN_LIST_ROWS,
    arcmin_of,
    char_height_mm,
    check_layouts,
    list_capacity,
    region_rect,
    shortfall,
    text_sizes,
)
from wallctl.core.wall.presets import load_layouts
from wallctl.validate import validate_paths

ROOT = Path(__file__).resolve().parents[2]


def at_distance(layouts: Path, metres: float) -> Path:
    wall = layouts / "wall.yaml"
    text, n = re.subn(r"(?m)^  viewing_distance_m: [0-9.]+", f"  viewing_distance_m: {metres}", wall.read_text())
    assert n == 1, "the shipped wall.yaml names its viewing distance"
    wall.write_text(text)
    return layouts


def test_character_height_is_the_visual_angle_at_the_distance() -> None:
    assert char_height_mm(16, 5) == pytest.approx(23.27, abs=0.01)  # MIL-STD-1472's 16' from 5 m
    assert char_height_mm(10, 5) == pytest.approx(14.54, abs=0.01)
    assert char_height_mm(16, 10) == pytest.approx(2 * char_height_mm(16, 5), rel=1e-6)
    assert arcmin_of(char_height_mm(21, 7.5), 7.5) == pytest.approx(21)


def test_the_shipped_55_inch_panels_read_from_5_m_need_37_px_capitals() -> None:
    wall = load_layouts(ROOT / "layouts").wall
    assert wall.viewing_distance_m == 5.0 and wall.panel == Panel()  # 1209.6 x 680.4 mm, 1920 x 1080 px: 55" 16:9
    sizes = text_sizes(wall)
    assert sizes == DEFAULT_SIZES
    assert sizes.mm_per_px == pytest.approx(0.63)
    assert (sizes.primary_cap, sizes.secondary_cap) == (37, 24)  # 23.3 mm and 14.5 mm over a 0.63 mm pitch
    assert sizes.arcmin(sizes.primary_cap) >= 16 and sizes.arcmin(sizes.primary_cap - 1) < 16
    assert sizes.arcmin(sizes.secondary_cap) >= 10 and sizes.arcmin(sizes.secondary_cap - 1) < 10
    assert sizes.primary_px == math.ceil(37 / (1493 / 2048))  # DejaVu Sans: capitals are 0.729 of the pixel size


def test_sizes_follow_the_distance_and_the_panel() -> None:
    far = text_sizes(WallSpec(rows=1, columns=1, viewing_distance_m=10))
    assert far.primary_cap == pytest.approx(2 * DEFAULT_SIZES.primary_cap, abs=1)
    uhd = text_sizes(WallSpec(rows=1, columns=1, panel=Panel(width_px=3840, height_px=2160)))
    assert uhd.primary_cap == pytest.approx(2 * DEFAULT_SIZES.primary_cap, abs=1)  # the same 23 mm, finer pixels


def test_the_shipped_layouts_give_every_tile_room_for_its_text() -> None:
    assert check_layouts(load_layouts(ROOT / "layouts")) == []
    problems, _ = validate_paths([ROOT / "layouts"])
    assert problems == []


def test_a_list_that_cannot_show_three_rows_is_warned_about_at_its_region(layouts: Path) -> None:
    mode = layouts / "modes" / "06-deaf.yaml"
    problems, _ = validate_paths([at_distance(layouts, 14)])
    line = next(i for i, t in enumerate(mode.read_text().splitlines(), 1) if "{name: list," in t)
    mine = [str(p) for p in problems if p.file == str(mode)]
    assert len(mine) == 1, mine
    assert mine[0].startswith(f"{mode}:{line}:5: warning: region 'list' of mode 'deaf' is too small for its text")
    assert "16 arcminutes (104 px capitals at 14 m)" in mine[0] and "shows 2 rows" in mine[0]
    assert all(p.level == "warning" for p in problems), "too small a tile is a warning, not an error"


def test_validate_through_the_config_warns_too(layouts: Path, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, layouts=at_distance(layouts, 14))  # with the shipped KPIs the modes chart
    problems, _ = validate_paths([cfg])
    assert any("region 'list' of mode 'deaf' is too small" in p.message for p in problems), problems


def test_each_primary_tile_type_is_checked_against_its_own_needs() -> None:
    s = DEFAULT_SIZES
    row = s.line_px(s.primary_cap) * 1.3
    enough = (MIN_LIST_ROWS + 1) * row + 12 + s.title_h
    assert shortfall("alarm_list", True, None, 1900, enough + 1, s) is None
    assert "shows 2 rows" in (shortfall("alarm_list", True, None, 1900, enough - row, s) or "")
    assert list_capacity(enough - 12 - s.title_h, s.primary_px) == MIN_LIST_ROWS

    class Huge:
        font_pt = 96  # a layout's own, larger type takes more room: 3 rows no longer fit

    assert shortfall("alarm_list", True, Huge(), 1900, enough + 1, s) is not None
    assert shortfall("alarm_summary", True, None, 1900, 1000, s) is None
    assert shortfall("alarm_summary", True, None, 600, 1000, s) is not None
    assert shortfall("banner", False, None, 1900, 60, s) is not None
    assert shortfall("topology", True, None, 1900, 300, s) is not None
    assert shortfall("clock", True, None, 10, 10, s) is None  # not primary text


def test_a_tile_makes_room_for_the_banner_below_it() -> None:
    from wallctl.core.wall.layout import Cells, WallGeometry

    wall = WallSpec(rows=2, columns=3)
    geo, s = WallGeometry(wall), DEFAULT_SIZES
    top, bottom = region_rect(geo, Cells(0, 0), s), region_rect(geo, Cells(1, 0), s)
    assert top.h - bottom.h == s.banner_h
    assert s.banner_h >= s.line_px(s.primary_cap) + 20  # a line of primary text in badges
