"""Spoken announcements: event -> first tone sample and event -> first speech sample, and the tone's latency with
the voice on next to the same wall with the voice off, measured in the same run (the voice must never delay the
tone). Audio goes into ALSA's null device; the wall reports each sound's first sample (WALLCTL_BENCH)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from wallctl.bench.audio import null_alsa
from wallctl.bench.modes import fast_layouts
from wallctl.bench.mosquitto import Mosquitto
from wallctl.bench.result import Result, percentile
from wallctl.bench.wall import BenchWall
from wallctl.core.config.settings import config_path, load_config


def _voice_off_config() -> str:
    """The shipped config and sound map with ``voice.engine: off`` (the sounds linked, not copied)."""
    src = load_config(config_path(None))
    sounds = src.resolve(src.model.sounds)
    d = Path(tempfile.mkdtemp(prefix="wallctl-bench-novoice-"))
    for f in sounds.parent.iterdir():
        if f.suffix == ".wav":
            (d / f.name).symlink_to(f)
    (d / sounds.name).write_text(sounds.read_text().replace("engine: espeak-ng", "engine: off"))
    cfg = d / "wallctl.yaml"
    lines = []
    for line in src.path.read_text().splitlines():
        key = line.split(":", 1)[0]
        if key in ("layouts", "topology", "profiles"):
            lines.append(f"{key}: {src.resolve(line.split(':', 1)[1].strip())}")
        elif key == "sounds":
            lines.append(f"sounds: {d / sounds.name}")
        else:
            lines.append(line)
    cfg.write_text("\n".join(lines) + "\n")
    return str(cfg)


def _run(wall: BenchWall, n: int, tag: str, speech: bool) -> tuple[list[float], list[float]]:
    tone, said = [], []
    for i in range(n):
        t0 = time.time()
        body = {"source": f"{tag}-{i}", "type": "node_down", "severity": "critical", "category": "network"}
        wall.publish(f"noc/events/network/{tag}-{i}", body)
        try:
            tone.append(wall.wait_sounded_as("voice:", t0, 5.0, exclude=True) - t0)
            if speech:
                said.append(wall.wait_sounded_as("voice:", t0, 10.0) - t0)
        except TimeoutError:  # counted as a timeout-long sample: the figure shows it, the suite goes on
            (said if speech and len(tone) > len(said) else tone).append(10.0)
        wall.command("ack_all")  # quiet again
        time.sleep(0.3)
    return tone, said


def bench_voice(broker: Mosquitto, *, quick: bool) -> list[Result]:
    n = 8 if quick else 40
    env = {"WALLCTL_BENCH": "1", "ALSA_CONFIG_PATH": null_alsa(), "XDG_CACHE_HOME": tempfile.mkdtemp()}
    off_config = _voice_off_config()
    tone_on: list[float] = []
    tone_off: list[float] = []
    said: list[float] = []
    # one wall at a time (both would take every event), alternating, so both see the same machine
    for rnd in range(1 if quick else 2):
        for voice in (True, False):
            wall = BenchWall(
                broker.port,
                config=None if voice else off_config,
                layouts=fast_layouts(),
                env=env,
                audio=True,
                wall_id=f"voice{'on' if voice else 'off'}{rnd}",
            )
            try:
                wall.start()
                t, s = _run(wall, n // (1 if quick else 2), f"v{int(voice)}{rnd}", voice)
            finally:
                wall.stop()
            (tone_on if voice else tone_off).extend(t)
            said += s
    ms = [x * 1000 for x in tone_on], [x * 1000 for x in tone_off], [x * 1000 for x in said]
    p99 = percentile(ms[0], 0.99), percentile(ms[1], 0.99)
    p50 = percentile(ms[0], 0.5), percentile(ms[1], 0.5)
    off = "the same wall with the voice off"
    return [
        Result(
            "voice: event -> first tone sample p99, voice on",
            p99[0],
            "ms",
            p99[1],
            off,
            "voice off + 20 ms",
            max_goal=p99[1] + 20,
        ),
        Result("voice: event -> first tone sample p50, voice on", p50[0], "ms", p50[1], off, "for information"),
        Result(
            "voice: event -> first speech sample p99 (follows the 2.56 s critical tone)",
            percentile(ms[2], 0.99),
            "ms",
            p99[0],
            "event -> first tone sample p99, same wall",
            "for information",
        ),
        Result(
            "voice: event -> first speech sample p50",
            percentile(ms[2], 0.5),
            "ms",
            p50[0],
            "event -> first tone sample p50, same wall",
            "for information",
        ),
    ]
