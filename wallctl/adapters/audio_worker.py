"""The audio device's own process: ``python -m wallctl.adapters.audio_worker``.

simpleaudio holds the GIL while ALSA opens the device, so a device whose open blocks (an output into a pipe
nobody reads, a hung USB speaker) froze every thread of the wall. Here it can only freeze this process, which the
wall kills after its deadline and starts again. Protocol: one JSON object per line on stdin
(``{"seq", "op": "play" | "follow", "path", "volume", "name"}``, ``{"seq", "op": "stop"}``, ``{"op": "quit"}``), one
per line on stdout (``{"ready": true}`` once, then ``{"seq", "ok": true, "at": epoch}`` or ``{"seq", "error": text}``).
``follow`` queues a clip to play once what plays now has ended (speech after its tone): it is answered at once with
``{"seq", "ok": true, "queued": true}``, then ``{"started": name, "at": epoch}`` when it starts, or
``{"failed": name, "error": text}``; ``play`` and ``stop`` drop what was queued.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any


def main() -> int:
    from wallctl.adapters.audio import AudioDeviceError, Clip, device_errors, quiet_alsa_messages

    quiet_alsa_messages()
    import simpleaudio

    failures: tuple[type[BaseException], ...] = (*device_errors(), AudioDeviceError, OSError, ValueError)
    clips: dict[tuple[str, float], tuple[bytes, Clip]] = {}
    lock = threading.Lock()  # the output and its queue: the request loop and the follower share them
    playing: Any = None
    busy_until = 0.0  # monotonic end of what plays (a device that takes samples faster than real time says
    # ``is_playing`` False at once: ALSA's null and file plugins do)
    queued: list[tuple[bytes, Clip, str]] = []
    out = sys.stdout

    def say(obj: dict[str, Any]) -> None:
        with lock:
            out.write(json.dumps(obj) + "\n")
            out.flush()

    def load(req: dict[str, Any]) -> tuple[bytes, Clip]:
        key = (str(req["path"]), round(float(req["volume"]), 2))
        hit = clips.get(key)
        if hit is None:
            if len(clips) > 256:  # spoken sentences are many: keep the buffers bounded
                clips.clear()
            clip = Clip(Path(key[0]))
            hit = clips[key] = (clip.scaled(key[1]), clip)
        return hit

    def follower() -> None:
        """Start the next queued clip once the output is free."""
        nonlocal playing, busy_until
        while True:
            time.sleep(0.01)
            with lock:
                if not queued or time.monotonic() < busy_until or (playing is not None and playing.is_playing()):
                    continue
                data, clip, name = queued.pop(0)
                try:
                    playing = simpleaudio.play_buffer(data, clip.channels, clip.width, clip.rate)
                    busy_until = time.monotonic() + clip.duration
                    notice: dict[str, Any] = {"started": name, "at": time.time(), "duration": clip.duration}
                except failures as exc:
                    notice = {"failed": name, "error": str(exc)}
            say(notice)

    threading.Thread(target=follower, name="follower", daemon=True).start()
    say({"ready": True})
    for line in sys.stdin:
        req = json.loads(line)
        op, seq = req.get("op"), req.get("seq")
        if op == "quit":
            break
        try:
            if op == "follow":
                data, clip = load(req)
                with lock:
                    queued.append((data, clip, str(req.get("name") or "")))
                say({"seq": seq, "ok": True, "queued": True})
                continue
            with lock:
                queued.clear()
                busy_until = 0.0
                if playing is not None:
                    playing.stop()
                    playing = None
                if op == "play":
                    data, clip = load(req)
                    playing = simpleaudio.play_buffer(data, clip.channels, clip.width, clip.rate)
                    busy_until = time.monotonic() + clip.duration
            say({"seq": seq, "ok": True, "at": time.time()})
        except failures as exc:
            say({"seq": seq, "error": str(exc)})
    with lock:
        queued.clear()
        if playing is not None:
            playing.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
