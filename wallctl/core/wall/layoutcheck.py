"""Cross-checks of a layouts directory: what each file cannot see alone (regions against the wall's grid and
each other, hotkeys against the reserved keys and each other, rules against the modes, KPI tiles against the
configuration), and layouts that would leave the wall blind.

Only independent problems are reported: a rule naming a mode whose file could not be read, or whose definition is
itself broken, is not also reported as naming an unknown mode (:class:`UnknownModes`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from typing import Any

from wallctl.core.files.spec import Builder, items
from wallctl.core.files.yamldoc import Doc, PathKey, Problem
from wallctl.core.wall.hotkeys import normalize_hotkey
from wallctl.core.wall.layout import Mode, Region, WallSpec
from wallctl.core.wall.rules import RuleSet
from wallctl.core.wall.tiles import TILE_OPTIONS, KpiOptions

NO_RULES = (
    "without rules the wall never leaves its default mode: no incident mode on a critical alarm, nothing on a "
    "lost broker link"
)


class UnknownModes:
    """Mode names that may exist although no valid mode carries them: modes that failed to build, and whatever
    a file that could not be read may define. A reference to one of them is not an independent problem."""

    def __init__(self) -> None:
        self.broken: set[str] = set()
        self.unread: list[str | None] = []  # text of each unreadable file (None: not even its text)

    def may_define(self, name: str) -> bool:
        if name in self.broken:
            return True
        word = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
        return any(text is None or word.search(text) for text in self.unread)


def check_options_of_broken_mode(
    b: Builder, doc: Doc, item: Any, path: PathKey, kpi_series: Collection[str] | None
) -> None:
    """A mode that failed to build still gets its tiles' options checked, so one run reports everything."""
    regions = item.get("regions") if isinstance(item, dict) else None
    if not isinstance(regions, list):
        return
    for i, raw in enumerate(regions):
        tile = raw.get("tile") if isinstance(raw, dict) else None
        if not isinstance(tile, dict) or tile.get("type") not in TILE_OPTIONS:
            continue
        opts_path = (*path, "regions", i, "tile", "options")
        opts = b.build_model(TILE_OPTIONS[tile["type"]], tile.get("options"), opts_path)
        check_kpi_series(b, opts, opts_path, kpi_series)


def check_kpi_series(b: Builder, opts: Any, path: PathKey, kpi_series: Collection[str] | None) -> None:
    """A KPI tile naming a series the configuration does not define would silently draw only the others."""
    if kpi_series is None or not isinstance(opts, KpiOptions):
        return
    known = sorted(kpi_series)
    for j, name in enumerate(opts.series):
        if name not in kpi_series:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            b.error(
                (*path, "series", j),
                f"series: {name!r} is not one of the configuration's kpis ({', '.join(known) or 'none'}){hint}",
            )


def salvage_regions(doc: Doc, item: Any, path: PathKey) -> list[tuple[int, Region]]:
    """The regions of a broken mode that are valid on their own (their own errors are already reported)."""
    raw = item.get("regions") if isinstance(item, dict) else None
    if not isinstance(raw, list):
        return []
    quiet = Builder(doc)
    built = ((i, quiet.build_model(Region, r, (*path, "regions", i))) for i, r in enumerate(raw))
    return [(i, r) for i, r in built if r is not None]


def check_blind_rules(doc: Doc) -> list[Problem]:
    """Rules that would leave the wall blind: none at all (an error), none for a lost broker link (a warning)."""
    data = doc.data
    if data is None:
        return [doc.problem((), f"rules.yaml is empty: {NO_RULES}")]
    rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, list):
        return [] if isinstance(data, dict) and "rules" in data else [doc.problem((), f"no 'rules:' list: {NO_RULES}")]
    if not rules:
        return [doc.problem(("rules",), f"no rules: {NO_RULES}")]
    if not any(isinstance(r, dict) and isinstance(r.get("when"), dict) and r["when"].get("link_down") for r in rules):
        return [
            doc.problem(
                ("rules",),
                "no rule for a lost broker link (when: {link_down: true, count_at_least: 0}): while no events "
                "arrive the wall would look calm instead of saying it is blind",
                key=True,
                level="warning",
            )
        ]
    return []


def check_wall(wall: WallSpec, doc: Doc) -> list[Problem]:
    out: list[Problem] = []
    seen: dict[tuple[int, int], int] = {}
    screens: dict[str, int] = {}
    for i, m in items(wall.monitors):
        path = ("wall", "monitors", i)
        if m.row >= wall.rows or m.column >= wall.columns:
            out.append(
                doc.problem(
                    path, f"monitor at row {m.row}, column {m.column} is off the {wall.rows}x{wall.columns} grid"
                )
            )
        if (m.row, m.column) in seen:
            out.append(
                doc.problem(
                    path,
                    f"two monitors in cell row {m.row}, column {m.column} (also monitors[{seen[(m.row, m.column)]}])",
                )
            )
        seen[(m.row, m.column)] = i
        if m.screen is not None:
            key = repr(m.screen)
            if key in screens:
                out.append(
                    doc.problem((*path, "screen"), f"screen {m.screen!r} is used twice (also monitors[{screens[key]}])")
                )
            screens[key] = i
    fz = wall.focus_zone
    if fz is not None and (fz.row + fz.rows > wall.rows or fz.column + fz.columns > wall.columns):
        out.append(doc.problem(("wall", "focus_zone"), f"focus_zone runs off the {wall.rows}x{wall.columns} grid"))
    return out


def check_mode(wall: WallSpec | None, mode: Mode, doc: Doc, path: PathKey) -> list[Problem]:
    out = check_regions(wall, mode.name, list(items(mode.regions)), doc, path)
    if not mode.regions:
        out.append(doc.problem((*path, "regions"), f"mode {mode.name!r} has no regions"))
    names = [r.name for _, r in items(mode.regions)]
    if mode.focus is not None and mode.focus not in names:
        out.append(
            doc.problem(
                (*path, "focus"),
                f"focus region {mode.focus!r} is not a region of mode {mode.name!r}; regions: {', '.join(names)}",
            )
        )
    return out


def check_regions(
    wall: WallSpec | None, mode: str, regions: list[tuple[int, Region]], doc: Doc, path: PathKey
) -> list[Problem]:
    """Names and overlaps always; the grid only when the wall itself is valid (else every region would be off
    a grid nobody can see)."""
    out: list[Problem] = []
    names: dict[str, int] = {}
    taken: dict[tuple[int, int], str] = {}
    for i, r in regions:
        rp = (*path, "regions", i)
        if r.name in names:
            out.append(doc.problem((*rp, "name"), f"region name {r.name!r} is used twice in mode {mode!r}"))
        names[r.name] = i
        if wall is not None and (r.row + r.rows > wall.rows or r.column + r.columns > wall.columns):
            out.append(
                doc.problem(
                    rp,
                    f"region {r.name!r} (rows {r.row}..{r.row + r.rows - 1}, columns "
                    f"{r.column}..{r.column + r.columns - 1}) is off the {wall.rows}x{wall.columns} grid",
                )
            )
            continue
        for cell in sorted(r.cells.cells()):
            if cell in taken:
                out.append(
                    doc.problem(
                        rp, f"region {r.name!r} overlaps region {taken[cell]!r} at row {cell[0]}, column {cell[1]}"
                    )
                )
                break
        for cell in r.cells.cells():
            taken.setdefault(cell, r.name)
    return out


def check_hotkeys(modes: dict[str, tuple[Mode, Doc, PathKey]], reserved: dict[str, str]) -> list[Problem]:
    out: list[Problem] = []
    owners: dict[str, str] = {}
    for action, key in reserved.items():
        try:
            owners[normalize_hotkey(key)] = f"the {action!r} action"
        except ValueError:
            continue  # the config's own validation reports it
    for mode, doc, path in modes.values():
        if mode.hotkey is None:
            continue
        try:
            key = normalize_hotkey(mode.hotkey)
        except ValueError as exc:
            out.append(doc.problem((*path, "hotkey"), str(exc)))
            continue
        if key in owners:
            out.append(
                doc.problem((*path, "hotkey"), f"hotkey {key} of mode {mode.name!r} is already bound to {owners[key]}")
            )
        else:
            owners[key] = f"mode {mode.name!r}"
    return out


def check_rules(rules: RuleSet | None, doc: Doc, modes: dict[str, Mode], unknowns: UnknownModes) -> list[Problem]:
    """Rules against the modes; a mode that may be defined where it could not be read is not 'unknown'."""
    known = ", ".join(modes) or "(none)"
    if rules is None:  # rules that failed to build: still check the modes they name
        raw = doc.data.get("rules") if isinstance(doc.data, dict) else None
        out = []
        for i, r in enumerate(raw if isinstance(raw, list) else []):
            name = r.get("mode") if isinstance(r, dict) else None
            if isinstance(name, str) and name not in modes and not unknowns.may_define(name):
                out.append(doc.problem(("rules", i, "mode"), f"unknown mode {name!r}; known modes: {known}"))
        return out
    out = []
    names: set[str] = set()
    for i, rule in items(rules.rules):
        rp: PathKey = ("rules", i)
        if rule.name in names:
            out.append(doc.problem((*rp, "name"), f"rule name {rule.name!r} is used twice"))
        names.add(rule.name)
        mode = modes.get(rule.mode)
        if mode is None:
            if not unknowns.may_define(rule.mode):
                out.append(
                    doc.problem(
                        (*rp, "mode"), f"rule {rule.name!r} names unknown mode {rule.mode!r}; known modes: {known}"
                    )
                )
            continue
        if rule.focus_region is not None and mode.region(rule.focus_region) is None:
            out.append(
                doc.problem(
                    (*rp, "focus_region"),
                    f"region {rule.focus_region!r} is not in mode {mode.name!r}; "
                    f"regions: {', '.join(r.name for r in mode.regions)}",
                )
            )
        c = rule.when
        if c.count_exit_below is not None and c.count_exit_below > c.count_at_least:
            out.append(
                doc.problem(
                    (*rp, "when", "count_exit_below"),
                    f"count_exit_below ({c.count_exit_below}) must not exceed count_at_least "
                    f"({c.count_at_least}), or the rule could never disengage",
                )
            )
    return out
