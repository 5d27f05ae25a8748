"""The horn's candidates, best first: the annunciator's index of unacknowledged audible alarms by rank."""

from __future__ import annotations

import heapq

from wallctl.core.alarms.event import AlarmKey


class Candidates:
    """The horn's candidates by rank, best first in O(log n): scanning them all took 90 ms at 50,000 alarms, on
    every tick of a stream. Stale heap entries are skipped when they reach the top; equal ranks: first come wins."""

    def __init__(self) -> None:
        self._rank: dict[AlarmKey, tuple[tuple[int, int], int]] = {}
        self._heap: list[tuple[int, int, int, AlarmKey]] = []
        self._order = 0

    def __contains__(self, key: AlarmKey) -> bool:
        return key in self._rank

    def __len__(self) -> int:
        return len(self._rank)

    def put(self, key: AlarmKey, rank: tuple[int, int]) -> None:
        held = self._rank.get(key)
        if held is not None and held[0] == rank:
            return
        self._order += 1
        self._rank[key] = (rank, self._order)
        heapq.heappush(self._heap, (-rank[0], -rank[1], self._order, key))
        if len(self._heap) > 2 * len(self._rank) + 1024:
            self._compact()

    def discard(self, key: AlarmKey) -> None:
        if self._rank.pop(key, None) is not None:
            self._compact_if_stale()

    def discard_many(self, keys: list[AlarmKey]) -> None:
        """``discard`` for each of ``keys``, with one look at the heap's stale entries at the end."""
        pop = self._rank.pop
        for key in keys:
            pop(key, None)
        self._compact_if_stale()

    def _compact_if_stale(self) -> None:
        if len(self._heap) > 4 * len(self._rank) + 1024:
            self._compact()

    def _compact(self) -> None:
        """Drop the stale entries at once: after an ``ack_all`` of 200,000 the first ``best`` popped them all,
        a 0.25 s stall on the next tick."""
        self._heap = [(-r[0], -r[1], order, k) for k, (r, order) in self._rank.items()]
        heapq.heapify(self._heap)

    def clear(self) -> None:
        self._rank.clear()
        self._heap.clear()

    def best(self) -> tuple[AlarmKey, tuple[int, int]] | None:
        heap = self._heap
        while heap:
            _, _, order, key = heap[0]
            held = self._rank.get(key)
            if held is not None and held[1] == order:
                return key, held[0]
            heapq.heappop(heap)
        return None
