"""When a display node applies a stamped mode switch, and when it holds its other repaints for it."""

from __future__ import annotations

from wallctl.core.wall.switching import HOLD_PAINTS_S, switch_plan


def test_a_node_plans_its_switch_and_its_hold_from_the_stamp() -> None:
    now = 1000.0
    delay, hold = switch_plan(now + 0.04, now)
    assert abs(delay - 0.04) < 1e-6 and hold is not None and abs(hold - (0.04 - HOLD_PAINTS_S)) < 1e-6
    assert switch_plan(now + HOLD_PAINTS_S / 2, now)[1] == 0.0  # inside the hold window: hold at once
    assert switch_plan(now - 0.2, now) == (0.0, None)  # late (a flood held the state back): now, nothing held
    assert switch_plan(now + 0.04, now, immediately=True) == (0.0, None)  # a node joining: its first picture now
