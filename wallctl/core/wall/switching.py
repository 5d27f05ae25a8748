"""When a display node shows a mode switch: every node of the wall at the same instant, the controller's stamp.

The controller stamps each decision (``mode_since``); every node applies the new mode at that instant plus
``SWITCH_LEAD_S``, time for the state to reach all nodes (a few ms on a LAN; keep the PCs' clocks NTP-synced).

A node that is painting something else at the instant (the alarm list, changed by the very event that switches
the mode) starts its switch only when that paint is done: 10-20 ms after the other node. So each node holds its
other repaints for ``HOLD_PAINTS_S`` before the instant, and paints what changed meanwhile with the switch.

Starting each node early by its own learned paint time (so that the frames, not the starts, coincide) was tried:
the switches then met the view updates of the same event and the skew grew (p99 29-36 ms against 19 ms).
"""

from __future__ import annotations

SWITCH_LEAD_S = 0.04  # from the controller's stamp to the instant every node applies the switch
HOLD_PAINTS_S = 0.03  # no other repaint starts this close before the instant


def switch_plan(at: float, now: float, *, immediately: bool = False) -> tuple[float, float | None]:
    """Seconds until this node applies a switch stamped for ``at``, and until its repaints are held for it (None:
    not at all; a switch that is already late is applied at once)."""
    delay = 0.0 if immediately else max(0.0, at - now)
    return delay, (max(0.0, delay - HOLD_PAINTS_S) if delay > 0 else None)
