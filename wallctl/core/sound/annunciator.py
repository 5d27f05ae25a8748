"""Annunciator policy (ISA-18.1 semantics), pure and clocked: what sounds, when, and what does not.

- The highest-priority audible unacknowledged alarm owns the horn and re-sounds at its interval until it is
  acknowledged; a more severe alarm pre-empts at once; one output channel, so sounds never overlap.
- Silence mutes the horn for N seconds, then it re-sounds if anything is still unacknowledged (silence is not
  acknowledge). Acknowledge stops it.
- Return to normal of an unacknowledged alarm gives a short ring-back cue.
- Chattering and consequence alarms do not trigger a sound by themselves; during a flood one flood sound plays,
  then only the re-sound cycle (and pre-emption by something more severe) sounds. Replayed alarms stay quiet.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from wallctl.core.alarms.alarm import Alarm, AlarmState
from wallctl.core.alarms.engine import AlarmChange, ChangeKind
from wallctl.core.alarms.event import AlarmKey
from wallctl.core.clock import Clock
from wallctl.core.signal import Signal
from wallctl.core.sound.soundmap import Annunciation, Sound, SoundMap


class AudioSink(Protocol):
    """One output channel. ``play`` replaces whatever is playing; errors are the sink's to report."""

    def play(self, sound: Sound, volume: float) -> None: ...

    def stop(self) -> None: ...


class NullSink:
    """For ``--no-audio``, tools and tests: plays nothing, remembers what it was asked to play."""

    def __init__(self) -> None:
        self.played: list[str] = []

    def play(self, sound: Sound, volume: float) -> None:
        self.played.append(sound.name)
        del self.played[:-1000]

    def stop(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class Audible:
    sound: str | None
    silenced_until: float | None
    alarm: AlarmKey | None
    self_test: str | None = None  # the sound the self-test is playing, shown by name on the wall


@dataclass(slots=True)
class _Current:
    key: AlarmKey
    ann: Annunciation
    rank: tuple[int, int]


class _Ranked:
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
        if self._rank.pop(key, None) is not None and len(self._heap) > 4 * len(self._rank) + 1024:
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


class Annunciator:
    def __init__(
        self, clock: Clock, soundmap: SoundMap, sink: AudioSink, lookup: Callable[[AlarmKey], Alarm | None]
    ) -> None:
        self.clock = clock
        self.soundmap = soundmap
        self.sink = sink
        self.lookup = lookup
        self.changed: Signal[[Audible]] = Signal("annunciator change")
        self._candidates = _Ranked()
        self._current: _Current | None = None
        self._next_at: float | None = None
        self._silenced_until: float | None = None
        self._flood = False
        self._flood_sounded = False
        self._dirty = False
        self._last_state = Audible(None, None, None)
        self._test_queue: list[Sound] = []
        self._test_gap = 2.5
        self._test_next = 0.0
        self._testing: str | None = None
        self.plays = 0

    # ---------------------------------------------------------------- state
    @property
    def audible(self) -> Audible:
        c = self._current
        silenced = self._silenced_until
        return Audible(
            c.ann.sound.name if c and silenced is None else None, silenced, c.key if c else None, self._testing
        )

    # ---------------------------------------------------------------- inputs
    def on_change(self, change: AlarmChange) -> None:
        alarm = self.lookup(change.key)
        ann = self._consider(change.key, alarm)
        if ann is None and self._current is not None and self._current.key == change.key:
            self._reevaluate(stop_if_none=True)
        if change.replay:
            self._publish()
            return
        if change.annunciate and alarm is not None and ann is not None:
            self._announce(alarm, ann)
        elif change.kind in (ChangeKind.ACK, ChangeKind.SHELVE, ChangeKind.SUPPRESS, ChangeKind.OUT_OF_SERVICE):
            self._dirty = True
        if change.ring_back:
            self._ring_back()
        self._publish()

    def on_bulk(self, keys: list[AlarmKey]) -> None:
        """Many alarms acknowledged at once: none of them is a candidate any more; the horn is re-decided on the
        next tick, once, not once per alarm (a re-evaluation per acknowledged owner cost seconds at 200,000)."""
        for key in keys:
            self._candidates.discard(key)
        c = self._current
        if c is not None and c.key not in self._candidates:
            self._dirty = True
        self._publish()

    def on_flood(self, active: bool) -> None:
        self._flood = active
        if not active:
            self._flood_sounded = False

    def silence(self, seconds: float) -> float:
        until = self.clock.now() + seconds
        self._silenced_until = until
        self.sink.stop()
        self._publish()
        return until

    def unsilence(self) -> None:
        if self._silenced_until is not None:
            self._silenced_until = None
            self._reevaluate(stop_if_none=True)
            if self._current is not None:
                self._play(self._current.ann)
            self._publish()

    def resume(self) -> None:
        """Sound what owns the horn now, at once (a standby controller that just took the wall over)."""
        if self._current is not None and self._silenced_until is None:
            self._play(self._current.ann)

    def rebuild(self, alarms: list[Alarm]) -> None:
        """Take the picture restored from the journal; resumes re-sounding on the normal cycle."""
        self._candidates.clear()
        for a in alarms:
            self._consider(a.key, a)
        self._reevaluate(stop_if_none=False)
        if self._current is not None:
            self._next_at = self.clock.now()
        self._publish()

    def self_test(self, gap_s: float = 2.5) -> list[str]:
        """Play every sound of the map once, one after the other, each named on the wall; real alarms abort it."""
        self._test_queue = sorted(self.soundmap.sounds.values(), key=lambda s: s.name)
        self._test_gap = gap_s
        self._test_next = self.clock.now()
        self._step_self_test()
        return [s.name for s in self.soundmap.sounds.values()]

    def _step_self_test(self) -> None:
        if not self._test_queue or self.clock.now() < self._test_next:
            return
        if self._current is not None:  # an alarm owns the horn: the test gives way
            self._test_queue, self._testing = [], None
            return
        sound = self._test_queue.pop(0)
        self._testing = sound.name
        self.sink.play(sound, 1.0)
        self.plays += 1
        self._test_next = self.clock.now() + self._test_gap
        self._publish()

    def tick(self) -> None:
        now = self.clock.now()
        if self._testing is not None:
            if self._test_queue:
                self._step_self_test()
            elif now >= self._test_next:
                self._testing = None
                self._publish()
        if self._silenced_until is not None and now >= self._silenced_until:
            self._silenced_until = None
            self._reevaluate(stop_if_none=True)
            if self._current is not None:
                self._play(self._current.ann)
        if self._dirty:
            self._reevaluate(stop_if_none=True)
        c = self._current
        if c is not None and self._silenced_until is None and self._next_at is not None and now >= self._next_at:
            self._play(c.ann)
        self._publish()

    # ---------------------------------------------------------------- internals
    def _consider(self, key: AlarmKey, alarm: Alarm | None) -> Annunciation | None:
        """Keep ``key`` among the candidates at its current rank, or drop it; its sound if it is one."""
        ann = self.soundmap.resolve(alarm) if alarm is not None and self._is_candidate(alarm) else None
        if ann is None or alarm is None:
            self._candidates.discard(key)
            return None
        self._candidates.put(key, self._rank(alarm, ann))
        return ann

    def _is_candidate(self, alarm: Alarm) -> bool:
        return alarm.state is AlarmState.UNACK and alarm.audible and alarm.cause is None

    def _rank(self, alarm: Alarm, ann: Annunciation) -> tuple[int, int]:
        return (int(max(alarm.severity, alarm.peak)), ann.sound.rank)

    def _announce(self, alarm: Alarm, ann: Annunciation) -> None:
        rank = self._rank(alarm, ann)
        if self._flood and not self._flood_sounded:
            self._flood_sounded = True
            flood = self.soundmap.special("flood")
            self._current = (
                _Current(alarm.key, ann, rank) if self._current is None or rank > self._current.rank else self._current
            )
            if flood is not None and self._silenced_until is None:
                self.sink.play(flood, 1.0)
                self.plays += 1
                self._next_at = self.clock.now() + max(self._current.ann.repeat_s, 5.0)
                return
        if self._current is None or rank > self._current.rank:
            self._current = _Current(alarm.key, ann, rank)
            if self._silenced_until is None:
                self._play(ann)
            else:
                self._next_at = None
        else:
            self._dirty = True  # equal or lesser: the re-sound cycle covers it; never overlap

    def _play(self, ann: Annunciation) -> None:
        self.sink.play(ann.sound, ann.volume)
        self.plays += 1
        self._next_at = self.clock.now() + ann.repeat_s if ann.repeat_s > 0 else None

    def _ring_back(self) -> None:
        cue = self.soundmap.special("ring_back")
        if cue is None or self._silenced_until is not None:
            return
        if self._current is None:
            self.sink.play(cue, 0.8)
            self.plays += 1

    def _reevaluate(self, *, stop_if_none: bool) -> None:
        self._dirty = False
        best: _Current | None = None
        while (top := self._candidates.best()) is not None:
            key, rank = top
            alarm = self.lookup(key)
            ann = self._consider(key, alarm)  # the top is checked against the alarm as it is now
            if ann is not None and alarm is not None and self._rank(alarm, ann) == rank:
                best = _Current(key, ann, rank)
                break
        previous = self._current
        self._current = best
        if best is None:
            if previous is not None and stop_if_none:
                self.sink.stop()
            self._next_at = None
        elif previous is None or previous.key != best.key:
            if previous is not None and stop_if_none and best.rank < previous.rank:
                self.sink.stop()  # the one that owned the horn is gone: stop it, go on with the lesser one
            if self._next_at is None and best.ann.repeat_s > 0:
                self._next_at = self.clock.now() + best.ann.repeat_s

    def _publish(self) -> None:
        c, last = self._current, self._last_state
        if (
            (c.key if c else None) == last.alarm
            and self._silenced_until == last.silenced_until
            and ((c.ann.sound.name if c and self._silenced_until is None else None) == last.sound)
            and self._testing == last.self_test
        ):
            return  # nothing audible changed (the common case, once per event under load)
        state = self.audible
        self._last_state = state
        self.changed.emit(state)
