"""Loading the layouts directory: the wall, its display modes and the rules, checked as one whole.

``layouts/wall.yaml`` holds ``wall:`` (and may hold ``modes:``); ``layouts/modes/*.yaml`` hold one mode each or
a ``modes:`` list; ``layouts/rules.yaml`` holds the rules. Every problem in every file is reported at once with
its ``file:line:col``; the caller decides whether that is fatal (``wallctl validate``) or whether the last good
layout stays on the wall (live reload).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wallctl.core.hotkeys import normalize_hotkey
from wallctl.core.layout import Mode, WallSpec
from wallctl.core.rules import RuleSet
from wallctl.core.spec import Builder, items
from wallctl.core.tiles import TILE_OPTIONS
from wallctl.core.yamldoc import ConfigError, Doc, PathKey, Problem, load_yaml


@dataclass(frozen=True)
class LayoutSet:
    wall: WallSpec
    modes: dict[str, Mode]
    rules: RuleSet
    default_mode: str
    files: tuple[Path, ...]
    tile_options: dict[tuple[str, str], Any] = field(default_factory=dict)  # (mode, region) -> options model

    def mode_for_hotkey(self, key: str) -> str | None:
        return next((m.name for m in self.modes.values() if m.hotkey and normalize_hotkey(m.hotkey) == key), None)


def layout_files(directory: Path) -> list[Path]:
    files = [directory / "wall.yaml"]
    modes_dir = directory / "modes"
    if modes_dir.is_dir():
        files += sorted(p for p in modes_dir.iterdir() if p.suffix in (".yaml", ".yml"))
    if (directory / "rules.yaml").exists():
        files.append(directory / "rules.yaml")
    return files


def load_layouts(directory: str | Path, *, reserved_hotkeys: dict[str, str] | None = None) -> LayoutSet:
    """Load and cross-check a layouts directory; raises :class:`ConfigError` listing every problem."""
    directory = Path(directory)
    problems: list[Problem] = []
    wall: WallSpec | None = None
    wall_doc: Doc | None = None
    modes: dict[str, tuple[Mode, Doc, PathKey]] = {}
    rules: RuleSet | None = RuleSet()
    rules_doc: Doc | None = None
    files = layout_files(directory)
    tile_options: dict[tuple[str, str], Any] = {}
    attempted: list[PathKey] = []

    def parse(path: Path) -> Doc | None:
        try:
            return load_yaml(path)
        except ConfigError as exc:
            problems.extend(exc.problems)
            return None

    def add_modes(doc: Doc, items: Any, base: PathKey) -> None:
        b = Builder(doc)
        if not isinstance(items, list):
            problems.append(doc.problem(base, "'modes' must be a list of modes"))
            return
        for i, item in enumerate(items):
            _add_mode(b, doc, item, (*base, i))
        problems.extend(b.problems)

    def _add_mode(b: Builder, doc: Doc, item: Any, path: PathKey) -> None:
        attempted.append(path)
        mode = b.build_model(Mode, item, path)
        if mode is None:
            _check_options_of_broken_mode(b, doc, item, path)
            return
        if mode.name in modes:
            _, other_doc, other_path = modes[mode.name]
            line, _ = other_doc.loc(other_path)
            problems.append(
                doc.problem((*path, "name"), f"mode {mode.name!r} is already defined at {other_doc.file}:{line}")
            )
            return
        modes[mode.name] = (mode, doc, path)
        for i, region in items(mode.regions):
            cls = TILE_OPTIONS[region.tile.type]
            opts: Any = b.build_model(cls, region.tile.options, (*path, "regions", i, "tile", "options"))
            if opts is not None:
                tile_options[(mode.name, region.name)] = opts

    # ---- the wall
    wall_path = directory / "wall.yaml"
    if not wall_path.exists():
        raise ConfigError([Problem(str(wall_path), 1, 1, "file not found: a layouts directory needs wall.yaml")])
    wall_doc = parse(wall_path)
    if wall_doc is not None:
        data = wall_doc.data if isinstance(wall_doc.data, dict) else None
        if data is None or "wall" not in data:
            problems.append(wall_doc.problem((), "wall.yaml must have a 'wall:' section"))
        else:
            for key in data:
                if key not in ("wall", "modes"):
                    problems.append(
                        wall_doc.problem((key,), f"unknown key {key!r}; expected 'wall' or 'modes'", key=True)
                    )
            b = Builder(wall_doc)
            wall = b.build_model(WallSpec, data["wall"], ("wall",))
            problems.extend(b.problems)
            if "modes" in data:
                add_modes(wall_doc, data["modes"], ("modes",))
    # ---- mode files
    for path in files:
        if path.parent.name != "modes":
            continue
        doc = parse(path)
        if doc is None:
            continue
        if isinstance(doc.data, dict) and "modes" in doc.data and "regions" not in doc.data:
            add_modes(doc, doc.data["modes"], ("modes",))
        elif isinstance(doc.data, dict):
            b = Builder(doc)
            _add_mode(b, doc, doc.data, ())
            problems.extend(b.problems)
        else:
            problems.append(doc.problem((), "a mode file holds one mode (a mapping) or a 'modes:' list"))
    # ---- rules
    rules_path = directory / "rules.yaml"
    if rules_path.exists():
        rules_doc = parse(rules_path)
        if rules_doc is not None:
            b = Builder(rules_doc)
            rules = b.build_model(RuleSet, rules_doc.data, ())
            problems.extend(b.problems)
    # ---- cross checks
    if wall is not None and wall_doc is not None:
        problems += _check_wall(wall, wall_doc)
        for mode, mdoc, mpath in modes.values():
            problems += _check_mode(wall, mode, mdoc, mpath)
        if wall.default_mode is not None and modes and wall.default_mode not in modes:
            problems.append(
                wall_doc.problem(
                    ("wall", "default_mode"),
                    f"default_mode {wall.default_mode!r} is not a mode; known: {', '.join(modes)}",
                )
            )
    if not attempted and wall_doc is not None:
        problems.append(wall_doc.problem((), "no display modes: add layouts/modes/*.yaml or a 'modes:' list"))
    problems += _check_hotkeys(modes, reserved_hotkeys or {})
    if rules is not None and rules_doc is not None:
        problems += _check_rules(rules, rules_doc, {n: m for n, (m, _, _) in modes.items()})
    elif rules_doc is not None and isinstance(rules_doc.data, dict) and isinstance(rules_doc.data.get("rules"), list):
        for i, raw in enumerate(rules_doc.data["rules"]):  # rules that failed to build: still check their modes
            name = raw.get("mode") if isinstance(raw, dict) else None
            if isinstance(name, str) and modes and name not in modes:
                problems.append(
                    rules_doc.problem(("rules", i, "mode"), f"unknown mode {name!r}; known modes: {', '.join(modes)}")
                )
    if problems or wall is None or rules is None:
        raise ConfigError(problems or [Problem(str(wall_path), 1, 1, "invalid layouts")])
    default = wall.default_mode or next(iter(modes))
    return LayoutSet(wall, {n: m for n, (m, _, _) in modes.items()}, rules, default, tuple(files), tile_options)


def _check_options_of_broken_mode(b: Builder, doc: Doc, item: Any, path: PathKey) -> None:
    """A mode that failed to build still gets its tiles' options checked, so one run reports everything."""
    regions = item.get("regions") if isinstance(item, dict) else None
    if not isinstance(regions, list):
        return
    for i, raw in enumerate(regions):
        tile = raw.get("tile") if isinstance(raw, dict) else None
        if not isinstance(tile, dict) or tile.get("type") not in TILE_OPTIONS:
            continue
        b.build_model(TILE_OPTIONS[tile["type"]], tile.get("options"), (*path, "regions", i, "tile", "options"))


def _check_wall(wall: WallSpec, doc: Doc) -> list[Problem]:
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


def _check_mode(wall: WallSpec, mode: Mode, doc: Doc, path: PathKey) -> list[Problem]:
    out: list[Problem] = []
    names: dict[str, int] = {}
    taken: dict[tuple[int, int], str] = {}
    if not mode.regions:
        out.append(doc.problem((*path, "regions"), f"mode {mode.name!r} has no regions"))
    for i, r in items(mode.regions):
        rp = (*path, "regions", i)
        if r.name in names:
            out.append(doc.problem((*rp, "name"), f"region name {r.name!r} is used twice in mode {mode.name!r}"))
        names[r.name] = i
        if r.row + r.rows > wall.rows or r.column + r.columns > wall.columns:
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
    if mode.focus is not None and mode.focus not in names:
        out.append(
            doc.problem(
                (*path, "focus"),
                f"focus region {mode.focus!r} is not a region of mode {mode.name!r}; regions: {', '.join(names)}",
            )
        )
    return out


def _check_hotkeys(modes: dict[str, tuple[Mode, Doc, PathKey]], reserved: dict[str, str]) -> list[Problem]:
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


def _check_rules(rules: RuleSet, doc: Doc, modes: dict[str, Mode]) -> list[Problem]:
    out: list[Problem] = []
    names: set[str] = set()
    for i, rule in items(rules.rules):
        rp: PathKey = ("rules", i)
        if rule.name in names:
            out.append(doc.problem((*rp, "name"), f"rule name {rule.name!r} is used twice"))
        names.add(rule.name)
        mode = modes.get(rule.mode)
        if mode is None:
            out.append(
                doc.problem(
                    (*rp, "mode"),
                    f"rule {rule.name!r} names unknown mode {rule.mode!r}; known modes: {', '.join(modes) or '(none)'}",
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


def iter_problems(exc: ConfigError) -> Iterable[str]:
    return (str(p) for p in exc.problems)
