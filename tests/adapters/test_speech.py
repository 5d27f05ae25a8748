"""The speech adapter with the real espeak-ng: synthesised once and cached, a failing engine reported once and then
recovered, the cache bounded."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import wave
from pathlib import Path

from wallctl.adapters.speech import Speaker
from wallctl.core.sound.soundmap import Sound
from wallctl.core.sound.voice import Utterance, VoiceSpec

SPEC = VoiceSpec(engine="espeak-ng", templates={"default": {"en": "{severity}."}})


class Loop:
    """``call_soon`` from the speech thread, run here when the test looks."""

    def __init__(self) -> None:
        self.calls: list[object] = []
        self.lock = threading.Lock()

    def call_soon(self, fn: object) -> None:
        with self.lock:
            self.calls.append(fn)

    def run(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                calls, self.calls = self.calls, []
            for fn in calls:
                fn()  # type: ignore[operator]
            if calls:
                return
            time.sleep(0.01)
        raise TimeoutError("nothing came back from the speech thread")


def test_a_sentence_is_synthesised_once_then_comes_from_the_cache(tmp_path: Path) -> None:
    loop, got = Loop(), []
    speaker = Speaker(SPEC, lambda u, clip: got.append((u, clip)), loop.call_soon, cache_dir=tmp_path)
    u = Utterance("Critical. Link down. DC1 firewall 1.", "en", 3)
    speaker.say(u)
    loop.run()
    ((said, clip),) = got
    assert said is u and isinstance(clip, Sound) and clip.description == u.text
    with wave.open(str(clip.path)) as w:
        assert w.getsampwidth() == 2 and w.getnframes() / w.getframerate() > 1.0  # a real sentence, 16-bit
    speaker.say(u)  # cached: delivered at once, on the caller's turn, no engine run
    assert len(got) == 2 and got[1][1].path == clip.path and speaker.synthesised == 1
    speaker.close()


def test_a_failing_engine_is_reported_once_and_recovers(tmp_path: Path) -> None:
    loop, errors, recovered = Loop(), [], []
    bad = dataclasses.replace(SPEC, voices={"en": "nosuchvoice"})
    speaker = Speaker(
        bad,
        lambda u, clip: None,
        loop.call_soon,
        cache_dir=tmp_path,
        on_error=errors.append,
        on_recovered=lambda: recovered.append(True),
        retry_s=0,
    )
    speaker.say(Utterance("one", "en", 1))
    loop.run()
    speaker.say(Utterance("two", "en", 1))
    assert speaker.wait_idle(10)
    assert len(errors) == 1 and "'nosuchvoice'" in errors[0] and "does not exist" in errors[0]
    speaker.spec = SPEC  # the voice is installed
    speaker.say(Utterance("three", "en", 1))
    assert speaker.wait_idle(10)
    loop.run()
    assert recovered == [True] and speaker.failed_at is None


def test_the_cache_keeps_the_newest_clips(tmp_path: Path) -> None:
    for i in range(12):
        p = tmp_path / f"{i:02d}.wav"
        p.write_bytes(b"x")
        os.utime(p, (1000 + i, 1000 + i))
    speaker = Speaker(SPEC, lambda u, clip: None, lambda fn: fn(), cache_dir=tmp_path)
    assert speaker.wait_idle(10)
    speaker._prune(keep=5)
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == [f"{i:02d}.wav" for i in range(7, 12)]


def test_the_engine_check_runs_the_engine_whatever_the_cache_holds(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``wallctl sounds --check`` and the controller's start-up check: a cached phrase must not hide a missing
    engine (a newcomer's trial found it did)."""
    from wallctl.adapters.speech import check_engine

    assert check_engine(SPEC) is None
    loop = Loop()
    speaker = Speaker(SPEC, lambda u, clip: None, loop.call_soon, cache_dir=tmp_path)
    speaker.say(Utterance("test", "en", None))
    loop.run()  # cached now
    monkeypatch.setenv("PATH", str(tmp_path))  # espeak-ng is gone
    problem = check_engine(SPEC)
    assert problem is not None and "'espeak-ng' is not installed" in problem
    errors: list[str] = []
    started = Speaker(SPEC, lambda u, clip: None, loop.call_soon, cache_dir=tmp_path, on_error=errors.append).start()
    assert started.wait_idle(10)
    loop.run()
    assert errors and "not installed" in errors[0]  # at start, before anything was said
