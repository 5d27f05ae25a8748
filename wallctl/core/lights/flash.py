"""Flashing by wallctl, for devices that cannot flash by themselves: on for the first half of each period (IEC 60073's
1:1 pulse ratio), phase-locked to one start time so every channel at one rate flashes together and a late write
never shifts the rhythm. Time is a monotonic float handed in; nothing here sleeps."""

from __future__ import annotations

import math
from typing import Literal

from wallctl.core.lights.config import Drive

Level = Literal["off", "steady"]


def level(drive: Drive, t: float, hz: float) -> Level:
    """What a channel driven ``drive`` shows ``t`` seconds after the phase's start."""
    if drive in ("off", "steady"):
        return drive
    return "steady" if (t * hz) % 1.0 < 0.5 else "off"


def next_edge(t: float, hz: float) -> float:
    """The next time after ``t`` at which a channel flashing at ``hz`` turns on or off."""
    half = 0.5 / hz
    edge = (math.floor(t / half) + 1) * half
    return edge if edge > t else edge + half
