"""Shared by the core tests: a private copy of the shipped layouts to break on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def layouts(tmp_path: Path) -> Path:
    d = tmp_path / "layouts"
    shutil.copytree(ROOT / "layouts", d)
    return d
