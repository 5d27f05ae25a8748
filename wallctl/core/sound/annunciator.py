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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from wallctl.core.alarms.alarm import Alarm, AlarmState
from wallctl.core.alarms.engine import AlarmChange, ChangeKind
from wallctl.core.alarms.event import AlarmKey
from wallctl.core.clock import Clock
from wallctl.core.signal import Signal
from wallctl.core.sound.candidates import Candidates
from wallctl.core.sound.soundmap import Annunciation, Sound, SoundMap
from wallctl.core.sound.voice import Phrasebook, Utterance, Voice


class AudioSink(Protocol):
    """One output channel. ``play`` replaces whatever is playing (and drops what was to follow it); ``follow``
    plays once what is playing now has ended, at once when nothing is; errors are the sink's to report."""

    def play(self, sound: Sound, volume: float) -> None: ...

    def follow(self, sound: Sound, volume: float) -> None: ...

    def stop(self) -> None: ...


class NullSink:
    """For ``--no-audio``, tools and tests: plays nothing, remembers what it was asked to play."""

    def __init__(self) -> None:
        self.played: list[str] = []

    def play(self, sound: Sound, volume: float) -> None:
        self.played.append(sound.name)
        del self.played[:-1000]

    def follow(self, sound: Sound, volume: float) -> None:
        self.play(sound, volume)

    def stop(self) -> None:
        pass


class _Channel:
    """The sink as the annunciator drives it, counting what it was told: ``cue`` names the sound playing now, so
    speech meant to follow one tone is dropped once anything else was played or the horn was stopped."""

    def __init__(self, sink: AudioSink) -> None:
        self.sink = sink
        self.cue = 0

    def play(self, sound: Sound, volume: float) -> None:
        self.cue += 1
        self.sink.play(sound, volume)

    def stop(self) -> None:
        self.cue += 1
        self.sink.stop()

    def follow(self, sound: Sound, volume: float) -> None:
        self.sink.follow(sound, volume)


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


class Annunciator:
    def __init__(
        self,
        clock: Clock,
        soundmap: SoundMap,
        sink: AudioSink,
        lookup: Callable[[AlarmKey], Alarm | None],
        labels: Callable[[str], str] | None = None,
    ) -> None:
        """``labels``: a source id to the name the room knows it by (the topology's), for spoken sentences."""
        self.clock = clock
        self.soundmap = soundmap
        self.sink = sink
        self._out = _Channel(sink)
        self.lookup = lookup
        spec = soundmap.spec.voice
        self.voice = Voice(clock, spec, Phrasebook(spec, labels)) if spec is not None and spec.engine != "off" else None
        self.changed: Signal[[Audible]] = Signal("annunciator change")
        self._candidates = Candidates()
        self._current: _Current | None = None
        self._next_at: float | None = None
        self._silenced_until: float | None = None
        self._flood = False
        self._flood_sounded = False
        self._dirty = False
        self._last_state = Audible(None, None, None)
        self._test_queue: list[Sound | Utterance] = []
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
        self._candidates.discard_many(keys)
        c = self._current
        if c is not None and c.key not in self._candidates:
            self._dirty = True
        self._publish()

    def on_flood(self, active: bool) -> None:
        self._flood = active
        if self.voice is not None:
            self.voice.on_flood(active)
        if not active:
            self._flood_sounded = False

    def silence(self, seconds: float) -> float:
        until = self.clock.now() + seconds
        self._silenced_until = until
        self._out.stop()
        if self.voice is not None:
            self.voice.cancel()
        self._publish()
        return until

    def unsilence(self) -> None:
        if self._silenced_until is not None:
            self._silenced_until = None
            self._reevaluate(stop_if_none=True)
            if self._current is not None:
                self._resound(self._current)
            self._publish()

    def resume(self) -> None:
        """Sound what owns the horn now, at once (a standby controller that just took the wall over)."""
        if self._current is not None and self._silenced_until is None:
            self._resound(self._current)

    def speak(self, utterance: Utterance, clip: Sound) -> bool:
        """``utterance``, synthesised as ``clip``: it follows the tone it belongs to, unless that tone was cut short
        or replaced meanwhile (a higher priority pre-empts speech), and never while the horn is silenced. True when
        it was handed to the channel."""
        if self._silenced_until is not None and utterance.kind != "sample":
            return False
        if utterance.cue is not None and utterance.cue != self._out.cue:
            return False
        volume = self.voice.spec.volume if self.voice is not None else 1.0
        self._out.follow(clip, volume)
        return True

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
        self._test_queue = [*sorted(self.soundmap.sounds.values(), key=lambda s: s.name)]
        if self.voice is not None:
            self._test_queue += self.voice.samples()  # then a sample of every spoken template
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
        item = self._test_queue.pop(0)
        if isinstance(item, Utterance):
            self._out.stop()
            self._testing = f"voice: {item.text}"
            if self.voice is not None:
                self.voice.said.emit(item)
            self._test_next = self.clock.now() + max(self._test_gap, 1.0 + 0.09 * len(item.text))  # ~15 chars/s
            self._publish()
            return
        self._testing = item.name
        self._out.play(item, 1.0)
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
                self._resound(self._current)
        if self._dirty:
            self._reevaluate(stop_if_none=True)
        c = self._current
        if c is not None and self._silenced_until is None and self._next_at is not None and now >= self._next_at:
            self._resound(c)
        if self.voice is not None and self._silenced_until is None:
            self.voice.tick()
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
                self._out.play(flood, 1.0)
                self.plays += 1
                self._next_at = self.clock.now() + max(self._current.ann.repeat_s, 5.0)
                self._spoken(alarm, ann, first=True)  # held for the burst's summary ("12 new alarms. Flood.")
                return
        if self._current is None or rank > self._current.rank:
            self._current = _Current(alarm.key, ann, rank)
            if self._silenced_until is None:
                self._play(ann)
                self._spoken(alarm, ann, first=True)
            else:
                self._next_at = None
        else:
            self._dirty = True  # equal or lesser: the re-sound cycle covers it; never overlap
            if self._silenced_until is None:
                self._spoken(alarm, ann, first=True)  # said after what plays now (no tone of its own)

    def _play(self, ann: Annunciation) -> None:
        self._out.play(ann.sound, ann.volume)
        self.plays += 1
        self._next_at = self.clock.now() + ann.repeat_s if ann.repeat_s > 0 else None

    def _resound(self, current: _Current) -> None:
        self._play(current.ann)
        alarm = self.lookup(current.key)
        if alarm is not None:
            self._spoken(alarm, current.ann, first=False)

    def _spoken(self, alarm: Alarm, ann: Annunciation, *, first: bool) -> None:
        if self.voice is not None:
            self.voice.on_sounded(alarm, ann.sound.priority, self._out.cue, first=first)

    def _ring_back(self) -> None:
        cue = self.soundmap.special("ring_back")
        if cue is None or self._silenced_until is not None:
            return
        if self._current is None:
            self._out.play(cue, 0.8)
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
                self._out.stop()
            self._next_at = None
        elif previous is None or previous.key != best.key:
            if previous is not None and stop_if_none and best.rank < previous.rank:
                self._out.stop()  # the one that owned the horn is gone: stop it, go on with the lesser one
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
