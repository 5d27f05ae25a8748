"""The command line of the contract: every sub-command is there, documents itself, and exits with the
documented codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def wallctl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "wallctl", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


ALL = [
    "run",
    "controller",
    "display",
    "gateway",
    "demo",
    "validate",
    "preview",
    "sounds",
    "outputs",
    "bench",
    "report",
    "bridge-config",
]


@pytest.mark.parametrize("cmd", ALL)
def test_every_subcommand_has_help(cmd: str) -> None:
    res = wallctl(cmd, "--help")
    assert res.returncode == 0
    assert f"usage: wallctl {cmd}" in res.stdout


def test_top_level_help_lists_the_contract_commands() -> None:
    res = wallctl("--help")
    assert res.returncode == 0
    for cmd in ALL:
        assert cmd in res.stdout
    assert "$WALLCTL_CONFIG" in res.stdout


def test_usage_errors_exit_2() -> None:
    assert wallctl("validate", "--nope").returncode == 2
    assert wallctl("frobnicate").returncode == 2
    assert wallctl().returncode == 2


def test_validate_exit_codes_and_output(tmp_path: Path) -> None:
    ok = wallctl("validate", str(ROOT / "config" / "wallctl.yaml"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = tmp_path / "t.yaml"
    bad.write_text("nodes:\n  - {id: a, kind: toaster}\nlinks: []\n")
    res = wallctl("validate", str(bad))
    assert res.returncode == 1
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{bad}:2:19: nodes[0].kind: 'toaster' is not one of")


def test_validate_defaults_to_the_configured_file(tmp_path: Path) -> None:
    res = wallctl("validate", env={"WALLCTL_CONFIG": str(ROOT / "config" / "wallctl.yaml")})
    assert res.returncode == 0, res.stderr
    assert "file(s) valid" in res.stderr


def test_run_refuses_an_invalid_config_clearly(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("wall_id: w\nmqtt: {port: nope}\n")
    res = wallctl("run", "--config", str(cfg))
    assert res.returncode == 1
    assert f"{cfg}:2:14: mqtt.port: expected an integer, got 'nope'" in res.stderr
    assert "Traceback" not in res.stderr


def test_sounds_check_reports_a_missing_audio_device(tmp_path: Path) -> None:
    from tests.support.alsa import broken_alsa

    res = wallctl("sounds", "--check", "--config", str(ROOT / "config" / "wallctl.yaml"), env=broken_alsa(tmp_path))
    assert res.returncode == 1
    assert "audio device: FAILED" in res.stderr and "sound files: 20 of 20 ok" in res.stdout
    assert "aplay -l" in res.stderr and "audio.card" in res.stderr  # says what to do, not only the error code
    assert "ALSA lib" not in res.stderr  # libasound's own lines are not passed on


def test_sounds_check_passes_with_a_device(tmp_path: Path) -> None:
    from tests.support.alsa import AlsaCapture

    cap = AlsaCapture(tmp_path / "alsa")
    res = wallctl("sounds", "--check", "--config", str(ROOT / "config" / "wallctl.yaml"), env=cap.env)
    assert res.returncode == 0, res.stderr
    assert "audio device: ok" in res.stdout


def test_sounds_self_test_plays_and_names_every_sound(tmp_path: Path) -> None:
    from tests.support.alsa import AlsaCapture

    cap = AlsaCapture(tmp_path / "alsa")
    env = {**cap.env, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    res = wallctl("sounds", "--config", str(ROOT / "config" / "wallctl.yaml"), env=env)
    assert res.returncode == 0, res.stderr
    named = [line.split()[1] for line in res.stdout.splitlines() if line.startswith("playing ")]
    assert len(named) == 30 and "network_high" in named and "ring_back" in named
    voiced = [n for n in named if n.startswith("voice:")]
    assert len(voiced) == 10 and "voice:link_down" in voiced  # each of the 9 spoken templates, and the summary
    # said about a node of the configured map, by its name (the first named one: isp-a, "Carrier A")
    assert "playing voice:link_down          Critical. Link down. Carrier A." in res.stdout
    caps = cap.captures()
    assert len(caps) == 30  # every sound and every sentence reached the device
    assert [c.is_speech for c in caps] == [False] * 20 + [True] * 10


def test_sounds_check_reports_a_missing_speech_engine(tmp_path: Path) -> None:
    from tests.support.alsa import AlsaCapture

    sounds = tmp_path / "sounds"
    sounds.mkdir()
    for f in (ROOT / "sounds").iterdir():
        (sounds / f.name).symlink_to(f)
    (sounds / "soundmap.yaml").unlink()
    (sounds / "soundmap.yaml").write_text(
        (ROOT / "sounds" / "soundmap.yaml").read_text().replace("engine: espeak-ng", "engine: piper")
    )
    cfg = tmp_path / "wallctl.yaml"
    text = (ROOT / "config" / "wallctl.yaml").read_text().replace("../sounds/", f"{sounds}/")
    cfg.write_text(text.replace("../", f"{ROOT}/"))
    cap = AlsaCapture(tmp_path / "alsa")
    res = wallctl("sounds", "--check", "--config", str(cfg), env={**cap.env, "XDG_CACHE_HOME": str(tmp_path / "c")})
    assert res.returncode == 1
    assert "audio device: ok" in res.stdout
    assert "voice: FAILED: speech engine 'piper' is not installed" in res.stdout
