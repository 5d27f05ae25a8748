"""A display node's copy of the controller's files: the setup received on ``view/setup`` written to a folder of the
node's own and read with the same loading pipeline as the controller (one pipeline for run, validate and preview)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from wallctl.core.files.yamldoc import ConfigError
from wallctl.core.topology.files import load_topology
from wallctl.core.topology.model import Topology
from wallctl.core.wall.presets import LayoutSet, load_layouts
from wallctl.core.wire.view import Setup


def topology_digest(setup: Setup) -> str:
    """A short fingerprint of the topology files a setup carries (the node's presence says which maps it draws)."""
    canonical = json.dumps(setup.topologies, sort_keys=True).encode()
    return hashlib.sha256(canonical).hexdigest()[:12]


def materialize(setup: Setup, directory: Path) -> tuple[LayoutSet, dict[str, Topology]]:
    """Write the setup's files under ``directory`` and read them with the same pipeline as the controller."""
    layouts_dir = directory / "layouts"
    for rel, text in setup.layouts.items():
        path = _inside(layouts_dir, rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for rel, data in setup.assets.items():
        path = _inside(layouts_dir, rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
    layouts = load_layouts(
        layouts_dir, reserved_hotkeys=setup.reserved_hotkeys, kpi_series=[k.name for k in setup.kpis]
    )
    topologies: dict[str, Topology] = {}
    for key, t in setup.topologies.items():
        folder = directory / "topology" / (key.replace("/", "_") or "_configured")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / Path(t["name"]).name
        path.write_text(t["text"], encoding="utf-8")
        if t.get("positions"):
            path.with_name(path.name + ".positions.json").write_text(t["positions"], encoding="utf-8")
        topologies[key] = load_topology(path, source_key=t.get("source_key") or None)  # absent from older controllers
    return layouts, topologies


def _inside(root: Path, rel: str) -> Path:
    path = (root / rel).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ConfigError([])  # a setup naming a file outside its folder is not followed
    return path
