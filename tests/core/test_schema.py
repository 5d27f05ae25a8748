"""The shipped JSON Schemas match the models, and the shipped YAML files pass them (what designers' editors see)."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from wallctl.core.config.schema import render, schemas

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "wallctl" / "schemas"


def test_shipped_schemas_are_up_to_date() -> None:
    for name, schema in schemas().items():
        assert (SHIPPED / name).read_text() == render(schema), f"{name} is stale: run 'make schema'"


@pytest.mark.parametrize(
    ("schema", "files"),
    [
        ("wallctl.schema.json", ["config/wallctl.yaml"]),
        ("wall.schema.json", ["layouts/wall.yaml"]),
        ("mode.schema.json", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "layouts" / "modes").glob("*.yaml"))),
        ("rules.schema.json", ["layouts/rules.yaml"]),
        ("soundmap.schema.json", ["sounds/soundmap.yaml"]),
        ("topology.schema.json", ["topology/estate.yaml"]),
        ("profiles.schema.json", ["config/profiles.yaml"]),
    ],
)
def test_shipped_files_pass_their_schema(schema: str, files: list[str]) -> None:
    validator = jsonschema.Draft202012Validator(schemas()[schema])
    for f in files:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load((ROOT / f).read_text()))]
        assert errors == [], f"{f}: {errors}"


def test_schema_catches_what_designers_get_wrong() -> None:
    validator = jsonschema.Draft202012Validator(schemas()["mode.schema.json"])
    bad = {
        "name": "x",
        "regions": [
            {"name": "a", "row": 0, "column": 0, "colums": 2, "tile": {"type": "clock", "options": {"secnds": True}}}
        ],
    }
    messages = sorted(e.message for e in validator.iter_errors(bad))
    assert any("'colums' was unexpected" in m for m in messages)
    assert any("'secnds' was unexpected" in m for m in messages)
    assert not validator.is_valid(
        {"name": "x", "regions": [{"name": "a", "row": 0, "column": 0, "tile": {"type": "topolgy"}}]}
    )
