"""Test harness: Qt on the offscreen platform with six virtual monitors (a 3x2 wall), a real Mosquitto, real
ALSA capture, and no test ever reading a developer's configuration, journal or sounds."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.alsa import AlsaCapture
from tests.support.mosquitto import Mosquitto

ROOT = Path(__file__).resolve().parent.parent
SCREENS = [
    {
        "name": f"WALL-{r * 3 + c + 1}",
        "x": c * 1920,
        "y": r * 1080,
        "width": 1920,
        "height": 1080,
        "logicalDpi": 96,
        "logicalBaseDpi": 96,
        "dpr": 1,
    }
    for r in range(2)
    for c in range(3)
]


def screens_config(directory: Path) -> str:
    path = directory / "screens.json"
    path.write_text(json.dumps({"synchronousWindowSystem": True, "windowFrameMargins": False, "screens": SCREENS}))
    return f"offscreen:configfile={path}"


def pytest_configure(config: pytest.Config) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="wallctl-tests-"))
    os.environ["QT_QPA_PLATFORM"] = screens_config(tmp)
    os.environ["XDG_RUNTIME_DIR"] = str(tmp)
    os.chmod(tmp, 0o700)
    os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.fonts.warning=false")
    os.environ.pop("WALLCTL_CONFIG", None)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Config lookups land in tmp_path, never in a developer's files."""
    monkeypatch.setenv("WALLCTL_CONFIG", str(tmp_path / "no-such-config.yaml"))
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[Mosquitto]:
    broker = Mosquitto().start()
    yield broker
    broker.stop()


@pytest.fixture
def fresh_mosquitto() -> Iterator[Mosquitto]:
    """A broker of the test's own, with persistence (for restart tests)."""
    broker = Mosquitto(persistence=True).start()
    yield broker
    broker.stop()


@pytest.fixture
def alsa(tmp_path: Path) -> AlsaCapture:
    return AlsaCapture(tmp_path / "alsa")


@pytest.fixture
def repo() -> Path:
    return ROOT
