"""``wallctl validate``: find out what each path is and check it strictly, collecting every problem."""

from __future__ import annotations

from pathlib import Path

from wallctl.core.yamldoc import ConfigError, Problem, load_yaml


def kind_of(path: Path) -> str:
    """config, layouts, soundmap, topology, scenario - by location and content."""
    if path.is_dir():
        return "layouts" if (path / "wall.yaml").exists() else "unknown-dir"
    if path.suffix.lower() in (".graphml", ".xml"):
        return "topology"
    if path.name == "wall.yaml" or path.name == "rules.yaml" or path.parent.name == "modes":
        return "layouts"
    try:
        data = load_yaml(path).data
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
    if "regions" in keys or "rules" in keys or "wall" in keys:
        return "layouts"
    return "config"


def _layouts_dir(path: Path) -> Path:
    if path.is_dir():
        return path
    return path.parent.parent if path.parent.name == "modes" else path.parent


def validate_paths(paths: list[Path]) -> tuple[list[Problem], int]:
    from wallctl.core.config import load_config

    problems: list[Problem] = []
    checked: set[Path] = set()
    layout_dirs: set[Path] = set()

    def run(fn: object, path: Path) -> None:
        checked.add(path.resolve())
        try:
            fn(path)  # type: ignore[operator]
        except ConfigError as exc:
            problems.extend(exc.problems)

    for path in paths:
        kind = kind_of(path)
        if kind == "config":
            try:
                cfg = load_config(path)
            except ConfigError as exc:
                problems.extend(exc.problems)
                checked.add(path.resolve())
                continue
            checked.add(path.resolve())
            problems.extend(_config_references(cfg, checked))
        elif kind == "layouts":
            layout_dirs.add(_layouts_dir(path).resolve())
        elif kind == "topology":
            from wallctl.core.topology import load_topology

            run(load_topology, path)
        elif kind == "soundmap":
            from wallctl.core.soundmap import load_soundmap

            run(load_soundmap, path)
        elif kind == "scenario":
            from wallctl.adapters.simulator import load_scenario

            run(load_scenario, path)
        elif kind == "yaml":
            run(load_yaml, path)
        else:
            problems.append(Problem(str(path), 1, 1, "not a wallctl file or layouts directory"))
    for d in sorted(layout_dirs):
        from wallctl.core.presets import layout_files, load_layouts

        checked.update(p.resolve() for p in layout_files(d) if p.exists())
        try:
            load_layouts(d)
        except ConfigError as exc:
            problems.extend(exc.problems)
    return sorted(set(problems)), len(checked)


def _config_references(cfg: object, checked: set[Path]) -> list[Problem]:
    from wallctl.app import load_config_layouts
    from wallctl.core.config import LoadedConfig
    from wallctl.core.presets import layout_files
    from wallctl.core.soundmap import load_soundmap
    from wallctl.core.topology import load_topology

    assert isinstance(cfg, LoadedConfig)
    m = cfg.model
    out: list[Problem] = []
    layouts_dir = cfg.resolve(m.layouts)
    checked.update(p.resolve() for p in layout_files(layouts_dir) if p.exists())
    groups = None
    for fn, what in (
        (lambda: load_config_layouts(cfg), "layouts"),
        (lambda: load_topology(cfg.resolve(m.topology)) if m.topology else None, "topology"),
    ):
        try:
            result = fn()
            if what == "topology" and result is not None:
                groups = result.groups()  # type: ignore[union-attr]
                checked.add(cfg.resolve(m.topology or "").resolve())
        except ConfigError as exc:
            out.extend(exc.problems)
    try:
        checked.add(cfg.resolve(m.sounds))
        load_soundmap(cfg.resolve(m.sounds), groups)
    except ConfigError as exc:
        out.extend(exc.problems)
    root = m.engine.suppression_root
    if root and groups is not None and not any(root in members for members in groups.values()):
        out.append(Problem(str(cfg.path), 1, 1, f"engine.suppression_root {root!r} is not a node of the topology"))
    return out
