"""Generate wallctl's alarm sounds (IEC 60601-1-8 style) into a folder: ``python tools/make_sounds.py sounds``.

Priority is told by the pulse pattern: high = a 10-pulse burst (3 + 2, pause, 3 + 2), medium = 3 pulses,
low = 2 pulses, advisory = 1 pulse. The class is told by the fundamental (network 523 Hz, system 659 Hz,
environment/power 392 Hz, security 880 Hz), each with 4 harmonics so it is heard over room noise and told apart.
Specials: a ring-back chime, a flood sweep, a feed-lost descending figure and a self-test scale.
Deterministic: the same script writes byte-identical files.
"""

from __future__ import annotations

import sys
import wave
from pathlib import Path

import numpy as np

RATE = 22050
HARMONICS = (1.0, 0.5, 0.35, 0.25, 0.2)
CLASSES = {"network": 523.25, "system": 659.25, "environment": 392.0, "security": 880.0}
# (pulse length s, gap s) and the pulse pattern: 1 = pulse, 0 = a gap slot of the same length
PATTERNS = {
    "high": (0.12, 0.06, [1, 1, 1, 0, 1, 1, "pause", 1, 1, 1, 0, 1, 1]),
    "medium": (0.2, 0.12, [1, 1, 1]),
    "low": (0.22, 0.16, [1, 1]),
    "advisory": (0.25, 0.0, [1]),
}


def tone(freq: float, seconds: float, *, harmonics: tuple[float, ...] = HARMONICS, ramp: float = 0.15) -> np.ndarray:
    n = int(RATE * seconds)
    t = np.arange(n) / RATE
    wave_ = sum(a * np.sin(2 * np.pi * freq * (k + 1) * t) for k, a in enumerate(harmonics))
    wave_ = wave_ / sum(harmonics)
    r = max(1, int(n * ramp))  # IEC: rise and fall 10-20 % of the pulse
    env = np.ones(n)
    env[:r] = np.linspace(0, 1, r)
    env[-r:] = np.linspace(1, 0, r)
    return wave_ * env


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(RATE * seconds))


def pattern(freq: float, priority: str) -> np.ndarray:
    pulse, gap, slots = PATTERNS[priority]
    parts: list[np.ndarray] = []
    for s in slots:
        if s == "pause":
            parts.append(silence(0.35))
        elif s == 1:
            parts += [tone(freq, pulse), silence(gap)]
        else:
            parts.append(silence(pulse + gap))
    return np.concatenate([*parts, silence(0.05)])


def specials() -> dict[str, np.ndarray]:
    return {
        "ring_back": np.concatenate([tone(784.0, 0.18, harmonics=(1.0, 0.3)), silence(0.04),
                                     tone(523.25, 0.3, harmonics=(1.0, 0.3)), silence(0.05)]) * 0.6,
        "flood": np.concatenate([np.concatenate([tone(f, 0.09), silence(0.03)]) for f in (700, 1000) * 4]),
        "feed_lost": np.concatenate([np.concatenate([tone(f, 0.22), silence(0.08)]) for f in (987.77, 783.99, 587.33)]),
        "audio_test": np.concatenate([np.concatenate([tone(f, 0.15), silence(0.03)])
                                      for f in (261.63, 329.63, 392.0, 523.25, 659.25, 783.99, 987.77)]),
    }  # fmt: skip


def write(path: Path, samples: np.ndarray, level: float = 0.7) -> None:
    pcm = np.clip(samples * level * 32767, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "sounds")
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for cls, freq in CLASSES.items():
        for priority in PATTERNS:
            write(out / f"{cls}_{priority}.wav", pattern(freq, priority))
            count += 1
    for name, samples in specials().items():
        write(out / f"{name}.wav", samples)
        count += 1
    print(f"wrote {count} sounds to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
