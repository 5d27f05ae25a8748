"""Audio output through simpleaudio (ALSA): the real :class:`~wallctl.core.annunciator.AudioSink`.

One channel: ``play`` stops what is playing and starts the new sound. A device error never propagates: it is
reported (the wall shows it in red and raises an alarm), and playback is retried after ``retry_s``.
"""

from __future__ import annotations

import logging
import os
import threading
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
    """One channel on ALSA's default device, driven from a device thread with a deadline.

    ``play`` and ``stop`` only hand the request over (the latest wins: one channel), so the main loop never waits
    for ALSA: an output that blocks (a pipe nobody reads, a hung USB speaker) once froze the whole wall for 20 s.
    A device call that outlasts ``open_timeout_s`` fails the device (reported once, retried after ``retry_s`` on
    a fresh thread, at most ``MAX_STUCK`` threads left behind); errors are logged once with a repeat count.
    """

    MAX_STUCK = 3

    def __init__(
        self,
        *,
        retry_s: float = 10.0,
        open_timeout_s: float = 0.5,
        on_error: Callable[[str], None] | None = None,
        on_recovered: Callable[[], None] | None = None,
        enabled: bool = True,
    ) -> None:
        self.retry_s = retry_s
        self.open_timeout_s = open_timeout_s
        self.on_error = on_error
        self.on_recovered = on_recovered
        self.enabled = enabled
        self._clips: dict[tuple[Path, float], tuple[bytes, Clip]] = {}
        self._playing: Any = None
        self.failed_at: float | None = None
        self.last_error: str | None = None
        self.repeats = 0  # failures since the last one logged
        self.played: list[tuple[float, str]] = []  # (monotonic time handed to the device, sound name)
        self.on_played: Callable[[str, float], None] | None = None  # benchmarks: (sound, epoch time handed over)
        self._lock = threading.Lock()
        self._worker: _DeviceThread | None = None
        self._stuck = 0

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

    # ---------------------------------------------------------------- main thread
    def play(self, sound: Sound, volume: float) -> None:
        if not self.enabled:
            return
        if self.failed_at is not None and time.monotonic() - self.failed_at < self.retry_s:
            return  # still failing: retried after retry_s, the warning stays on the wall meanwhile
        try:
            data, clip = self._buffer(sound.path, volume)
        except (OSError, wave.Error, EOFError, AudioDeviceError) as exc:
            self._fail(f"{sound.path.name} is not a playable WAV file: {exc}")
            return
        self._submit(("play", sound.name, data, clip))

    def stop(self) -> None:
        if self._worker is not None:
            self._submit(("stop", "", b"", None))

    def is_playing(self) -> bool:
        w = self._worker
        if w is not None and w.busy():
            return True
        return self._playing is not None and bool(self._playing.is_playing())

    def wait_idle(self, timeout: float) -> bool:
        """Until the device thread has handed over what it was given (tools and tests); False on timeout."""
        w = self._worker
        return w is None or w.wait_idle(timeout)

    def close(self, timeout: float = 0.5) -> None:
        self.stop()
        self.wait_idle(timeout)
        w, self._worker = self._worker, None
        if w is not None:
            w.quit()

    def _submit(self, request: _Request) -> None:
        w = self._worker
        if w is not None and w.stuck_for() > self.open_timeout_s:
            if self._stuck >= self.MAX_STUCK:
                return  # the device has swallowed enough threads: stays failed (shown) until the wall restarts
            self._stuck += 1
            w.abandon()
            w = None
        if w is None:
            quiet_alsa_messages()
            w = self._worker = _DeviceThread(self)
        w.submit(request)

    # ---------------------------------------------------------------- device thread
    def _run(self, request: _Request) -> None:
        kind, name, data, clip = request
        try:
            import simpleaudio

            p, self._playing = self._playing, None
            if p is not None:
                p.stop()
            if kind == "play":
                assert clip is not None
                self._playing = simpleaudio.play_buffer(data, clip.channels, clip.width, clip.rate)
                self.played.append((time.monotonic(), name))
                if self.on_played is not None:
                    self.on_played(name, time.time())
                del self.played[:-1000]
        except _device_errors() as exc:
            self._fail(f"audio device error playing {name!r}: {exc}" if name else f"audio device error: {exc}")
            return
        if kind == "play":
            self._recovered()

    def _timed_out(self, name: str) -> None:
        self._fail(
            f"audio device did not answer within {self.open_timeout_s:g} s playing {name!r}: it may be blocked or "
            f"held by another program; retried every {self.retry_s:g} s"
        )

    def _recovered(self) -> None:
        with self._lock:
            if self.failed_at is None:
                return
            self.failed_at, self.last_error, self.repeats = None, None, 0
        log.warning("audio device recovered")
        if self.on_recovered:
            self.on_recovered()

    def _fail(self, message: str) -> None:
        with self._lock:
            first = self.failed_at is None
            self.failed_at = time.monotonic()
            self.last_error = message
            self.repeats = 0 if first else self.repeats + 1
        if first:
            log.error("%s%s", message, _hint())
            if self.on_error:
                self.on_error(message)
        elif self.repeats in (1, 10, 100) or self.repeats % 1000 == 0:
            log.error("audio device still failing (%d more times): %s", self.repeats, message)


_Request = tuple[str, str, bytes, "Clip | None"]


class _DeviceThread:
    """One daemon thread that talks to ALSA; a watchdog timer fails the device when a call overruns."""

    def __init__(self, sink: SimpleAudioSink) -> None:
        self.sink = sink
        self._cv = threading.Condition()
        self._request: _Request | None = None
        self._busy_since: float | None = None
        self._alive = True
        self._thread = threading.Thread(target=self._loop, name="wallctl-audio", daemon=True)
        self._thread.start()

    def submit(self, request: _Request) -> None:
        with self._cv:
            self._request = request  # one channel: a newer request replaces one not yet started
            self._cv.notify_all()

    def busy(self) -> bool:
        with self._cv:
            return self._request is not None or self._busy_since is not None

    def stuck_for(self) -> float:
        since = self._busy_since
        return 0.0 if since is None else time.monotonic() - since

    def wait_idle(self, timeout: float) -> bool:
        with self._cv:
            return self._cv.wait_for(lambda: self._request is None and self._busy_since is None, timeout)

    def abandon(self) -> None:
        """Left to its blocked call; it exits if that ever returns."""
        with self._cv:
            self._alive = False
            self._request = None
            self._cv.notify_all()

    quit = abandon

    def _loop(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._request is not None or not self._alive)
                if not self._alive:
                    return
                request, self._request = self._request, None
                self._busy_since = time.monotonic()
            assert request is not None
            watchdog = threading.Timer(self.sink.open_timeout_s, self.sink._timed_out, (request[1] or "stop",))
            watchdog.daemon = True
            watchdog.start()
            try:
                self.sink._run(request)
            finally:
                watchdog.cancel()
                with self._cv:
                    self._busy_since = None
                    self._cv.notify_all()


_ALSA_QUIET: list[Any] = []


def quiet_alsa_messages() -> None:
    """Route libasound's own stderr lines ("ALSA lib pcm.c:...", nine per failed open) to nothing: the sink says
    what failed once, with a repeat count and what to do, instead of a screenful on every retry."""
    if _ALSA_QUIET:
        return
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("asound")
    if name is None:
        return
    handler_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)
    handler = handler_type(lambda *_: None)
    try:
        ctypes.cdll.LoadLibrary(name).snd_lib_error_set_handler(handler)
    except (OSError, AttributeError) as exc:
        log.debug("cannot quieten ALSA's messages: %s", exc)
        return
    _ALSA_QUIET.append(handler)  # kept alive: C holds the pointer


def _hint() -> str:
    card = os.environ.get("ALSA_CARD")
    return (
        f" (ALSA default device{f' on card {card!r}' if card else ''}; list devices with 'aplay -l' and choose one "
        "with audio.card in the config; 'wallctl sounds --check' tests it)"
    )


class NullSink:
    """For ``--no-audio`` and tools: remembers what it was asked to play."""

    def __init__(self) -> None:
        self.played: list[tuple[float, str]] = []

    def play(self, sound: Sound, volume: float) -> None:
        self.played.append((time.monotonic(), sound.name))

    def stop(self) -> None:
        pass


def probe_device(timeout_s: float = 2.0) -> str | None:
    """Open the default ALSA device with a few ms of silence; the error with what to do, or None when it works."""
    result: list[str | None] = []

    def probe() -> None:
        try:
            import simpleaudio

            simpleaudio.play_buffer(b"\x00\x00" * 441, 1, 2, 44100).wait_done()
        except _device_errors() as exc:
            result.append(str(exc))
            return
        result.append(None)

    t = threading.Thread(target=probe, name="wallctl-audio-probe", daemon=True)
    t.start()
    t.join(timeout_s)
    if not result:
        return f"the device did not answer within {timeout_s:g} s (blocked or held by another program){_hint()}"
    error = result[0]
    return None if error is None else f"{error}{_hint()}"
