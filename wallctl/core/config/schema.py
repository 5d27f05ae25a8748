"""JSON Schemas of every YAML file, generated from the same models the loaders validate with.

``python -m wallctl.core.config.schema DIR`` (``make schema``) writes them; the package ships them in
``wallctl/schemas/`` so designers' editors (VS Code's YAML extension, any yaml-language-server client) complete
and check keys as they type. A test fails when the shipped files drift from the models.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wallctl.core.config.settings import WallctlConfig
from wallctl.core.files.spec import json_schema, spec
from wallctl.core.profiles.base import ProfileMaps
from wallctl.core.sound.soundmap import SoundMapSpec
from wallctl.core.topology.model import TopologySpec
from wallctl.core.wall.layout import Mode, WallSpec
from wallctl.core.wall.rules import RuleSet
from wallctl.core.wall.tiles import TILE_OPTIONS


@dataclass(frozen=True)
class WallFile:
    """layouts/wall.yaml: the physical wall, and optionally the modes."""

    wall: WallSpec = spec("the physical wall")
    modes: tuple[Mode, ...] = spec("display modes (they may also live in layouts/modes/*.yaml)", default=())


def _with_tile_options(schema: dict[str, Any]) -> dict[str, Any]:
    """Tile options depend on the tile type: add one if/then branch per type, so editors check them too."""
    defs = schema.setdefault("$defs", {})
    branches = []
    for tile_type, cls in TILE_OPTIONS.items():
        sub = json_schema(cls)
        name = f"{cls.__name__}"
        body = {k: v for k, v in sub.items() if k not in ("$schema", "title", "$defs")}
        defs.update(sub.get("$defs", {}))
        defs[name] = body
        branches.append(
            {
                "if": {"properties": {"type": {"const": tile_type}}},
                "then": {"properties": {"options": {"$ref": f"#/$defs/{name}"}}},
            }
        )
    if "Tile" in defs:
        defs["Tile"]["allOf"] = branches
    return schema


def schemas() -> dict[str, dict[str, Any]]:
    return {
        "wallctl.schema.json": json_schema(WallctlConfig, "wallctl configuration (config/wallctl.yaml)"),
        "wall.schema.json": _with_tile_options(json_schema(WallFile, "wallctl wall (layouts/wall.yaml)")),
        "mode.schema.json": _with_tile_options(json_schema(Mode, "wallctl display mode (layouts/modes/*.yaml)")),
        "rules.schema.json": json_schema(RuleSet, "wallctl rules (layouts/rules.yaml)"),
        "soundmap.schema.json": json_schema(SoundMapSpec, "wallctl sound map (sounds/soundmap.yaml)"),
        "topology.schema.json": json_schema(TopologySpec, "wallctl topology (topology/*.yaml)"),
        "profiles.schema.json": json_schema(ProfileMaps, "wallctl payload profiles (config/profiles.yaml)"),
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "schemas"
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in schemas().items():
        (out / name).write_text(render(schema))
    sys.stdout.write(f"wrote {len(schemas())} schemas to {out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
