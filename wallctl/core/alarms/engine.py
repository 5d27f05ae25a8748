"""The alarm engine: events in, ISA-18.2 alarms out.

Correlation (alarm key = source + type, optional groups of raise/clear types), the lifecycle, chattering,
stale, flood and first-out, topology-aware consequences and maintenance suppression. Counters the wall state
needs are kept incrementally so a state snapshot is O(1) with 100,000 alarms.

Single-threaded by design: the composition root calls it from one thread only (the Qt main thread).
"""

from __future__ import annotations

import heapq
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from wallctl.core.alarms.alarm import (
    ACTIVE_STATES,
    STANDING_STATES,
    UNACKED_STATES,
    Alarm,
    AlarmState,
    Flag,
)
from wallctl.core.alarms.dominance import DominatorIndex
from wallctl.core.alarms.event import AlarmKey, Event
from wallctl.core.alarms.flood import FloodDetector, FloodPolicy
from wallctl.core.alarms.match import AlarmMatch, Groups
from wallctl.core.clock import Clock
from wallctl.core.severity import Severity
from wallctl.core.signal import Signal


class OperatorError(ValueError):
    """An operator action that cannot be done (unknown alarm, nothing to acknowledge, shelve too long)."""


@dataclass(frozen=True, slots=True)
class CorrelationGroup:
    """Event types that are one alarm: ``raise_types`` raise it, ``clear_types`` clear it."""

    alarm_type: str
    raise_types: frozenset[str]
    clear_types: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    match: AlarmMatch
    start: float
    end: float
    reason: str = ""

    def covers(self, alarm: Alarm, now: float, groups: Groups | None) -> bool:
        return self.start <= now < self.end and self.match.matches(
            source=alarm.source, type=alarm.type, category=alarm.category, severity=alarm.peak, groups=groups
        )


NOTE = "wallctl.note"  # attribute: why the engine did what a reader might not expect (shown as the alarm's note)
SET_ASIDE_STATES = frozenset({AlarmState.SHLVD, AlarmState.DSUPR, AlarmState.OOSRV})
DEFAULT_DOWN_TYPES = frozenset({"node_down", "host_down", "device_down", "unreachable", "ping_lost"})


@dataclass(frozen=True, slots=True)
class EnginePolicy:
    chatter_transitions: int = 3  # ISA-18.2 / EEMUA: 3 or more transitions...
    chatter_window_s: float = 60.0  # ...within one minute
    stale_after_s: float = 86_400.0  # active over 24 h
    max_shelve_s: float = 8 * 3600.0
    flood: FloodPolicy = field(default_factory=FloodPolicy)
    correlation: tuple[CorrelationGroup, ...] = ()
    latching: tuple[AlarmMatch, ...] = ()
    down_types: frozenset[str] = DEFAULT_DOWN_TYPES
    remembered_ids: int = 100_000  # event ids kept to drop redeliveries
    clock_skew_s: float = 60.0  # an event stamped older than the alarm's last transition by more is out of order


class ChangeKind(StrEnum):
    NEW = "new"
    UPDATE = "update"
    ESCALATE = "escalate"
    REALARM = "realarm"
    CLEAR = "clear"
    ACK = "ack"
    SHELVE = "shelve"
    UNSHELVE = "unshelve"
    SUPPRESS = "suppress"
    OUT_OF_SERVICE = "out_of_service"
    FLAGS = "flags"


@dataclass(frozen=True, slots=True)
class AlarmChange:
    key: AlarmKey
    kind: ChangeKind
    old_state: AlarmState
    state: AlarmState
    severity: Severity
    annunciate: bool = False  # a live transition that should sound now
    ring_back: bool = False  # an audible unacknowledged alarm returned to normal
    replay: bool = False  # from retained messages replayed at start, or a site's backlog: never sounds


@dataclass(frozen=True, slots=True)
class Counts:
    active: int
    unacked: int
    shelved: int
    suppressed: int
    by_severity: dict[str, int]
    by_state: dict[str, int]
    highest: Severity | None


class AlarmEngine:
    def __init__(
        self,
        clock: Clock,
        policy: EnginePolicy | None = None,
        *,
        dominators: DominatorIndex | None = None,
        groups: Groups | None = None,
        maintenance: Iterable[MaintenanceWindow] = (),
    ) -> None:
        self.clock = clock
        self.policy = policy or EnginePolicy()
        self.groups = groups
        self.dominators = dominators
        self.maintenance: list[MaintenanceWindow] = list(maintenance)
        self.changed: Signal[[AlarmChange]] = Signal("alarm change")
        # many alarms changed the same way at once (ack_all): subscribers look the keys up, one signal for all
        self.bulk_changed: Signal[[ChangeKind, list[AlarmKey]]] = Signal("bulk alarm change")
        self.flood_changed: Signal[[bool]] = Signal("flood change")
        self.flood = FloodDetector(self.policy.flood)
        self._flood_was = False
        self._alarms: dict[AlarmKey, Alarm] = {}
        self._by_source: dict[str, set[AlarmKey]] = {}
        self._seen_ids: OrderedDict[str, int | None] = OrderedDict()
        self._transitions: dict[AlarmKey, list[float]] = {}
        self._chattering: set[AlarmKey] = set()
        self._shelf_heap: list[tuple[float, AlarmKey]] = []
        self._down: dict[str, AlarmKey] = {}  # node -> the down alarm that makes it a cause
        self._state_counts: Counter[AlarmState] = Counter()
        self._active_sev: Counter[Severity] = Counter()
        self._standing_sev: Counter[Severity] = Counter()
        self._set_aside_sev: Counter[Severity] = Counter()  # shelved, suppressed, out of service, by severity
        self._type_of: dict[str, tuple[str, bool]] = {}
        for group in self.policy.correlation:
            for t in group.raise_types:
                self._type_of[t] = (group.alarm_type, False)
            for t in group.clear_types:
                self._type_of[t] = (group.alarm_type, True)
        self._next_stale_scan = 0.0
        self._maint_edges_seen: float = clock.now()
        self._by_cause: dict[AlarmKey, set[AlarmKey]] = {}  # cause -> its consequences
        self._unacked_heap: list[tuple[float, AlarmKey]] = []  # (first, key), stale entries dropped lazily
        self._last_clear: OrderedDict[AlarmKey, float] = OrderedDict()  # event time of clears that left the table
        self.events_applied = 0
        self.duplicates_dropped = 0  # redeliveries: a known id with the same payload, ignored
        self.duplicates_differing = 0  # a known id with another payload: applied, and said on diagnostics
        self.out_of_order = 0  # events older than the alarm's last transition: not applied
        self.anomaly: Signal[[str, str]] = Signal("event anomaly")  # (kind, detail) for diagnostics

    # ------------------------------------------------------------------ queries
    def __len__(self) -> int:
        return len(self._alarms)

    def __iter__(self) -> Iterator[Alarm]:
        return iter(self._alarms.values())

    def get(self, key: AlarmKey) -> Alarm | None:
        return self._alarms.get(key)

    def alarms_of(self, source: str) -> list[Alarm]:
        return [self._alarms[k] for k in self._by_source.get(source, ())]

    def consequences_of(self, key: AlarmKey) -> list[Alarm]:
        return [self._alarms[k] for k in self._by_cause.get(key, ()) if k in self._alarms]

    def counts(self) -> Counts:
        sc = self._state_counts
        highest = next((s for s in sorted(self._standing_sev, reverse=True) if self._standing_sev[s] > 0), None)
        return Counts(
            active=sum(sc[s] for s in ACTIVE_STATES),
            unacked=sc[AlarmState.UNACK] + sc[AlarmState.RTNUN],
            shelved=sc[AlarmState.SHLVD],
            suppressed=sc[AlarmState.DSUPR] + sc[AlarmState.OOSRV],
            by_severity={s.label: n for s, n in sorted(self._active_sev.items(), reverse=True) if n > 0},
            by_state={s.value: n for s, n in sc.items() if n > 0},
            highest=highest,
        )

    def set_aside_by_severity(self) -> Counter[Severity]:
        """Shelved, suppressed and out-of-service alarms by severity, kept as they change (no scan)."""
        return self._set_aside_sev

    def oldest_unacked(self) -> float | None:
        """The ``first`` time of the oldest unacknowledged alarm, in O(log n): a heap with stale entries dropped
        as they surface (the summary tile scanned 200,000 alarms for it, a 100-200 ms pause)."""
        h, alarms = self._unacked_heap, self._alarms
        while h:
            first, key = h[0]
            a = alarms.get(key)
            if a is not None and a.first == first and a.state is AlarmState.UNACK:
                return first
            heapq.heappop(h)
        return None

    def _note_unacked(self, alarm: Alarm) -> None:
        h = self._unacked_heap
        heapq.heappush(h, (alarm.first, alarm.key))
        if len(h) > 2 * len(self._alarms) + 1000:  # repeated updates of unacknowledged alarms: start afresh
            self._unacked_heap = [(a.first, a.key) for a in self._alarms.values() if a.state is AlarmState.UNACK]
            heapq.heapify(self._unacked_heap)

    def seen_ids(self) -> list[str]:
        return list(self._seen_ids)

    @property
    def duplicates(self) -> int:
        return self.duplicates_dropped + self.duplicates_differing

    # ------------------------------------------------------------------ events
    def ingest(self, event: Event) -> AlarmChange | None:
        """Fold one event into the alarm picture; returns the change it made, if any."""
        if event.id is not None and not self._first_sight(event):
            return None
        self.events_applied += 1
        alarm_type, is_clear = self._type_of.get(event.type, (event.type, False))
        is_clear = is_clear or event.is_clear
        key = (event.source, alarm_type)
        if self._out_of_order(key, event, is_clear):
            return None
        now = self.clock.now()
        if is_clear:
            return self._clear(key, event, now)
        return self._raise(key, alarm_type, event, now)

    def _first_sight(self, event: Event) -> bool:
        """False for a redelivery (known id, same payload). A known id with another payload is a source reusing
        ids: dropping it could hide a critical, so it is applied and reported."""
        assert event.id is not None
        fp = event.fingerprint
        seen = self._seen_ids
        if event.id in seen:
            known = seen[event.id]
            if known is None or fp is None or known == fp:
                self.duplicates_dropped += 1
                return False
            self.duplicates_differing += 1
            self.anomaly.emit(
                "duplicate_id",
                f"event id {event.id!r:.80} reused with a different payload ({event.source}/{event.type} "
                f"{event.severity.label}): applied",
            )
            seen.move_to_end(event.id)
        seen[event.id] = fp
        if len(seen) > self.policy.remembered_ids:
            seen.popitem(last=False)
        return True

    def _out_of_order(self, key: AlarmKey, event: Event, is_clear: bool) -> bool:
        """An event stamped before the alarm's last transition (beyond the clock skew) must not undo it."""
        if not event.stamped:
            return False  # no source time: it happened when it arrived, after everything before it
        alarm = self._alarms.get(key)
        limit = self.policy.clock_skew_s
        if alarm is not None:
            stale = event.time < alarm.last - limit if (is_clear or not alarm.in_alarm) else False
        else:
            cleared = self._last_clear.get(key)
            stale = not is_clear and cleared is not None and event.time < cleared - limit
        if stale:
            self.out_of_order += 1
            what = "clear" if is_clear else "raise"
            self.anomaly.emit(
                "out_of_order",
                f"{what} of {key[0]}/{key[1]} stamped {event.time:.0f} is older than the alarm's last change "
                f"({(alarm.last if alarm else self._last_clear[key]):.0f}) by more than {limit:g} s: not applied",
            )
        return stale

    def _raise(self, key: AlarmKey, alarm_type: str, event: Event, now: float) -> AlarmChange | None:
        live = event.live  # not the retained picture, nor a branch site's backlog
        alarm = self._alarms.get(key)
        if alarm is None:
            alarm = Alarm(
                source=event.source,
                type=alarm_type,
                category=event.category,
                severity=event.severity,
                peak=event.severity,
                first=event.time,
                last=event.time,
                text=event.text,
                audible=live,
                raised_at=now,
                latching=self._is_latching(event),
                attributes=dict(event.attributes),
                site=event.site,
            )
            self._alarms[key] = alarm
            self._by_source.setdefault(event.source, set()).add(key)
            old_sig = None
            self._note_transition(key, now)
            self._refresh_cause(alarm)
            alarm.suppressed = self._in_maintenance(alarm, now)
            kind = ChangeKind.NEW
            annunciate = live and not self._quiet(alarm)
            if live:
                first_out = self.flood.new_alarm(key, now)
                if first_out is not None and first_out in self._alarms:
                    self._alarms[first_out].flags.add(Flag.FIRST_OUT)
                self._check_flood_edge()
            if event.type in self.policy.down_types or alarm_type in self.policy.down_types:
                self._node_down(event.source, key)
            elif event.severity >= Severity.MAJOR and self._leads_others(event.source):
                alarm.attributes[NOTE] = (
                    f"not grouped: {alarm_type} is not a down type, so alarms of the nodes behind {event.source} "
                    f"stay separate (engine.down_types: {', '.join(sorted(self.policy.down_types))})"
                )
        else:
            if event.retained and alarm.in_alarm and alarm.severity == event.severity:
                return None  # the same retained picture delivered again: nothing new
            old_sig = self._signature(alarm)
            old_state = alarm.state
            alarm.last = max(alarm.last, event.time)
            alarm.count += 1
            if event.text:
                alarm.text = event.text
            if event.category and not alarm.category:
                alarm.category = event.category
            if event.attributes:
                alarm.attributes.update(event.attributes)
            if event.site is not None:
                alarm.site = event.site
            annunciate = False
            if not alarm.in_alarm:  # back into alarm from RTNUN (or a latched RTN)
                alarm.in_alarm, alarm.acked = True, False
                alarm.flags.discard(Flag.LATCHED)
                alarm.raised_at = now
                # a retained replay keeps what it was; a site's backlog is quiet until its site has caught up
                alarm.audible = live or (alarm.audible and event.retained)
                self._note_transition(key, now)
                kind = ChangeKind.REALARM
                annunciate = live and not self._quiet(alarm)
                if event.type in self.policy.down_types or alarm_type in self.policy.down_types:
                    self._node_down(event.source, key)
            elif event.severity > alarm.severity:
                kind = ChangeKind.REALARM if alarm.acked else ChangeKind.ESCALATE
                alarm.acked = False
                alarm.audible = alarm.audible or live
                annunciate = live and not alarm.cause
            else:
                kind = ChangeKind.UPDATE
            alarm.severity = event.severity
            alarm.peak = max(alarm.peak, event.severity)
            self._apply_counts(alarm, old_sig)
            return self._emit(alarm, kind, old_state, annunciate=annunciate, replay=not live)
        self._apply_counts(alarm, old_sig)
        return self._emit(alarm, kind, AlarmState.NORM, annunciate=annunciate, replay=not live)

    def _clear(self, key: AlarmKey, event: Event, now: float) -> AlarmChange | None:
        alarm = self._alarms.get(key)
        if alarm is None or not alarm.in_alarm:
            return None
        old_sig = self._signature(alarm)
        old_state = alarm.state
        ring_back = event.live and old_state is AlarmState.UNACK and alarm.audible and alarm.cause is None
        alarm.in_alarm = False
        alarm.severity = Severity.CLEARED
        alarm.last = max(alarm.last, event.time)
        if event.text:
            alarm.text = event.text
        if alarm.latching:
            alarm.acked = False
            alarm.flags.add(Flag.LATCHED)
        alarm.flags.discard(Flag.STALE)
        self._note_transition(key, now)
        if self._down.get(key[0]) == key:
            self._node_up(key[0])
        self._apply_counts(alarm, old_sig)
        return self._emit(alarm, ChangeKind.CLEAR, old_state, ring_back=ring_back, replay=not event.live)

    # ------------------------------------------------------------------ operator actions
    def ack(self, key: AlarmKey) -> AlarmChange:
        alarm = self._require(key)
        if alarm.acked:
            raise OperatorError(f"alarm {key[0]}/{key[1]} is already acknowledged ({alarm.state.value})")
        old_sig, old_state = self._signature(alarm), alarm.state
        alarm.acked = True
        alarm.flags.discard(Flag.LATCHED)
        self._apply_counts(alarm, old_sig)
        return self._emit(alarm, ChangeKind.ACK, old_state)

    def ack_all(self) -> int:
        return len(self.ack_many([a.key for a in self._alarms.values() if a.state in UNACKED_STATES]))

    def ack_many(self, keys: Iterable[AlarmKey]) -> list[AlarmKey]:
        """Acknowledge those of ``keys`` still unacknowledged, with one ``bulk_changed`` for all of them.

        ``ack_all`` on 200,000 alarms took 5 s through one change (and its seven subscribers) per alarm."""
        done: list[AlarmKey] = []
        append, alarms, latched, norm = done.append, self._alarms, Flag.LATCHED, AlarmState.NORM
        # counted once per kind of move, not per alarm: (state before, severity, state after) -> alarms
        moved: dict[tuple[AlarmState, Severity, AlarmState], int] = {}
        for key in keys:
            alarm = alarms.get(key)
            if alarm is None or alarm.acked:
                continue
            before = alarm.state
            alarm.acked = True
            alarm.flags.discard(latched)
            after = alarm.state
            move = (before, alarm.severity, after)
            moved[move] = moved.get(move, 0) + 1
            if after is norm and not alarm.in_alarm:
                self._drop(alarm)
            append(key)
        for (before, severity, after), n in moved.items():
            if before is not after:
                self._count((before, severity), -n)
                self._count((after, severity), n)
        if done:
            if self._state_counts[AlarmState.UNACK] == 0:  # the usual end of an ack_all: no stale entry to pop
                self._unacked_heap.clear()
            self.bulk_changed.emit(ChangeKind.ACK, done)
        return done

    def sound_late(self, key: AlarmKey) -> AlarmChange | None:
        """A quiet alarm (from a site's backlog) still standing unacknowledged once its site has caught up: it takes
        part in the horn after all. Alarms that came and went in the backlog never do."""
        alarm = self._alarms.get(key)
        if alarm is None or alarm.state is not AlarmState.UNACK:
            return None
        alarm.audible = True
        return self._emit(alarm, ChangeKind.UPDATE, alarm.state, annunciate=not self._quiet(alarm))

    def compact_unacked(self) -> None:
        """Drop the acknowledged entries of the oldest-unacknowledged heap, O(entries). An ``ack_all`` calls it
        as a slice of its own when alarms raised meanwhile keep the heap from emptying: left for
        ``oldest_unacked`` to pop, 200,000 stale entries stalled the next paint of the summary tile for 0.3 s."""
        h, alarms = self._unacked_heap, self._alarms
        if len(h) <= 2 * self._state_counts[AlarmState.UNACK] + 1024:
            return
        kept = []
        for first, key in h:
            a = alarms.get(key)
            if a is not None and a.first == first and a.state is AlarmState.UNACK:
                kept.append((first, key))
        heapq.heapify(kept)
        self._unacked_heap = kept

    def shelve(self, key: AlarmKey, seconds: float) -> AlarmChange:
        alarm = self._require(key)
        if not 0 < seconds <= self.policy.max_shelve_s:
            raise OperatorError(
                f"shelve time {seconds:g} s is out of range; expected more than 0 and at most "
                f"{self.policy.max_shelve_s:g} s"
            )
        old_sig, old_state = self._signature(alarm), alarm.state
        until = self.clock.now() + seconds
        alarm.shelved_until = until
        heapq.heappush(self._shelf_heap, (until, key))
        self._apply_counts(alarm, old_sig)
        return self._emit(alarm, ChangeKind.SHELVE, old_state)

    def unshelve(self, key: AlarmKey) -> AlarmChange:
        alarm = self._require(key)
        if alarm.shelved_until is None:
            raise OperatorError(f"alarm {key[0]}/{key[1]} is not shelved ({alarm.state.value})")
        return self._unshelve(alarm)

    def _unshelve(self, alarm: Alarm) -> AlarmChange:
        old_sig, old_state = self._signature(alarm), alarm.state
        alarm.shelved_until = None
        self._apply_counts(alarm, old_sig)
        return self._emit(
            alarm, ChangeKind.UNSHELVE, old_state, annunciate=alarm.state is AlarmState.UNACK and not self._quiet(alarm)
        )

    def set_out_of_service(self, key: AlarmKey, out: bool) -> AlarmChange:
        alarm = self._require(key)
        old_sig, old_state = self._signature(alarm), alarm.state
        alarm.out_of_service = out
        self._apply_counts(alarm, old_sig)
        return self._emit(alarm, ChangeKind.OUT_OF_SERVICE, old_state)

    def add_maintenance(self, window: MaintenanceWindow) -> None:
        self.maintenance.append(window)
        self._reapply_maintenance(self.clock.now())

    def _require(self, key: AlarmKey) -> Alarm:
        alarm = self._alarms.get(key)
        if alarm is None:
            raise OperatorError(f"no active alarm {key[0]}/{key[1]}")
        return alarm

    # ------------------------------------------------------------------ timers
    def tick(self) -> None:
        """Run the timers: shelves that end, chattering that settles, stale alarms, flood end, maintenance."""
        now = self.clock.now()
        while self._shelf_heap and self._shelf_heap[0][0] <= now:
            until, key = heapq.heappop(self._shelf_heap)
            alarm = self._alarms.get(key)
            if alarm is not None and alarm.shelved_until == until:
                self._unshelve(alarm)
        for key in list(self._chattering):
            self._note_transition(key, now, add=False)
        self.flood.update(now)
        self._check_flood_edge()
        if now >= self._next_stale_scan:
            self._next_stale_scan = now + 10.0
            window = now - self.policy.chatter_window_s
            for key in [k for k, times in self._transitions.items() if not times or times[-1] <= window]:
                if key not in self._chattering:  # transition history older than the window: forget it
                    del self._transitions[key]
            horizon = now - self.policy.stale_after_s
            for alarm in list(self._alarms.values()):
                if alarm.in_alarm and alarm.raised_at <= horizon and Flag.STALE not in alarm.flags:
                    alarm.flags.add(Flag.STALE)
                    self._emit(alarm, ChangeKind.FLAGS, alarm.state)
        if self.maintenance and any(
            self._maint_edges_seen < e <= now for w in self.maintenance for e in (w.start, w.end)
        ):
            self._reapply_maintenance(now)
        self._maint_edges_seen = now
        self.maintenance = [w for w in self.maintenance if w.end > now]

    def next_deadline(self) -> float | None:
        deadlines = [d for d, _ in self._shelf_heap[:1]]
        return min(deadlines) if deadlines else None

    # ------------------------------------------------------------------ journal support
    def restore(self, alarms: Iterable[Alarm], seen_ids: Iterable[tuple[str, int | None]] = ()) -> None:
        """Rebuild the picture from the journal (at start, before any event)."""
        for alarm in alarms:
            self._alarms[alarm.key] = alarm
            self._by_source.setdefault(alarm.source, set()).add(alarm.key)
            self._apply_counts(alarm, None)
            if alarm.shelved_until is not None:
                heapq.heappush(self._shelf_heap, (alarm.shelved_until, alarm.key))
            if alarm.in_alarm and alarm.type in self.policy.down_types:
                self._down[alarm.source] = alarm.key
            if Flag.CHATTERING in alarm.flags:
                self._chattering.add(alarm.key)
            if alarm.cause is not None:
                self._by_cause.setdefault(alarm.cause, set()).add(alarm.key)
            if alarm.state is AlarmState.UNACK:
                self._unacked_heap.append((alarm.first, alarm.key))
        for i, fp in seen_ids:
            self._seen_ids[i] = fp
        heapq.heapify(self._unacked_heap)

    def restore_flood(self, active: bool, started_at: float | None, per_minute: dict[int, int]) -> None:
        """The flood state and the rate history of the last window, as the journal kept them."""
        self.flood.restore(active, started_at, per_minute, self.clock.now())
        self._flood_was = self.flood.active

    # ------------------------------------------------------------------ internals
    def _signature(self, alarm: Alarm) -> tuple[AlarmState, Severity]:
        return alarm.state, alarm.severity

    def _apply_counts(self, alarm: Alarm, old: tuple[AlarmState, Severity] | None) -> None:
        new = (alarm.state, alarm.severity)
        if old == new:
            return
        if old is not None:
            self._count(old, -1)
        self._count(new, +1)

    def _count(self, sig: tuple[AlarmState, Severity], delta: int) -> None:
        state, sev = sig
        self._state_counts[state] += delta
        if state in ACTIVE_STATES:
            self._active_sev[sev] += delta
        if state in STANDING_STATES:
            self._standing_sev[sev] += delta
        elif state in SET_ASIDE_STATES:
            self._set_aside_sev[sev] += delta

    def _emit(
        self,
        alarm: Alarm,
        kind: ChangeKind,
        old_state: AlarmState,
        *,
        annunciate: bool = False,
        ring_back: bool = False,
        replay: bool = False,
    ) -> AlarmChange:
        state = alarm.state
        if state is AlarmState.NORM:
            self._drop(alarm)  # gone before anyone hears of it: subscribers see engine.get(key) is None
        elif state is AlarmState.UNACK:
            self._note_unacked(alarm)
        change = AlarmChange(
            key=(alarm.source, alarm.type),
            kind=kind,
            old_state=old_state,
            state=state,
            severity=alarm.severity,
            annunciate=annunciate and alarm.audible and state is AlarmState.UNACK,
            ring_back=ring_back,
            replay=replay,
        )
        self.changed.emit(change)
        return change

    def _drop(self, alarm: Alarm) -> None:
        if self._alarms.get(alarm.key) is not alarm:
            return
        if alarm.cause is not None:
            self._set_cause(alarm, None)
        self._last_clear[alarm.key] = alarm.last
        self._last_clear.move_to_end(alarm.key)
        if len(self._last_clear) > self.policy.remembered_ids:
            self._last_clear.popitem(last=False)
        self._count((alarm.state, alarm.severity), -1)
        del self._alarms[alarm.key]
        keys = self._by_source.get(alarm.source)
        if keys is not None:
            keys.discard(alarm.key)
            if not keys:
                del self._by_source[alarm.source]

    def _leads_others(self, node: str) -> bool:
        d = self.dominators
        return d is not None and node in d and bool(d.dominated(node))

    def _quiet(self, alarm: Alarm) -> bool:
        """Alarms that must not start a sound by themselves: consequences and chattering ones."""
        return alarm.cause is not None or Flag.CHATTERING in alarm.flags

    def _is_latching(self, event: Event) -> bool:
        return any(
            m.matches(
                source=event.source,
                type=event.type,
                category=event.category,
                severity=event.severity,
                groups=self.groups,
            )
            for m in self.policy.latching
        )

    def _note_transition(self, key: AlarmKey, now: float, *, add: bool = True) -> None:
        times = self._transitions.setdefault(key, [])
        if add:
            times.append(now)
        horizon = now - self.policy.chatter_window_s
        while times and times[0] <= horizon:
            times.pop(0)
        chattering = len(times) >= self.policy.chatter_transitions
        alarm = self._alarms.get(key)
        if not times:
            del self._transitions[key]
        if chattering and key not in self._chattering:
            self._chattering.add(key)
            if alarm is not None:
                alarm.flags.add(Flag.CHATTERING)
        elif not chattering and key in self._chattering and not add:
            self._chattering.discard(key)
            if alarm is not None and Flag.CHATTERING in alarm.flags:
                alarm.flags.discard(Flag.CHATTERING)
                self._emit(alarm, ChangeKind.FLAGS, alarm.state)

    def _check_flood_edge(self) -> None:
        if self.flood.active != self._flood_was:
            self._flood_was = self.flood.active
            self.flood_changed.emit(self.flood.active)

    def _in_maintenance(self, alarm: Alarm, now: float) -> bool:
        return any(w.covers(alarm, now, self.groups) for w in self.maintenance)

    def _reapply_maintenance(self, now: float) -> None:
        for alarm in list(self._alarms.values()):
            suppressed = self._in_maintenance(alarm, now)
            if suppressed != alarm.suppressed:
                old_sig, old_state = self._signature(alarm), alarm.state
                alarm.suppressed = suppressed
                self._apply_counts(alarm, old_sig)
                self._emit(alarm, ChangeKind.SUPPRESS, old_state)

    # topology-aware suppression ---------------------------------------------------------
    def _refresh_cause(self, alarm: Alarm) -> bool:
        """Point ``alarm.cause`` at the top-most down node that dominates its source; True if it changed."""
        cause: AlarmKey | None = None
        if self.dominators is not None and self._down:
            for node in reversed(self.dominators.dominators(alarm.source)):
                down_key = self._down.get(node)
                if down_key is not None:
                    cause = down_key
                    break
        if cause == alarm.cause:
            return False
        self._set_cause(alarm, cause)
        return True

    def _set_cause(self, alarm: Alarm, cause: AlarmKey | None) -> None:
        """Keep the cause -> consequences index with the field: a list tile groups 200,000 alarms by it."""
        old = alarm.cause
        if old is not None:
            keys = self._by_cause.get(old)
            if keys is not None:
                keys.discard(alarm.key)
                if not keys:
                    del self._by_cause[old]
        alarm.cause = cause
        if cause is not None:
            self._by_cause.setdefault(cause, set()).add(alarm.key)

    def _node_down(self, node: str, key: AlarmKey) -> None:
        self._down[node] = key
        self._recompute_causes(node)

    def _node_up(self, node: str) -> None:
        del self._down[node]
        self._recompute_causes(node)

    def _recompute_causes(self, node: str) -> None:
        if self.dominators is None or node not in self.dominators:
            return
        for n in self.dominators.dominated(node):
            for k in list(self._by_source.get(n, ())):
                alarm = self._alarms[k]
                if self._refresh_cause(alarm):
                    # back as itself: an unacknowledged alarm whose cause cleared sounds as a problem of its own
                    self._emit(
                        alarm, ChangeKind.FLAGS, alarm.state, annunciate=alarm.cause is None and not self._quiet(alarm)
                    )
