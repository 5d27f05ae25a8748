"""The annunciator for real: the wall process plays through simpleaudio into ALSA's file plugin, and the captured
audio tells which sound played (fundamental, pulse count), when, and how often."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from tests.support.alsa import AlsaCapture, Capture, broken_alsa
from tests.support.mosquitto import Mosquitto
from tests.support.wall import Observer, WallProcess, write_config

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]

NETWORK_HZ, SYSTEM_HZ = 523.25, 659.25


def quick_soundmap(directory: Path, repeat_s: float = 2.0) -> Path:
    """The shipped sounds, re-sounding every ``repeat_s`` (the shipped map waits 15-60 s: too long for a test)."""
    s = ROOT / "sounds"
    path = directory / "soundmap.yaml"
    path.write_text(f"""\
sounds:
  network_high: {{file: {s / "network_high.wav"}, priority: high}}
  system_low: {{file: {s / "system_low.wav"}, priority: low}}
  ring_back: {{file: {s / "ring_back.wav"}, priority: cue}}
  feed_lost: {{file: {s / "feed_lost.wav"}, priority: high}}
specials: {{ring_back: ring_back}}
map:
  - {{match: {{types: [broker_link_down, feed_stale, audio_device_failed]}}, sound: feed_lost, repeat_s: 0}}
  - {{match: {{categories: [system]}}, sound: system_low, repeat_s: {repeat_s}}}
defaults:
  critical: {{sound: network_high, repeat_s: {repeat_s}}}
  major: {{sound: network_high, repeat_s: {repeat_s}}}
""")
    return path


def start(
    tmp_path: Path, broker: Mosquitto, wall_id: str, env: dict[str, str], command: str = "run"
) -> tuple[WallProcess, Observer]:
    cfg = write_config(tmp_path, wall_id=wall_id, port=broker.port)
    cfg.write_text(
        cfg.read_text().replace(f"sounds: {ROOT / 'sounds' / 'soundmap.yaml'}", f"sounds: {quick_soundmap(tmp_path)}")
    )
    obs = Observer(broker.port, f"wallctl/{wall_id}")
    wall = WallProcess(cfg, env=env, command=command).start()
    obs.wait(lambda o: o.state is not None and o.state["broker"] == "connected", 20, "wall online")
    return wall, obs


def kind(c: Capture) -> str:
    f = c.fundamental()
    if abs(f - NETWORK_HZ) < 8 and c.pulses() == 10:
        return "network_high"
    if abs(f - SYSTEM_HZ) < 8 and c.pulses() == 2:
        return "system_low"
    return f"other({f:.0f} Hz, {c.pulses()} pulses)"


def wait_captures(alsa: AlsaCapture, n: int, timeout: float = 10) -> list[Capture]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        caps = alsa.captures()
        if len(caps) >= n:
            return caps
        time.sleep(0.05)
    return alsa.captures()


@pytest.mark.parametrize("command", ["run", "controller"])
def test_preemption_repeat_silence_and_ack(
    tmp_path: Path, mosquitto: Mosquitto, alsa: AlsaCapture, command: str
) -> None:
    """The annunciator in the single-process wall and in the headless controller."""
    wall, obs = start(tmp_path, mosquitto, f"ann{command}", alsa.env, command)
    try:
        obs.event("system/dc1-app-01", source="dc1-app-01", type="cpu_high", severity="minor", category="system")
        caps = wait_captures(alsa, 1)
        assert [kind(c) for c in caps] == ["system_low"]
        time.sleep(0.3)
        obs.event("network/br05-rtr", source="br05-rtr", type="node_down", severity="critical", category="network")
        caps = wait_captures(alsa, 2)
        assert [kind(c) for c in caps[:2]] == ["system_low", "network_high"]  # the critical pre-empts at once
        assert caps[1].started - caps[0].started < 1.0
        caps = wait_captures(alsa, 4, timeout=6)  # re-sounds at its 2 s interval, and only the critical
        starts = [c.started for c in caps if kind(c) == "network_high"]
        assert len(starts) >= 3 and all(1.6 < b - a < 2.6 for a, b in itertools.pairwise(starts)), starts
        assert all(kind(c) == "network_high" for c in caps[1:])
        obs.command(action="silence", seconds=3)
        obs.wait(lambda o: o.state["audible"]["silenced_until"] is not None, 5, "silenced")
        t_silence = time.time()
        time.sleep(2.5)
        assert [c for c in alsa.captures() if c.started > t_silence + 0.2] == []  # quiet while silenced
        time.sleep(1.5)
        resumed = [c for c in wait_captures(alsa, len(alsa.captures()) + 1) if c.started > t_silence + 2.8]
        assert resumed and kind(resumed[0]) == "network_high"  # silence is not acknowledge
        obs.command(action="ack", source="br05-rtr", type="node_down")
        obs.command(action="ack", source="dc1-app-01", type="cpu_high")
        obs.wait(lambda o: o.state["alarms"]["unacked"] == 0, 5, "all acknowledged")
        t_ack = time.time()
        time.sleep(3.0)
        assert [c for c in alsa.captures() if c.started > t_ack + 0.3] == []  # acknowledged: quiet
        assert obs.state["audible"]["sound"] is None
    finally:
        wall.stop()
        obs.close()


def test_a_missing_audio_device_is_shown_and_the_wall_keeps_running(tmp_path: Path, mosquitto: Mosquitto) -> None:
    wall, obs = start(tmp_path, mosquitto, "noaudio", broken_alsa(tmp_path))
    try:
        obs.event("network/br05-rtr", source="br05-rtr", type="node_down", severity="critical", category="network")
        obs.wait(lambda o: o.alarm("wallctl/noaudio", "audio_device_failed") is not None, 10, "audio alarm listed")
        alarm = obs.alarm("wallctl/noaudio", "audio_device_failed")
        assert alarm is not None and alarm["severity"] == "major" and "Alarm sound is not working" in alarm["text"]
        assert obs.state["mode"] == "incident"  # still switching, still publishing
        assert wall.alive
        assert obs.state["audible"] == {
            "sound": None,
            "silenced_until": None,
            "device": "failed",
            "self_test": None,
            "self_test_text": "",
            "voice": "off",  # this sound map has no voice (tests/e2e/test_voice.py)
        }
        obs.wait(lambda o: o.state["alarms"]["unacked"] >= 2, 5, "more alarms")
        obs.event("system/srv9", source="srv9", type="disk_full", severity="critical", category="system")
        obs.wait(lambda o: o.alarm("srv9", "disk_full") is not None, 10, "another critical")
        log = wall.output()
        assert log.count("audio device error") == 1  # logged once, with what to do; repeats are counted
        assert "aplay -l" in log and "ALSA lib" not in log
    finally:
        assert wall.stop() == 0
        obs.close()
