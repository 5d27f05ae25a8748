"""``wallctl validate``: find out what each path is and check it strictly, collecting every problem.

Every independent problem is reported in one run, and none that only follows from another: a configuration with
one broken section still has the files its other sections name checked; a section that is itself broken does not
have its files checked against a default it does not mean. Warnings (``path:line:col: warning: ...``) point at
configuration that is valid but would leave the wall blind or deaf; they never make a file invalid. Paths are
printed as they were given on the command line.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wallctl.core.files.yamldoc import TOPOLOGY_LIMITS, ConfigError, Problem, load_yaml
from wallctl.core.profiles.base import ProfileMaps

PROFILE_SECTIONS = frozenset(ProfileMaps.__dataclass_fields__)  # a file of only these keys is a profiles file

if TYPE_CHECKING:
    from wallctl.core.config.settings import LoadedConfig


def kind_of(path: Path) -> str:
    """config, layouts, soundmap, topology, scenario - by location and content."""
    if path.is_dir():
        return "layouts" if (path / "wall.yaml").exists() else "unknown-dir"
    if path.suffix.lower() in (".graphml", ".xml"):
        return "topology"
    if path.name == "wall.yaml" or path.name == "rules.yaml" or path.parent.name == "modes":
        return "layouts"
    try:
        data = load_yaml(path, TOPOLOGY_LIMITS).data  # the largest limits: the file's own loader applies its own
    except ConfigError:
        return "yaml"
    if not isinstance(data, dict):
        return "yaml"
    keys = set(data)
    if keys & {"nodes", "links"}:
        return "topology"
    if "sounds" in keys and ("map" in keys or "defaults" in keys or "specials" in keys):
        return "soundmap"
    if "steps" in keys:
        return "scenario"
    if keys and keys <= PROFILE_SECTIONS:
        return "profiles"
    if "regions" in keys or "rules" in keys or "wall" in keys:
        return "layouts"
    return "config"


def _layouts_dir(path: Path) -> Path:
    if path.is_dir():
        return path
    return path.parent.parent if path.parent.name == "modes" else path.parent


def validate_paths(paths: list[Path]) -> tuple[list[Problem], int]:
    """Every problem (errors and warnings) in the given files and what they name, and how many files were read."""
    problems: list[Problem] = []
    checked: set[Path] = set()
    layout_dirs: set[Path] = set()

    def run(fn: Callable[[Path], object], path: Path) -> None:
        checked.add(path.resolve())
        try:
            fn(path)
        except ConfigError as exc:
            problems.extend(exc.problems)

    for path in paths:
        if not path.exists():
            problems.append(Problem(str(path), 1, 1, "no such file or directory"))
            continue
        kind = kind_of(path)
        if kind == "config":
            checked.add(path.resolve())
            cfg, errors, broken = load_config_leniently(path)
            problems.extend(errors)
            from wallctl.core.incidents.config import check_credentials

            run(lambda p: problems.extend(check_credentials(load_yaml(p))), path)  # what the controller would refuse
            from wallctl.core.lights.config import check_output_credentials, check_outputs

            run(lambda p: problems.extend(check_output_credentials(load_yaml(p))), path)
            run(lambda p: check_outputs(load_yaml(p), warnings=problems), path)  # its errors came with the config's
            if cfg is not None:
                problems.extend(_config_references(cfg, checked, broken))
        elif kind == "layouts":
            layout_dirs.add(_layouts_dir(path).resolve())
        elif kind == "topology":
            from wallctl.core.topology.files import load_topology

            run(lambda p: load_topology(p, warnings=problems), path)
        elif kind == "soundmap":
            from wallctl.core.sound.soundmap import load_soundmap

            run(lambda p: load_soundmap(p, warnings=problems), path)
        elif kind == "profiles":
            from wallctl.core.profiles.maps import load_profile_maps

            run(load_profile_maps, path)
        elif kind == "scenario":
            from wallctl.adapters.simulator import load_scenario

            run(load_scenario, path)
        elif kind == "yaml":
            run(load_yaml, path)
        else:
            problems.append(Problem(str(path), 1, 1, "not a wallctl file or layouts directory"))
    for d in sorted(layout_dirs):
        from wallctl.core.wall.legibility import check_layouts
        from wallctl.core.wall.presets import layout_files, load_layouts

        checked.update(p.resolve() for p in layout_files(d) if p.exists())
        run(lambda p: problems.extend(check_layouts(load_layouts(p, warnings=problems))), d)
    shown = _AsGiven(paths)
    return sorted({dataclasses.replace(p, file=shown(p.file)) for p in problems}), len(checked)


def load_config_leniently(path: Path) -> tuple[LoadedConfig | None, list[Problem], set[str]]:
    """The configuration built from its valid top-level sections, its problems, and the sections left out.

    ``wallctl run`` needs all of it; ``validate`` goes on with what is valid so that, say, a mistyped port does
    not hide a broken layout.
    """
    from wallctl.core.config.settings import LoadedConfig, WallctlConfig, load_config
    from wallctl.core.files.spec import Builder

    try:
        return load_config(path), [], set()
    except ConfigError as exc:
        problems = exc.problems
    try:
        doc = load_yaml(path)
    except ConfigError:
        return None, problems, set()  # not even YAML: nothing to go on with
    if not isinstance(doc.data, dict):
        return None, problems, set()
    broken = set()
    for key, value in doc.data.items():
        b = Builder(doc)
        if b.build_model(WallctlConfig, {key: value}, ()) is None or b.problems:
            broken.add(key)
    model = Builder(doc).build_model(WallctlConfig, {k: v for k, v in doc.data.items() if k not in broken}, ())
    return (LoadedConfig(model, path.resolve()) if model is not None else None), problems, broken


def _config_references(cfg: LoadedConfig, checked: set[Path], broken: set[str]) -> list[Problem]:
    """The files the configuration names, checked as ``run`` loads them (skipping those of broken sections)."""
    from wallctl.controller.build import reserved_hotkeys
    from wallctl.core.sound.soundmap import load_soundmap
    from wallctl.core.topology.files import load_topology
    from wallctl.core.wall.legibility import check_layouts
    from wallctl.core.wall.presets import layout_files, load_layouts

    m = cfg.model
    out: list[Problem] = []

    def check(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except ConfigError as exc:
            out.extend(exc.problems)
            return None

    if "layouts" not in broken:
        layouts_dir = cfg.resolve(m.layouts)
        checked.update(p.resolve() for p in layout_files(layouts_dir) if p.exists())
        hotkeys = reserved_hotkeys(cfg) if "operator" not in broken else {}
        kpis = [k.name for k in m.kpis] if "kpis" not in broken else None
        layouts = check(lambda: load_layouts(layouts_dir, reserved_hotkeys=hotkeys, kpi_series=kpis, warnings=out))
        if layouts is not None:  # tiles too small for their text at the viewing distance
            out.extend(check_layouts(layouts))
    groups = topology = None
    if m.topology and "topology" not in broken:
        checked.add(cfg.resolve(m.topology))
        topology = check(
            lambda: load_topology(cfg.resolve(m.topology or ""), source_key=m.topology_source_key, warnings=out)
        )
        groups = topology.groups() if topology is not None else None
    if "sounds" not in broken:
        checked.add(cfg.resolve(m.sounds))
        check(lambda: load_soundmap(cfg.resolve(m.sounds), groups, warnings=out))
    if m.profiles and "profiles" not in broken:
        from wallctl.core.profiles.maps import load_profile_maps

        checked.add(cfg.resolve(m.profiles))
        check(lambda: load_profile_maps(cfg.resolve(m.profiles or "")))
    root = m.engine.suppression_root
    if root and topology is not None and root not in topology.graph:
        out.append(Problem(str(cfg.path), 1, 1, f"engine.suppression_root {root!r} is not a node of the topology"))
    return out


class _AsGiven:
    """Shows a file as the user named it: a path given on the command line as typed, a file inside a given
    directory under that directory's spelling, any other file (what a configuration names) relative to the
    current directory when the user typed relative paths, else absolute."""

    def __init__(self, given: list[Path]) -> None:
        self.given = sorted(((os.path.realpath(p), p) for p in given), key=lambda g: -len(g[0]))
        self.relative = any(not p.is_absolute() for p in given)

    def __call__(self, file: str) -> str:
        real = os.path.realpath(file)
        for prefix, as_typed in self.given:
            if real == prefix:
                return str(as_typed)
            if real.startswith(prefix + os.sep):
                return str(as_typed / os.path.relpath(real, prefix))
        return os.path.relpath(real) if self.relative else real
