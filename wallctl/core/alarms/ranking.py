"""Alarms kept in display order as they change, so the first rows cost O(rows), not a sort of every alarm.

With 200,000 active alarms a partial sort (``heapq.nsmallest``) took 100-150 ms, and the alarm list and the alarms
topic each ran one several times a second: a frozen room. A :class:`Ranking` follows the engine's changes one alarm
at a time (O(log n) each) and hands out its first N in order; what it leaves out it still counts, by reason.

A single change is placed when the ranking is next read, not when it happens: during a flood an alarm changes
several times between two reads (the lists are published every 100 ms, the alarms topic every 500 ms), and placing
each change at once was a fifth of the controller's time.

A bulk change (an ``ack_all`` of 200,000 alarms) is placed later when the ranking has a :class:`Backlog`: re-ranking
three lists took 1.6 s of the 2.6 s that such an ``ack_all`` kept the operator waiting, and nothing needs the new
order before the reply. Meanwhile each row shows its alarm as it is now, in its former place.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterator
from typing import Any

from sortedcontainers import SortedList

from wallctl.core.alarms.alarm import Alarm
from wallctl.core.alarms.engine import AlarmChange, AlarmEngine
from wallctl.core.alarms.event import AlarmKey

SortKey = Callable[[Alarm], tuple[Any, ...]]
# where an alarm goes: None for a row, a reason (counted, not listed), or False (not this ranking's at all)
Classify = Callable[[Alarm], "str | bool | None"]


def _row(_a: Alarm) -> str | bool | None:
    return None


CHUNK = 500  # keys placed at once: their old entries are usually one run of the order, cut out in one piece


class Backlog:
    """The rankings with bulk changes still to place, caught up by whoever runs the main loop's long work, a
    bounded number of keys at a time (the core keeps no time: the caller decides how many steps fit a slice)."""

    def __init__(self) -> None:
        self._behind: dict[int, Ranking] = {}  # an ordered set: first behind, first served

    def __bool__(self) -> bool:
        return bool(self._behind)

    def __len__(self) -> int:
        """Keys still to place, over all rankings."""
        return sum(r.behind for r in self._behind.values())

    def add(self, ranking: Ranking) -> None:
        self._behind.setdefault(id(ranking), ranking)

    def discard(self, ranking: Ranking) -> None:
        self._behind.pop(id(ranking), None)

    def step(self) -> bool:
        """Place one chunk of the first ranking behind; True while any remain."""
        if not self._behind:
            return False
        first = next(iter(self._behind.values()))
        if not first.catch_up(CHUNK):
            self.discard(first)
        return bool(self._behind)


class Ranking:
    def __init__(
        self,
        engine: AlarmEngine,
        sort_key: SortKey,
        classify: Classify = _row,
        tally: Callable[[Alarm], str] | None = None,
        backlog: Backlog | None = None,
    ) -> None:
        """``tally``: a class per listed alarm (its category, say) counted as alarms come and go, so what lies
        beyond the rows a wall can show is summed up without a pass over 200,000 alarms. ``backlog``: where bulk
        changes wait to be placed; without one they are placed at once."""
        self.engine = engine
        self.sort_key = sort_key
        self.classify = classify
        self.tally = tally
        self._tallies: Counter[str] = Counter()
        self._class: dict[AlarmKey, str] = {}
        self._rank: dict[AlarmKey, tuple[Any, ...]] = {}
        self._order: SortedList = SortedList()
        self._reason: dict[AlarmKey, str] = {}
        self._set_aside: Counter[str] = Counter()
        self._due: dict[AlarmKey, None] = {}  # changed since the last read: placed by ``_settle``
        self.backlog = backlog
        self._behind: deque[AlarmKey] = deque()
        self.rebuild()

    def on_change(self, change: AlarmChange) -> None:
        """Connect to the engine's ``changed`` (the owner does, so it can also disconnect). Placed at the next
        read: every reader goes through ``_settle``."""
        self._due[change.key] = None

    def _settle(self) -> None:
        """Place the alarms changed since the last read, each once, as it is now."""
        if self._due:
            due, self._due = self._due, {}
            get = self.engine.get
            for key in due:
                self._put(key, get(key))

    @property
    def tallies(self) -> Counter[str]:
        """Listed alarms by ``tally`` class."""
        self._settle()
        return self._tallies

    @property
    def set_aside(self) -> Counter[str]:
        """Alarms of this ranking not listed, by reason."""
        self._settle()
        return self._set_aside

    def on_bulk(self, _kind: object, keys: list[AlarmKey]) -> None:
        """Connect to the engine's ``bulk_changed``: placed now, or queued on the backlog."""
        if self.backlog is None:
            self._place(keys)
            return
        self._behind.extend(keys)
        self.backlog.add(self)

    @property
    def behind(self) -> int:
        """Keys of bulk changes not placed yet: their alarms are listed where they were before the change."""
        return len(self._behind)

    def catch_up(self, most: int) -> bool:
        """Place up to ``most`` keys of the bulk changes still behind; True while some remain."""
        q = self._behind
        n = min(most, len(q))
        if n:
            self._place([q.popleft() for _ in range(n)])
        return bool(q)

    def close(self) -> None:
        """Out of the backlog (its owner stops following the engine)."""
        self._behind.clear()
        self._due.clear()
        if self.backlog is not None:
            self.backlog.discard(self)

    def _place(self, keys: list[AlarmKey]) -> None:
        """The old entries of a bulk change (an ``ack_all`` slice) are usually one run of the order: cut as a
        slice, not searched for one by one (half of ``ack_all``'s time)."""
        get = self.engine.get
        gone: list[tuple[tuple[Any, ...], AlarmKey]] = []
        placed: list[tuple[tuple[Any, ...], AlarmKey]] = []
        for key in keys:
            old = self._leave(key)
            if old is not None:
                gone.append((old, key))
            alarm = get(key)
            if alarm is not None:
                rank = self._enter(key, alarm)
                if rank is not None:
                    placed.append((rank, key))
        self._remove(gone)
        self._order.update(placed)

    def _remove(self, entries: list[tuple[tuple[Any, ...], AlarmKey]]) -> None:
        order = self._order
        if len(entries) > 1:
            entries.sort()
            i = order.index(entries[0])
            j = i + len(entries)
            # k distinct sorted entries, all held, the first at i and the last at i + k - 1: they fill that run
            if j <= len(order) and order[j - 1] == entries[-1]:
                del order[i:j]
                return
        for entry in entries:
            order.remove(entry)

    def follow(self, connect: Callable[[Any, Any], None]) -> None:
        """Subscribe to both of the engine's change signals through ``connect(signal, slot)``."""
        connect(self.engine.changed, self.on_change)
        connect(self.engine.bulk_changed, self.on_bulk)

    def rebuild(self) -> None:
        """From the engine as it is (after a restore): one sort, not an insertion per alarm."""
        self._behind.clear()
        self._due.clear()
        self._rank.clear()
        self._reason.clear()
        self._set_aside.clear()
        self._class.clear()
        self._tallies.clear()
        entries = []
        for alarm in self.engine:
            rank = self._enter(alarm.key, alarm)
            if rank is not None:
                entries.append((rank, alarm.key))
        self._order = SortedList(entries)

    def _put(self, key: AlarmKey, alarm: Alarm | None) -> None:
        old = self._leave(key)
        if old is not None:
            self._order.remove((old, key))
        if alarm is None:
            return
        rank = self._enter(key, alarm)
        if rank is not None:
            self._order.add((rank, key))

    def _leave(self, key: AlarmKey) -> tuple[Any, ...] | None:
        """Uncount ``key``; its old rank when it was listed (the caller takes it out of the order)."""
        old = self._rank.pop(key, None)
        if old is not None and self.tally is not None:
            self._tallies[self._class.pop(key)] -= 1
        reason = self._reason.pop(key, None)
        if reason is not None:
            self._set_aside[reason] -= 1
        return old

    def _enter(self, key: AlarmKey, alarm: Alarm) -> tuple[Any, ...] | None:
        """Classify ``alarm`` and count it; its rank when it is listed (the caller places it in the order)."""
        where = self.classify(alarm)
        if where is False:
            return None
        if isinstance(where, str):
            self._reason[key] = where
            self._set_aside[where] += 1
            return None
        rank = self._rank[key] = self.sort_key(alarm)
        if self.tally is not None:
            c = self._class[key] = self.tally(alarm)
            self._tallies[c] += 1
        return rank

    def __len__(self) -> int:
        self._settle()
        return len(self._rank)

    def __contains__(self, key: object) -> bool:
        self._settle()
        return key in self._rank

    def first(self, n: int) -> list[Alarm]:
        return list(self._iter(n))

    def _iter(self, n: int | None = None) -> Iterator[Alarm]:
        self._settle()
        get = self.engine.get
        for _, key in self._order.islice(0, n):
            alarm = get(key)
            if alarm is not None:
                yield alarm

    def __iter__(self) -> Iterator[Alarm]:
        return self._iter()

    def keys_before(self, rank: tuple[Any, ...]) -> list[AlarmKey]:
        """The keys of the rows ranked before ``rank``, in order: one bisection and a copy, not a walk that looks
        every alarm up (the unacknowledged block of 200,000 alarms took 0.3 s that way)."""
        self._settle()
        end = self._order.bisect_left((rank,))
        return [key for _, key in self._order.islice(0, end)]

    def step(self, key: AlarmKey | None, step: int) -> AlarmKey | None:
        """The key ``step`` rows after (or before) ``key``, wrapping around; the first row when ``key`` is not
        listed. O(log n): the Up/Down hotkeys once sorted every alarm."""
        self._settle()
        n = len(self._order)
        if n == 0:
            return None
        rank = self._rank.get(key) if key is not None else None
        here = -1 if step > 0 else 0  # not listed: start from the first row (or the last, going up)
        if rank is not None:
            here = self._order.index((rank, key))
        found: AlarmKey = self._order[(here + step) % n][1]
        return found
