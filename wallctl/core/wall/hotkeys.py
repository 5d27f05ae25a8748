"""Hotkey strings (``Ctrl+Shift+F2``) checked and normalised without Qt, so validation runs anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

MODIFIERS = ("Ctrl", "Shift", "Alt", "Meta")
_NAMED = {
    "esc": "Esc",
    "escape": "Esc",
    "space": "Space",
    "tab": "Tab",
    "return": "Return",
    "enter": "Enter",
    "backspace": "Backspace",
    "delete": "Del",
    "del": "Del",
    "insert": "Ins",
    "ins": "Ins",
    "home": "Home",
    "end": "End",
    "pgup": "PgUp",
    "pageup": "PgUp",
    "pgdown": "PgDown",
    "pagedown": "PgDown",
    "up": "Up",
    "down": "Down",
    "left": "Left",
    "right": "Right",
    "pause": "Pause",
    "print": "Print",
}
_FKEY = re.compile(r"^f([1-9]|1[0-9]|2[0-4])$", re.IGNORECASE)


def normalize_hotkey(text: str) -> str:
    """``ctrl+f2`` -> ``Ctrl+F2``; raises ``ValueError`` saying what a hotkey looks like."""
    parts = [p.strip() for p in str(text).split("+")]
    if text.endswith("+"):
        parts = [*parts[:-2], "+"]
    if not parts or any(not p for p in parts):
        raise ValueError(f"hotkey {text!r} is empty or malformed; expected e.g. 'F2', 'A', 'Ctrl+Shift+S'")
    *mods, key = parts
    norm_mods = []
    for m in mods:
        cap = m.capitalize() if m.lower() != "control" else "Ctrl"
        if cap not in MODIFIERS:
            raise ValueError(f"hotkey {text!r}: {m!r} is not a modifier; expected {', '.join(MODIFIERS)}")
        if cap in norm_mods:
            raise ValueError(f"hotkey {text!r}: modifier {cap} given twice")
        norm_mods.append(cap)
    if _FKEY.match(key) or (len(key) == 1 and key.isprintable()):
        k = key.upper()
    elif key.lower() in _NAMED:
        k = _NAMED[key.lower()]
    else:
        raise ValueError(f"hotkey {text!r}: unknown key {key!r}; expected a letter, digit, F1-F24 or a named key")
    ordered = [m for m in MODIFIERS if m in norm_mods]
    return "+".join([*ordered, k])


class _ModeKey(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def hotkey(self) -> str | None: ...


def mode_hotkeys(modes: Iterable[_ModeKey], reserved: dict[str, str]) -> dict[str, str]:
    """Mode -> hotkey: the mode's own, else the next free F-key (F1-F12 by default)."""
    modes = list(modes)
    taken = {normalize_hotkey(k) for k in reserved.values()}
    out: dict[str, str] = {}
    for m in modes:
        if m.hotkey:
            out[m.name] = normalize_hotkey(m.hotkey)
            taken.add(out[m.name])
    free = (f"F{i}" for i in range(1, 13))
    for m in modes:
        if m.name not in out:
            key = next((k for k in free if k not in taken), None)
            if key is not None:
                out[m.name] = key
                taken.add(key)
    return out
