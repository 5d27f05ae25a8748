"""Choosing the Qt platform before the QApplication exists: a real display when there is one, otherwise the
offscreen platform with one virtual screen per configured monitor (and a clear message saying so)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from wallctl.core.wall.layout import WallSpec


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def offscreen_config(wall: WallSpec, directory: Path | None = None, node: str | None = None) -> Path:
    """A configfile for Qt's offscreen platform: one screen per monitor (of ``node`` only, for a display node),
    named as the wall expects."""
    p = wall.panel
    names = {(m.row, m.column): m.screen for m in wall.monitors}
    screens = []
    for r in range(wall.rows):
        for c in range(wall.columns):
            if node is not None and wall.node_of(r, c) != node:
                continue
            name = names.get((r, c))
            screens.append(
                {
                    "name": name if isinstance(name, str) else f"WALL-{r * wall.columns + c + 1}",
                    "x": c * p.width_px,
                    "y": r * p.height_px,
                    "width": p.width_px,
                    "height": p.height_px,
                    "logicalDpi": 96,
                    "logicalBaseDpi": 96,
                    "dpr": 1,
                }
            )
    cfg = {"synchronousWindowSystem": True, "windowFrameMargins": False, "screens": screens}
    d = directory or Path(tempfile.mkdtemp(prefix="wallctl-screens-"))
    path = d / "screens.json"
    path.write_text(json.dumps(cfg))
    return path


def choose_platform(wall: WallSpec, node: str | None = None) -> str | None:
    """Set QT_QPA_PLATFORM when the user did not; returns a message for the user when running off-screen."""
    if os.environ.get("QT_QPA_PLATFORM"):
        if os.environ["QT_QPA_PLATFORM"] == "offscreen":
            os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={offscreen_config(wall, node=node)}"
        return None
    if has_display():
        return None
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={offscreen_config(wall, node=node)}"
    return (
        "No display found (DISPLAY and WAYLAND_DISPLAY are unset): running the wall off-screen on "
        f"{wall.rows * wall.columns} virtual monitors."
    )


def prepare_qt_environment() -> None:
    """Environment Qt wants before it starts: a private runtime dir (else Qt warns), no font-fallback chatter, and
    fills painted by the thread that paints.

    Qt's raster engine hands every fill of more than 96 lines to a thread pool, in 64-line pieces, and waits for
    them: on the wall's two-core PCs, which also run the controller and the broker, the hand-offs and wake-ups
    were a third of a display node's CPU during a flood (futex and condition signals, py-spy), CPU the controller
    then lacked. ``WALLCTL_QT_FILL_THREADS=1`` keeps Qt's pool (a display PC with cores to spare).

    Qt's glyph cache is left at its own limit (64 px): raised (``QT_MAX_CACHED_GLYPH_SIZE``), this Qt drew the
    cached big glyphs as nothing at all, and the summary's figures and the clock vanished."""
    os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.fonts.warning=false")
    if os.environ.get("WALLCTL_QT_FILL_THREADS") != "1":
        os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")  # Qt reads whether it is set, not its value
    if sys.platform.startswith("linux") and not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="wallctl-xdg-")


def inhibit_screensaver(run: object = None) -> str:
    """Keep a wall's monitors awake: X11 screen saver and DPMS off (``xset``). Returns what was done, for the log.

    A wall that blanks after ten idle minutes is a wall nobody sees; the operator never touches its keyboard.
    """
    import shutil
    import subprocess

    if not os.environ.get("DISPLAY"):
        return "no X display: nothing to inhibit"
    xset = shutil.which("xset")
    if xset is None:
        return "xset not found (Debian package x11-xserver-utils): the screen saver may blank the wall"
    runner = run or (lambda args: subprocess.run(args, capture_output=True, timeout=5, check=False).returncode)
    codes = [runner([xset, "s", "off"]), runner([xset, "s", "noblank"]), runner([xset, "-dpms"])]  # type: ignore[operator]
    if any(codes):
        return f"xset could not turn the screen saver off (exit codes {codes})"
    return "screen saver and DPMS turned off (xset)"
