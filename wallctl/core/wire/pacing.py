"""How often a display node draws what the controller's views bring: as often as its monitors can take.

The controller publishes each view at most ten times a second, whatever the node costs to paint. During a flood
every one of them changes every time (the list's rows, the counts, the maps, the banner's facts), and three
monitors of a node took 60-130 ms a frame on a loaded two-core PC: painting them all kept a node busy 70 % of its
time, so a mode switch waited for the frame in progress and for the CPU the paints took from every process.

A node therefore applies the views it receives in batches. Whatever comes before the next frame is painted is
applied as it comes (an alarm at rest shows as fast as before: its state and views arrive within a millisecond and
are painted in one frame); once a batch has been painted, the next waits until ``PAINT_SHARE`` times what that
painting cost has passed (never more than ``MAX_GAP_S``). Each view message is a whole projection, so only the latest
of each topic is kept (and parsed). A mode switch takes whatever waits into its own frame.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_GAP_S = 0.5  # however costly the frames, nothing the views bring waits longer than this
PAINT_SHARE = 4  # paints take a quarter of a node's time at most: a batch that cost 60 ms of paints waits 240 ms


class ViewPacer(Generic[T]):
    """The latest item per topic, held until its batch is due (pure: the caller arms a timer for ``due_in``)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self._pending: dict[str, T] = {}
        self._last = float("-inf")  # when the last batch was applied
        self._cost = 0.0  # seconds of painting since then

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def offer(self, topic: str, item: T) -> float:
        """Keep ``item`` as the latest of ``topic``; seconds until the batch is due (0: take it now)."""
        self._pending[topic] = item
        return self.due_in()

    def note_paint(self, seconds: float) -> None:
        """A monitor's frame, painted since the last batch: what that batch cost."""
        self._cost += seconds

    def gap(self) -> float:
        return min(MAX_GAP_S, PAINT_SHARE * self._cost)

    def due_in(self) -> float:
        return max(0.0, self._last + self.gap() - self._now())

    def take(self) -> list[tuple[str, T]]:
        """What waits, in the order each topic first came, and the start of the next gap."""
        out = list(self._pending.items())
        self._pending.clear()
        self._last, self._cost = self._now(), 0.0
        return out
