"""The audio device's own process: ``python -m wallctl.adapters.audio_worker``.

simpleaudio holds the GIL while ALSA opens the device, so a device whose open blocks (an output into a pipe
nobody reads, a hung USB speaker) froze every thread of the wall. Here it can only freeze this process, which the
wall kills after its deadline and starts again. Protocol: one JSON object per line on stdin
(``{"seq", "op": "play", "path", "volume", "name"}``, ``{"seq", "op": "stop"}``, ``{"op": "quit"}``), one per line on
stdout (``{"ready": true}`` once, then ``{"seq", "ok": true, "at": epoch}`` or ``{"seq", "error": text}``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def main() -> int:
    from wallctl.adapters.audio import AudioDeviceError, Clip, device_errors, quiet_alsa_messages

    quiet_alsa_messages()
    import simpleaudio

    failures: tuple[type[BaseException], ...] = (*device_errors(), AudioDeviceError, OSError, ValueError)
    clips: dict[tuple[str, float], tuple[bytes, Clip]] = {}
    playing: Any = None
    out = sys.stdout

    def say(obj: dict[str, Any]) -> None:
        out.write(json.dumps(obj) + "\n")
        out.flush()

    say({"ready": True})
    for line in sys.stdin:
        req = json.loads(line)
        op, seq = req.get("op"), req.get("seq")
        if op == "quit":
            break
        try:
            if playing is not None:
                playing.stop()
                playing = None
            if op == "play":
                key = (str(req["path"]), round(float(req["volume"]), 2))
                hit = clips.get(key)
                if hit is None:
                    clip = Clip(Path(key[0]))
                    hit = clips[key] = (clip.scaled(key[1]), clip)
                data, clip = hit
                playing = simpleaudio.play_buffer(data, clip.channels, clip.width, clip.rate)
            say({"seq": seq, "ok": True, "at": time.time()})
        except failures as exc:
            say({"seq": seq, "error": str(exc)})
    if playing is not None:
        playing.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
