"""Loading the layouts directory: the wall, its display modes and the rules, checked as one whole.

``layouts/wall.yaml`` holds ``wall:`` (and may hold ``modes:``); ``layouts/modes/*.yaml`` hold one mode each or
a ``modes:`` list; ``layouts/rules.yaml`` holds the rules. Every problem in every file is reported at once with
its ``file:line:col``; the caller decides whether that is fatal (``wallctl validate``) or whether the last good
layout stays on the wall (live reload).

This module reads the files and builds the models; the checks across them (grid, overlaps, hotkeys, rules
against modes, KPI tiles, blind layouts) are in :mod:`wallctl.core.wall.layoutcheck`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wallctl.core.files.spec import Builder, items
from wallctl.core.files.yamldoc import ConfigError, Doc, PathKey, Problem, load_yaml, settle
from wallctl.core.wall.hotkeys import normalize_hotkey
from wallctl.core.wall.layout import Mode, WallSpec
from wallctl.core.wall.layoutcheck import (
    NO_RULES,
    UnknownModes,
    check_blind_rules,
    check_hotkeys,
    check_kpi_series,
    check_mode,
    check_options_of_broken_mode,
    check_regions,
    check_rules,
    check_wall,
    salvage_regions,
)
from wallctl.core.wall.rules import RuleSet
from wallctl.core.wall.tiles import TILE_OPTIONS


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


def load_layouts(
    directory: str | Path,
    *,
    reserved_hotkeys: dict[str, str] | None = None,
    kpi_series: Collection[str] | None = None,
    warnings: list[Problem] | None = None,
) -> LayoutSet:
    """Load and cross-check a layouts directory; raises :class:`ConfigError` listing every problem.

    ``kpi_series``: the configuration's KPI names, to check KPI tiles against (``None``: not checked).
    ``warnings``: where warnings go when the layouts are valid; logged when not given.
    """
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
    broken_modes: list[tuple[Doc, Any, PathKey]] = []  # modes that failed to build: their regions still checked
    unknowns = UnknownModes()

    def parse(path: Path) -> Doc | None:
        try:
            return load_yaml(path)
        except ConfigError as exc:
            problems.extend(exc.problems)
            try:
                unknowns.unread.append(path.read_text(encoding="utf-8", errors="replace")[: 1 << 20])
            except OSError:
                unknowns.unread.append(None)
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
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str):
                unknowns.broken.add(name)
            check_options_of_broken_mode(b, doc, item, path, kpi_series)
            broken_modes.append((doc, item, path))
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
                check_kpi_series(b, opts, (*path, "regions", i, "tile", "options"), kpi_series)

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
    if not rules_path.exists():
        problems.append(Problem(str(rules_path), 1, 1, f"file not found: {NO_RULES}"))
    else:
        rules_doc = parse(rules_path)
        if rules_doc is not None:
            b = Builder(rules_doc)
            rules = b.build_model(RuleSet, rules_doc.data, ())
            problems.extend(b.problems)
            problems += check_blind_rules(rules_doc)
    # ---- cross checks
    if wall_doc is not None and wall is not None:
        problems += check_wall(wall, wall_doc)
    for mode, mdoc, mpath in modes.values():
        problems += check_mode(wall, mode, mdoc, mpath)
    for doc, item, mpath in broken_modes:  # what can be checked of a mode that failed to build
        name = str(item.get("name", "?")) if isinstance(item, dict) else "?"
        problems += check_regions(wall, name, salvage_regions(doc, item, mpath), doc, mpath)
    default_name = wall.default_mode if wall is not None else None
    if wall_doc and default_name and modes and default_name not in modes and not unknowns.may_define(default_name):
        problems.append(
            wall_doc.problem(
                ("wall", "default_mode"), f"default_mode {default_name!r} is not a mode; known: {', '.join(modes)}"
            )
        )
    if not attempted and wall_doc is not None and not unknowns.unread:
        problems.append(wall_doc.problem((), "no display modes: add layouts/modes/*.yaml or a 'modes:' list"))
    problems += check_hotkeys(modes, reserved_hotkeys or {})
    if rules_doc is not None:
        problems += check_rules(rules, rules_doc, {n: m for n, (m, _, _) in modes.items()}, unknowns)
    settle(problems, warnings)  # raises when any problem is an error
    if wall is None or rules is None:  # only ever after an error above; never return half a layout
        raise ConfigError([Problem(str(wall_path), 1, 1, "invalid layouts")])
    default = wall.default_mode or next(iter(modes))
    return LayoutSet(wall, {n: m for n, (m, _, _) in modes.items()}, rules, default, tuple(files), tile_options)


def iter_problems(exc: ConfigError) -> Iterable[str]:
    return (str(p) for p in exc.problems)
