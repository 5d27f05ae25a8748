"""Audio output through simpleaudio (ALSA): the real :class:`~wallctl.core.annunciator.AudioSink`.

One channel: ``play`` stops what is playing and starts the new sound. A device error never propagates: it is
reported (the wall shows it in red and raises an alarm), and playback is retried after ``retry_s``.
"""

from __future__ import annotations

import logging
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from wallctl.core.soundmap import Sound

log = logging.getLogger("wallctl.audio")


class AudioDeviceError(RuntimeError):
    pass


def _device_errors() -> tuple[type[BaseException], ...]:
    """What a failing ALSA device raises through simpleaudio (its C extension's own error type)."""
    from simpleaudio._simpleaudio import SimpleaudioError

    return (SimpleaudioError, OSError, AudioDeviceError)


class Clip:
    def __init__(self, path: Path) -> None:
        with wave.open(str(path), "rb") as w:
            self.channels = w.getnchannels()
            self.rate = w.getframerate()
            self.width = w.getsampwidth()
            frames = w.readframes(w.getnframes())
        if self.width != 2:
            raise AudioDeviceError(f"{path.name}: {8 * self.width}-bit samples; expected 16-bit PCM")
        self.samples = np.frombuffer(frames, dtype="<i2")
        self.duration = len(self.samples) / self.channels / self.rate

    def scaled(self, volume: float) -> bytes:
        if volume >= 0.999:
            return self.samples.tobytes()
        return (self.samples.astype(np.float32) * volume).astype("<i2").tobytes()


class SimpleAudioSink:
    def __init__(
        self,
        *,
        retry_s: float = 10.0,
        on_error: Callable[[str], None] | None = None,
        on_recovered: Callable[[], None] | None = None,
        enabled: bool = True,
    ) -> None:
        self.retry_s = retry_s
        self.on_error = on_error
        self.on_recovered = on_recovered
        self.enabled = enabled
        self._clips: dict[tuple[Path, float], tuple[bytes, Clip]] = {}
        self._playing: Any = None
        self.failed_at: float | None = None
        self.last_error: str | None = None
        self.played: list[tuple[float, str]] = []  # (monotonic time handed to the device, sound name)
        self.on_played: Callable[[str, float], None] | None = None  # benchmarks: (sound, epoch time handed over)

    def preload(self, sounds: list[Sound]) -> list[str]:
        problems = []
        for s in sounds:
            try:
                self._buffer(s.path, 1.0)
            except (OSError, wave.Error, EOFError, AudioDeviceError) as exc:
                problems.append(f"{s.name}: {exc}")
        return problems

    def _buffer(self, path: Path, volume: float) -> tuple[bytes, Clip]:
        key = (path, round(volume, 2))
        hit = self._clips.get(key)
        if hit is None:
            clip = Clip(path)
            hit = (clip.scaled(volume), clip)
            self._clips[key] = hit
        return hit

    def play(self, sound: Sound, volume: float) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.failed_at is not None and now - self.failed_at < self.retry_s:
            return  # still failing: retried after retry_s, the warning stays on the wall meanwhile
        try:
            import simpleaudio

            try:
                data, clip = self._buffer(sound.path, volume)
            except (wave.Error, EOFError) as exc:
                raise AudioDeviceError(f"{sound.path.name} is not a playable WAV file: {exc}") from None
            self.stop()
            self._playing = simpleaudio.play_buffer(data, clip.channels, clip.width, clip.rate)
            self.played.append((time.monotonic(), sound.name))
            if self.on_played is not None:
                self.on_played(sound.name, time.time())
            del self.played[:-1000]
        except _device_errors() as exc:
            self._fail(f"audio device error playing {sound.name!r}: {exc}")
            return
        if self.failed_at is not None:
            self.failed_at, self.last_error = None, None
            log.warning("audio device recovered")
            if self.on_recovered:
                self.on_recovered()

    def stop(self) -> None:
        p, self._playing = self._playing, None
        if p is not None:
            try:
                p.stop()
            except _device_errors() as exc:  # a dead device may fail to stop; nothing else to do
                log.debug("stop failed: %s", exc)

    def is_playing(self) -> bool:
        return self._playing is not None and bool(self._playing.is_playing())

    def _fail(self, message: str) -> None:
        first = self.failed_at is None
        self.failed_at = time.monotonic()
        self.last_error = message
        log.error("%s", message)
        if first and self.on_error:
            self.on_error(message)


class NullSink:
    """For ``--no-audio`` and tools: remembers what it was asked to play."""

    def __init__(self) -> None:
        self.played: list[tuple[float, str]] = []

    def play(self, sound: Sound, volume: float) -> None:
        self.played.append((time.monotonic(), sound.name))

    def stop(self) -> None:
        pass


def probe_device() -> str | None:
    """Open the default ALSA device with a few ms of silence; returns the error, or None when it works."""
    try:
        import simpleaudio

        simpleaudio.play_buffer(b"\x00\x00" * 441, 1, 2, 44100).wait_done()
    except _device_errors() as exc:
        return str(exc)
    return None
