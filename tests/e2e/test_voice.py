"""Spoken announcements for real: the controller synthesises with espeak-ng and plays through simpleaudio into ALSA's
file plugin; the captured audio tells the tone from the speech (a tone's energy sits on its harmonics, speech is
spread over the speech band) and which sentence played (the captured samples are the cached clip's, bit for bit)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.support.alsa import AlsaCapture, Capture
from tests.support.mosquitto import Mosquitto
from tests.support.wall import Observer, WallProcess, write_config
from wallctl.adapters.speech import clip_path
from wallctl.core.sound.soundmap import load_soundmap
from wallctl.core.sound.voice import Utterance

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
NETWORK_HZ, SYSTEM_HZ = 523.25, 659.25


def voice_soundmap(directory: Path, engine: str = "espeak-ng") -> Path:
    """Critical network alarms: a 2.6 s high-priority burst at 523 Hz; major system alarms: a 2.6 s burst at 659 Hz
    of medium priority; both spoken, neither re-sounding within a test."""
    s = ROOT / "sounds"
    path = directory / "soundmap.yaml"
    path.write_text(f"""\
sounds:
  network_high: {{file: {s / "network_high.wav"}, priority: high}}
  system_burst: {{file: {s / "system_high.wav"}, priority: medium}}
map:
  - {{match: {{categories: [system]}}, sound: system_burst, repeat_s: 120}}
defaults:
  critical: {{sound: network_high, repeat_s: 120}}
voice:
  engine: {engine}
  language: en
  priorities: [high, medium]
  voices: {{en: en-us}}
  templates:
    default: {{en: "{{severity}}. {{what}}. {{where}}."}}
""")
    return path


def start(
    tmp_path: Path, broker: Mosquitto, wall_id: str, alsa: AlsaCapture, engine: str = "espeak-ng"
) -> tuple[WallProcess, Observer, Path]:
    cfg = write_config(tmp_path, wall_id=wall_id, port=broker.port)
    sounds = voice_soundmap(tmp_path, engine)
    cfg.write_text(cfg.read_text().replace(f"sounds: {ROOT / 'sounds' / 'soundmap.yaml'}", f"sounds: {sounds}"))
    cache = tmp_path / "cache"
    obs = Observer(broker.port, f"wallctl/{wall_id}")
    wall = WallProcess(cfg, env={**alsa.env, "XDG_CACHE_HOME": str(cache)}, command="controller").start()
    obs.wait(lambda o: o.state is not None and o.state["broker"] == "connected", 20, "controller online")
    return wall, obs, sounds


def wait_for(alsa: AlsaCapture, what: Callable[[list[Capture]], bool], timeout: float = 10) -> list[Capture]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        caps = alsa.captures()
        if what(caps):
            return caps
        time.sleep(0.05)
    return alsa.captures()


def clip_of(sounds: Path, cache: Path, text: str) -> np.ndarray:
    """The samples of the clip the controller synthesised for ``text`` (read from its cache)."""
    import wave

    spec = load_soundmap(sounds).spec.voice
    assert spec is not None
    path = clip_path(spec, Utterance(text, "en", None), cache / "wallctl" / "voice")
    assert path.exists(), f"no clip synthesised for {text!r}"
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def test_a_critical_alarm_gives_its_tone_then_speech(tmp_path: Path, mosquitto: Mosquitto, alsa: AlsaCapture) -> None:
    wall, obs, sounds = start(tmp_path, mosquitto, "voice1", alsa)
    try:
        assert obs.state["audible"]["voice"] == "ok"
        obs.event("network/dc1-fw-1", source="dc1-fw-1", type="link_down", severity="critical", category="network")
        caps = wait_for(alsa, lambda c: len(c) >= 2)
        assert len(caps) == 2, [c.duration for c in caps]
        tone, speech = caps
        assert abs(tone.fundamental() - NETWORK_HZ) < 8 and tone.pulses() == 10
        assert tone.off_harmonics_share(NETWORK_HZ) < 0.05  # a tone: its energy on its harmonics
        assert speech.off_harmonics_share(NETWORK_HZ) > 0.8  # speech: spread over the speech band
        assert speech.started >= tone.started + tone.duration - 0.15  # after the tone's pulses, never over them
        said = clip_of(sounds, tmp_path / "cache", "Critical. link down. DC1 firewall 1.")  # the map's name
        assert np.array_equal(speech.samples, said)
        time.sleep(1.0)
        assert len(alsa.captures()) == 2  # said once
    finally:
        wall.stop()
        obs.close()


def test_silence_mutes_both_tone_and_speech(tmp_path: Path, mosquitto: Mosquitto, alsa: AlsaCapture) -> None:
    wall, obs, _ = start(tmp_path, mosquitto, "voice2", alsa)
    try:
        obs.command(action="silence", seconds=30)
        obs.wait(lambda o: o.state["audible"]["silenced_until"] is not None, 5, "silenced")
        obs.event("network/br02", source="br02", type="link_down", severity="critical", category="network")
        obs.wait(lambda o: o.alarm("br02", "link_down") is not None, 5, "alarm listed")
        time.sleep(4.0)  # a tone and a sentence would both be over by now
        assert alsa.captures() == []
        obs.command(action="unsilence")  # the horn comes back; the sentence belonged to the muted tone
        caps = wait_for(alsa, lambda c: len(c) >= 1)
        assert abs(caps[0].fundamental() - NETWORK_HZ) < 8
    finally:
        wall.stop()
        obs.close()


def test_a_higher_priority_alarm_cuts_the_speech_short(tmp_path: Path, mosquitto: Mosquitto, alsa: AlsaCapture) -> None:
    wall, obs, sounds = start(tmp_path, mosquitto, "voice3", alsa)
    try:
        obs.event("system/dc1-app-01", source="dc1-app-01", type="disk_full", severity="major", category="system")
        first = wait_for(alsa, lambda c: len(c) >= 1)
        assert abs(first[0].fundamental() - SYSTEM_HZ) < 8  # the medium-priority tone, 2.6 s, its speech queued
        obs.event("network/dc1-fw-1", source="dc1-fw-1", type="link_down", severity="critical", category="network")
        caps = wait_for(alsa, lambda c: len(c) >= 3)
        time.sleep(1.0)
        caps = alsa.captures()
        assert abs(caps[1].fundamental() - NETWORK_HZ) < 8  # pre-empted at once
        assert caps[1].started - caps[0].started < 1.5
        assert len(caps) == 3 and caps[2].off_harmonics_share(NETWORK_HZ) > 0.8
        critical = clip_of(sounds, tmp_path / "cache", "Critical. link down. DC1 firewall 1.")
        assert np.array_equal(caps[2].samples, critical)  # the critical's sentence, not the major's
    finally:
        wall.stop()
        obs.close()


def test_a_missing_engine_shows_like_a_failing_device_and_the_tones_go_on(
    tmp_path: Path, mosquitto: Mosquitto, alsa: AlsaCapture
) -> None:
    wall, obs, _ = start(tmp_path, mosquitto, "voice4", alsa, engine="piper")  # no piper on this machine
    try:
        # checked at start, not at the first alarm: shown (and raised, as the wall's own alarm) at once
        obs.wait(lambda o: o.alarm("wallctl/voice4", "voice_failed") is not None, 10, "voice alarm listed")
        alarm = obs.alarm("wallctl/voice4", "voice_failed")
        assert alarm is not None and "not installed" in alarm["text"]
        obs.wait(lambda o: o.state["audible"]["voice"] == "failed", 5, "state says so")
        obs.command(action="ack", source="wallctl/voice4", type="voice_failed")
        obs.wait(lambda o: o.state["alarms"]["unacked"] == 0, 5, "acknowledged")
        time.sleep(0.5)
        before = len(alsa.captures())
        t0 = time.time()
        obs.event("network/br01", source="br01", type="link_down", severity="critical", category="network")
        caps = wait_for(alsa, lambda c: len(c) > before)[before:]
        assert abs(caps[0].fundamental() - NETWORK_HZ) < 8 and caps[0].pulses() == 10  # the tone, on time
        assert caps[0].started - t0 < 1.0
        assert obs.state["audible"]["device"] == "ok"  # the sound goes on
        time.sleep(3.5)  # the tone is over: no sentence follows it
        assert not any(c.is_speech for c in alsa.captures())
    finally:
        wall.stop()
        obs.close()
