"""A display node's view pacing: the views of a quiet spell are drawn as they come, those of a flood in batches
spaced by what their painting cost, only the latest of each topic, in the order the topics first came."""

from __future__ import annotations

from wallctl.core.wire.pacing import MAX_GAP_S, PAINT_SHARE, ViewPacer


class Monotonic:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_what_comes_before_the_next_frame_is_drawn_as_it_comes() -> None:
    clock = Monotonic()
    pacer: ViewPacer[str] = ViewPacer(clock)
    assert pacer.offer("view/lists/a", "rows 1") == 0.0  # a quiet spell: now
    assert pacer.take() == [("view/lists/a", "rows 1")] and not pacer.pending
    clock.t += 0.001
    assert pacer.offer("view/picture", "counts 1") == 0.0  # the same event's next view, before any paint: now too


def test_after_a_frame_the_next_batch_waits_for_what_the_frame_cost() -> None:
    clock = Monotonic()
    pacer: ViewPacer[str] = ViewPacer(clock)
    pacer.offer("view/lists/a", "rows 1")
    pacer.take()
    for _monitor in range(3):
        pacer.note_paint(0.02)  # three monitors, 20 ms each
    clock.t += 0.01
    due = pacer.offer("view/lists/a", "rows 2")
    assert abs(due - (PAINT_SHARE * 0.06 - 0.01)) < 1e-9
    pacer.offer("view/picture", "counts 2")
    pacer.offer("view/lists/a", "rows 3")  # a whole projection: the newer replaces the one that waits
    clock.t += due
    assert pacer.due_in() == 0.0
    assert pacer.take() == [("view/lists/a", "rows 3"), ("view/picture", "counts 2")]


def test_costly_frames_never_hold_the_views_longer_than_the_cap() -> None:
    clock = Monotonic()
    pacer: ViewPacer[str] = ViewPacer(clock)
    pacer.take()
    pacer.note_paint(2.0)
    assert pacer.offer("view/map/estate", "states") == MAX_GAP_S


def test_paints_before_a_batch_are_not_its_cost() -> None:
    clock = Monotonic()
    pacer: ViewPacer[str] = ViewPacer(clock)
    pacer.note_paint(0.1)  # the frame of the batch before
    clock.t += 1.0
    pacer.take()
    assert pacer.offer("view/health", "figures") == 0.0
