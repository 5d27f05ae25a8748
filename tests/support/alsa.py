"""Real audio without a sound card: ALSA's file plugin pipes every playback into a file of its own, named by the
time it started, so tests can tell which sound played, when, and how often."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Capture:
    started: float
    rate: int
    channels: int
    samples: np.ndarray

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate

    def fundamental(self) -> float:
        """Strongest frequency (Hz): our sounds put most energy in the fundamental."""
        x = self.samples.astype(float)
        if len(x) == 0:
            return 0.0
        spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
        freqs = np.fft.rfftfreq(len(x), 1 / self.rate)
        spec[freqs < 60] = 0
        return float(freqs[int(np.argmax(spec))])

    def pulses(self, threshold: float = 0.25, min_gap_s: float = 0.02) -> int:
        """Number of tone bursts, from the envelope."""
        x = np.abs(self.samples.astype(float))
        if len(x) == 0 or x.max() == 0:
            return 0
        win = max(1, int(self.rate * 0.005))
        env = np.convolve(x, np.ones(win) / win, mode="same")
        on = env > threshold * env.max()
        count, last_off, prev = 0, -(10**9), False
        for i, v in enumerate(on):
            if v and not prev and (i - last_off) > min_gap_s * self.rate:
                count += 1
            if prev and not v:
                last_off = i
            prev = bool(v)
        return count

    def _band(self) -> tuple[np.ndarray, np.ndarray]:
        """Frequencies and power of the 150-4000 Hz band (where speech and the alarm tones lie)."""
        x = self.samples.astype(float)
        spec = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
        freqs = np.fft.rfftfreq(len(x), 1 / self.rate)
        band = (freqs >= 150) & (freqs <= 4000)
        return freqs[band], spec[band]

    def off_harmonics_share(self, tone_hz: float, width_hz: float = 25.0) -> float:
        """Share of the 150-4000 Hz energy away from the harmonics of ``tone_hz``: near 0 for an alarm tone (its
        energy sits on its harmonics), near 1 for speech (spread over the speech band; 0.93 seen for espeak-ng)."""
        if len(self.samples) == 0:
            return 0.0
        freqs, power = self._band()
        off = np.abs(freqs - np.round(freqs / tone_hz) * tone_hz) > width_hz
        total = power.sum()
        return float(power[off].sum() / total) if total > 0 else 0.0

    def band_spread(self) -> float:
        """Share of the 25 Hz bands of 150-4000 Hz that hold 80 % of its energy: the shipped tones, warbles and
        chimes 0.01-0.05, espeak-ng's sentences 0.10-0.21 (lowest: one full of sibilants, "Security. security.")."""
        if len(self.samples) == 0:
            return 0.0
        freqs, power = self._band()
        buckets = np.bincount(np.digitize(freqs, np.arange(150, 4001, 25)), weights=power)
        ranked = np.sort(buckets)[::-1]
        if ranked.sum() <= 0:
            return 0.0
        needed = int(np.searchsorted(np.cumsum(ranked), 0.8 * ranked.sum())) + 1
        return needed / len(buckets)

    @property
    def is_speech(self) -> bool:
        return self.band_spread() > 0.075


class AlsaCapture:
    def __init__(self, directory: Path | None = None) -> None:
        self.dir = directory or Path(tempfile.mkdtemp(prefix="wallctl-alsa-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        script = self.dir / "capture.sh"
        # Written under a temporary name and renamed when the playback closes its device, so a test never reads a
        # capture that is still being written (it would see a sound cut short).
        script.write_text(
            f'#!/bin/sh\nf="{self.dir}/play-$(date +%s.%N)-r$1-c$2.raw"\ncat > "$f.part"\nmv "$f.part" "$f"\n'
        )
        script.chmod(0o755)
        self.conf = self.dir / "asound.conf"
        self.conf.write_text(
            f'pcm.!default {{\n  type file\n  slave.pcm {{ type null }}\n  file "|{script} %r %c"\n  format "raw"\n}}\n'
        )

    @property
    def env(self) -> dict[str, str]:
        return {"ALSA_CONFIG_PATH": str(self.conf)}

    def captures(self) -> list[Capture]:
        out = []
        for p in sorted(self.dir.glob("play-*.raw")):
            m = re.match(r"play-(\d+\.\d+)-r(\d+)-c(\d+)\.raw", p.name)
            if not m:
                continue
            data = np.frombuffer(p.read_bytes(), dtype="<i2")
            ch = int(m.group(3))
            if ch > 1:
                data = data.reshape(-1, ch)[:, 0]
            out.append(Capture(float(m.group(1)), int(m.group(2)), ch, data))
        return [c for c in out if len(c.samples) > 2000]  # device probes are a few ms of silence

    def tones(self) -> list[Capture]:
        """The captures that are not speech (the shipped sound map speaks high-priority alarms after the tone)."""
        return [c for c in self.captures() if not c.is_speech]

    def speech(self) -> list[Capture]:
        return [c for c in self.captures() if c.is_speech]

    def clear(self) -> None:
        for p in self.dir.glob("play-*.raw"):
            os.unlink(p)


def broken_alsa(directory: Path) -> dict[str, str]:
    """An ALSA configuration with no usable default device (like a wall PC whose sound card died)."""
    conf = directory / "broken-asound.conf"
    conf.write_text("pcm.!default {\n  type hw\n  card 7\n}\n")
    return {"ALSA_CONFIG_PATH": str(conf)}
