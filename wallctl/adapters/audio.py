"""Audio output through simpleaudio (ALSA): the real :class:`~wallctl.core.sound.annunciator.AudioSink`.

One channel: ``play`` stops what is playing and starts the new sound. A device error never propagates: it is
reported (the wall shows it in red and raises an alarm), and playback is retried after ``retry_s``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from wallctl.core.config.settings import AudioConfig
from wallctl.core.sound.annunciator import AudioSink, NullSink
from wallctl.core.sound.soundmap import Sound

log = logging.getLogger("wallctl.audio")


class AudioDeviceError(RuntimeError):
    pass


def device_errors() -> tuple[type[BaseException], ...]:
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
    """One channel on ALSA's default device, played by a worker process with a deadline.

    ``play`` and ``stop`` write one line to the worker and return: the main loop never waits for ALSA. simpleaudio
    holds the GIL while ALSA opens the device, so a thread was not enough: an output that blocks (a pipe nobody
    reads, a hung USB speaker) froze the whole wall for 20 s. A request not answered within ``open_timeout_s``
    fails the device (reported once, with a repeat count after that) and the worker is killed; the next sound
    after ``retry_s`` starts a fresh one.
    """

    STARTUP_S = 10.0  # a fresh worker imports numpy and simpleaudio before it answers

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
        self.failed_at: float | None = None
        self.last_error: str | None = None
        self.repeats = 0  # failures since the last one logged
        self.played: list[tuple[float, str]] = []  # (monotonic time handed to the device, sound name)
        self.on_played: Callable[[str, float], None] | None = None  # benchmarks: (sound, epoch time handed over)
        self._cv = threading.Condition()
        self._worker: _Worker | None = None
        self._seq = 0
        self._waiting: dict[int, tuple[str, float]] = {}  # seq -> (sound name, clip duration)
        self._playing_until = 0.0
        if enabled:
            self._start_worker()  # now, so the first alarm does not wait for its imports

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
        if not self._ready():
            return
        try:
            _, clip = self._buffer(sound.path, 1.0)  # checked here: a bad file is a config problem, not the device
        except (OSError, wave.Error, EOFError, AudioDeviceError) as exc:
            self._fail(f"{sound.path.name} is not a playable WAV file: {exc}")
            return
        self._request(
            {"op": "play", "path": str(sound.path), "volume": volume, "name": sound.name}, sound.name, clip.duration
        )

    def follow(self, sound: Sound, volume: float) -> None:
        """Play ``sound`` once what plays now has ended (speech after its tone); ``play`` and ``stop`` drop it."""
        if not self._ready():
            return
        self._request({"op": "follow", "path": str(sound.path), "volume": volume, "name": sound.name}, sound.name, 0.0)

    def _ready(self) -> bool:
        """Enabled, and not resting after a failure (retried after retry_s; the warning stays on the wall)."""
        return self.enabled and (self.failed_at is None or time.monotonic() - self.failed_at >= self.retry_s)

    def stop(self) -> None:
        self._playing_until = 0.0
        if self._worker is not None and self._worker.alive():
            self._request({"op": "stop"}, "", 0.0)

    def is_playing(self) -> bool:
        with self._cv:
            return bool(self._waiting) or time.time() < self._playing_until

    def wait_idle(self, timeout: float) -> bool:
        """Until the worker has answered everything it was given (tools and tests); False on timeout."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._waiting, timeout)

    def close(self, timeout: float = 0.5) -> None:
        w, self._worker = self._worker, None
        if w is not None:
            w.quit(timeout)

    def _request(self, body: dict[str, Any], name: str, duration: float) -> None:
        w = self._worker
        if w is None or not w.alive():
            w = self._start_worker()
        with self._cv:
            self._seq += 1
            seq = self._seq
            self._waiting[seq] = (name, duration)
        if not w.send({**body, "seq": seq}):
            self._give_up(w, seq, f"the audio worker does not take requests (playing {name!r})")
            return
        self._check_later(self.open_timeout_s, w, seq, name, time.monotonic())

    def _check_later(self, delay: float, w: _Worker, seq: int, name: str, sent: float) -> None:
        timer = threading.Timer(delay, self._check_answered, (w, seq, name, sent))
        timer.daemon = True
        timer.start()

    def _start_worker(self) -> _Worker:
        self._worker = _Worker(self._answer)
        return self._worker

    # ---------------------------------------------------------------- worker replies and deadlines (other threads)
    def _answer(self, reply: dict[str, Any]) -> None:
        if "started" in reply or "failed" in reply:  # a queued clip (``follow``) started, or could not
            self._started(reply)
            return
        seq = reply.get("seq")
        with self._cv:
            entry = self._waiting.pop(seq, None) if isinstance(seq, int) else None
            self._cv.notify_all()
        if entry is None:
            return
        name, duration = entry
        if "error" in reply:
            self._fail(f"audio device error playing {name!r}: {reply['error']}" if name else str(reply["error"]))
            return
        if reply.get("queued"):
            self._recovered()
            return
        if name:
            at = float(reply.get("at", time.time()))
            self._playing_until = at + duration
            self.played.append((time.monotonic(), name))
            del self.played[:-1000]
            if self.on_played is not None:
                self.on_played(name, at)
            self._recovered()

    def _started(self, reply: dict[str, Any]) -> None:
        if "failed" in reply:
            self._fail(f"audio device error playing {reply['failed']!r}: {reply.get('error')}")
            return
        name, at = str(reply["started"]), float(reply.get("at", time.time()))
        self._playing_until = max(self._playing_until, at + float(reply.get("duration", 0.0)))
        self.played.append((time.monotonic(), name))
        del self.played[:-1000]
        if self.on_played is not None:
            self.on_played(name, at)

    def _check_answered(self, worker: _Worker, seq: int, name: str, sent: float) -> None:
        """The device has ``open_timeout_s`` from the later of the request and the worker being ready: a fresh
        worker first imports numpy and simpleaudio (up to STARTUP_S on a loaded machine), which says nothing about
        the device."""
        with self._cv:
            late = seq in self._waiting
        now = time.monotonic()
        if late and not worker.ready.is_set() and now - sent < self.STARTUP_S + self.open_timeout_s:
            self._check_later(0.1, worker, seq, name, sent)
            return
        if late and worker.ready.is_set() and worker.ready_at + self.open_timeout_s > now:
            self._check_later(worker.ready_at + self.open_timeout_s - now, worker, seq, name, sent)
            return
        if late:
            self._give_up(
                worker,
                seq,
                f"audio device did not answer within {self.open_timeout_s:g} s playing {name or 'stop'!r}: it may "
                f"be blocked or held by another program; retried every {self.retry_s:g} s",
            )

    def _give_up(self, worker: _Worker, seq: int, message: str) -> None:
        worker.kill()
        with self._cv:
            self._waiting.clear()
            self._cv.notify_all()
        if self._worker is worker:
            self._worker = None
        self._fail(message)

    def _recovered(self) -> None:
        with self._cv:
            if self.failed_at is None:
                return
            self.failed_at, self.last_error, self.repeats = None, None, 0
        log.warning("audio device recovered")
        if self.on_recovered:
            self.on_recovered()

    def _fail(self, message: str) -> None:
        with self._cv:
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


def _die_with_parent() -> None:
    """In the worker, before exec: the kernel kills it when the wall dies (even by kill -9), also when it is stuck
    inside ALSA where no Python code of its own could notice."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the worker still ends when its stdin closes


class _Worker:
    """The worker process and the thread that reads its answers."""

    def __init__(self, on_reply: Callable[[dict[str, Any]], None]) -> None:
        self.on_reply = on_reply
        self.ready = threading.Event()
        self.ready_at = 0.0  # monotonic
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wallctl.adapters.audio_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # ALSA's own lines; the sink reports failures itself
            text=True,
            bufsize=1,
            preexec_fn=_die_with_parent,
        )
        assert self.proc.stdin is not None
        os.set_blocking(self.proc.stdin.fileno(), False)  # a stuck worker must never block the main loop
        self._reader = threading.Thread(target=self._read, name="wallctl-audio-replies", daemon=True)
        self._reader.start()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, body: dict[str, Any]) -> bool:
        stdin = self.proc.stdin
        if stdin is None or not self.alive():
            return False
        try:
            stdin.write(json.dumps(body) + "\n")
            stdin.flush()
        except (BlockingIOError, BrokenPipeError, OSError, ValueError):
            return False
        return True

    def _read(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        for line in stdout:
            try:
                reply = json.loads(line)
            except ValueError:
                continue
            if reply.get("ready"):
                self.ready_at = time.monotonic()
                self.ready.set()
                continue
            self.on_reply(reply)

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        self._reap()

    def quit(self, timeout: float) -> None:
        self.send({"op": "quit"})
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._reap()

    def _reap(self) -> None:
        threading.Thread(target=self.proc.wait, name="wallctl-audio-reap", daemon=True).start()


def probe_device(timeout_s: float = 3.0) -> str | None:
    """Open the default ALSA device with a few ms of silence, in a process of its own (a blocked device cannot
    hang the caller); the error with what to do, or None when it works."""
    code = (
        "import sys, simpleaudio\n"
        "try:\n"
        "    simpleaudio.play_buffer(bytes(882), 1, 2, 44100).wait_done()\n"
        "except Exception as exc:\n"
        "    print(exc, file=sys.stderr); sys.exit(1)\n"
    )
    try:
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return f"the device did not answer within {timeout_s:g} s (blocked or held by another program){_hint()}"
    if run.returncode == 0:
        return None
    lines = [ln for ln in run.stderr.strip().splitlines() if not ln.startswith("ALSA lib")]
    return f"{lines[-1] if lines else 'exit ' + str(run.returncode)}{_hint()}"


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


def open_sink(
    audio: AudioConfig, enabled: bool, on_error: Callable[[str], None], on_recovered: Callable[[], None]
) -> AudioSink:
    """The configured output: simpleaudio on ALSA (``audio.card`` chooses the card), or silence when audio is off."""
    if not (enabled and audio.enabled):
        return NullSink()
    if audio.card:
        os.environ["ALSA_CARD"] = audio.card  # ALSA's default device follows it
    return SimpleAudioSink(
        retry_s=audio.retry_s, open_timeout_s=audio.open_timeout_s, on_error=on_error, on_recovered=on_recovered
    )
