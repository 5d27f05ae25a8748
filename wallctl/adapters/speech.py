"""Text to speech with a local engine (espeak-ng, or piper where its voice files are installed), off the sound path.

An utterance is synthesised on a thread of its own into a WAV file kept in a cache (the same sentence is never
synthesised twice: the summary phrases and the common alarms are instant the second time), then handed back to the
loop, where the annunciator decides whether it is still wanted (:meth:`Annunciator.speak`). The engine runs as a
process with a deadline: a missing, failing or hung engine is reported like a failing audio device and the tones
go on; it is tried again on the next utterance after ``retry_s``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from wallctl.core.sound.soundmap import Sound
from wallctl.core.sound.voice import Utterance, VoiceSpec

log = logging.getLogger("wallctl.speech")
CACHE_FILES = 5000  # ~100 KB each


class SpeechError(RuntimeError):
    pass


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wallctl" / "voice"


def engine_command(spec: VoiceSpec, language: str, out: Path, text: str) -> tuple[list[str], str | None]:
    """The engine's command line and what goes to its stdin."""
    voice = spec.voices.get(language, language)
    if spec.engine == "piper":
        return ["piper", "--model", voice, "--output_file", str(out)], text
    return ["espeak-ng", "-v", voice, "-s", str(spec.rate), "-w", str(out), "--", text], None


def synthesise(spec: VoiceSpec, utterance: Utterance, out: Path, timeout_s: float = 10.0) -> None:
    """Write ``utterance`` as a WAV file at ``out`` (through a temporary name: a reader never sees half a file)."""
    tmp = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.part")
    cmd, stdin = engine_command(spec, utterance.language, tmp, utterance.text)
    if shutil.which(cmd[0]) is None:
        raise SpeechError(f"speech engine {cmd[0]!r} is not installed (voice.engine in the sound map)")
    try:
        run = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        tmp.unlink(missing_ok=True)
        raise SpeechError(f"speech engine {cmd[0]!r} did not finish within {timeout_s:g} s") from None
    if run.returncode != 0 or not tmp.exists() or tmp.stat().st_size <= 44:
        tmp.unlink(missing_ok=True)
        said = (run.stderr or run.stdout).strip().splitlines()
        raise SpeechError(
            f"speech engine {cmd[0]!r} failed (exit {run.returncode}) on voice "
            f"{spec.voices.get(utterance.language, utterance.language)!r}: {said[-1] if said else 'no audio written'}"
        )
    os.replace(tmp, out)


def check_engine(spec: VoiceSpec, timeout_s: float = 10.0) -> str | None:
    """Make the engine say one word in the spoken language, into a file of its own (never the cache, so a cached
    phrase cannot hide a missing engine); the problem, or None when it speaks."""
    with tempfile.TemporaryDirectory(prefix="wallctl-voice-check-") as d:
        try:
            synthesise(spec, Utterance("test", spec.language, None), Path(d) / "check.wav", timeout_s)
        except (SpeechError, OSError) as exc:
            return str(exc)
    return None


def clip_path(spec: VoiceSpec, utterance: Utterance, cache_dir: Path | None = None) -> Path:
    """Where the cache keeps ``utterance`` as the engine, voice and rate say it."""
    voice = spec.voices.get(utterance.language, utterance.language)
    key = hashlib.sha1(f"{spec.engine}|{voice}|{spec.rate}|{utterance.text}".encode()).hexdigest()[:20]
    return (cache_dir or default_cache_dir()) / f"{key}.wav"


def sample_clips(
    spec: VoiceSpec, samples: list[Utterance], cache_dir: Path | None = None
) -> tuple[str | None, list[Sound]]:
    """The self-test's sentences as clips (synthesised into the cache where missing): the first problem, if any,
    and the clips made so far, each named ``voice:<template class>``."""
    clips: list[Sound] = []
    try:
        for u in samples:
            path = clip_path(spec, u, cache_dir)
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                synthesise(spec, u, path)
            clips.append(Sound(f"voice:{u.about or u.kind}", path, "cue", u.text))
    except (SpeechError, OSError) as exc:
        return str(exc), clips
    return None, clips


class Speaker:
    """Turns the voice's utterances into clips; ``deliver(utterance, clip)`` is called on the loop."""

    def __init__(
        self,
        spec: VoiceSpec,
        deliver: Callable[[Utterance, Sound], None],
        call_soon: Callable[[Callable[[], None]], None],
        *,
        cache_dir: Path | None = None,
        on_error: Callable[[str], None] | None = None,
        on_recovered: Callable[[], None] | None = None,
        retry_s: float = 10.0,
        timeout_s: float = 10.0,
    ) -> None:
        self.spec = spec
        self.deliver = deliver
        self.call_soon = call_soon
        self.cache_dir = cache_dir or default_cache_dir()
        self.on_error = on_error
        self.on_recovered = on_recovered
        self.retry_s = retry_s
        self.timeout_s = timeout_s
        self.failed_at: float | None = None
        self.last_error: str | None = None
        self.synthesised = 0  # engine runs (cache misses)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="wallctl-speech")
        self._lock = threading.Lock()
        self._pool.submit(self._prune)

    def start(self) -> Speaker:
        """Check the engine now, on the speech thread: a missing one is shown at start, not at the first alarm."""
        self._pool.submit(self._check)
        return self

    def _check(self) -> None:
        problem = check_engine(self.spec, self.timeout_s)
        if problem is not None:
            self._fail(problem)

    def say(self, utterance: Utterance) -> None:
        """From the loop: deliver at once from the cache, else synthesise on the speech thread."""
        path = clip_path(self.spec, utterance, self.cache_dir)
        if path.exists():
            self.deliver(utterance, _clip(path, utterance))
            return
        with self._lock:
            if self.failed_at is not None and time.monotonic() - self.failed_at < self.retry_s:
                return  # still failing: the warning stays on the wall, the tones go on
        self._pool.submit(self._synthesise, utterance, path)

    def wait_idle(self, timeout: float) -> bool:
        """Until what was submitted so far is done (tools and tests)."""
        done = threading.Event()
        self._pool.submit(done.set)
        return done.wait(timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _prune(self, keep: int = CACHE_FILES) -> None:
        """The cache holds the most recently made ``keep`` clips (a sentence names a node: they are many)."""
        try:
            clips = sorted(self.cache_dir.glob("*.wav"), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in clips[keep:]:
                old.unlink(missing_ok=True)
        except OSError as exc:
            log.debug("cannot prune the speech cache: %s", exc)

    def _synthesise(self, utterance: Utterance, path: Path, deliver: bool = True) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            synthesise(self.spec, utterance, path, self.timeout_s)
        except (SpeechError, OSError) as exc:
            self._fail(str(exc))
            return
        self.synthesised += 1
        self._recovered()
        if deliver:
            self.call_soon(lambda: self.deliver(utterance, _clip(path, utterance)))

    def _fail(self, message: str) -> None:
        with self._lock:
            first = self.failed_at is None
            self.failed_at = time.monotonic()
            self.last_error = message
        if first:
            log.error("%s; alarm tones go on without speech", message)
            if self.on_error is not None:
                on_error = self.on_error
                self.call_soon(lambda: on_error(message))

    def _recovered(self) -> None:
        with self._lock:
            if self.failed_at is None:
                return
            self.failed_at = self.last_error = None
        log.warning("speech engine recovered")
        if self.on_recovered is not None:
            self.call_soon(self.on_recovered)


def _clip(path: Path, utterance: Utterance) -> Sound:
    return Sound(f"voice:{utterance.kind}", path, "cue", utterance.text)
