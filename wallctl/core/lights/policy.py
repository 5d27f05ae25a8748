"""Which pattern each channel shows: the ``lights:`` rules over what the annunciator presents, pure and cheap.

The lights follow the annunciator, not the raw events: an alarm counts by the sound map's priority (the same
priority its sound has), by its ISA-18.2 state and by its severity; consequence alarms ride on their cause as they
do for the horn. A ``horn`` channel is on exactly while the horn sounds (ISA-18.1: silence mutes the horn only, so
it turns the buzzer off and leaves the lamps). Rules are read top to bottom, the first that matches sets a channel;
channels no matching rule names are off.

The board keeps a count per (priority, state, severity) as alarms change, so deciding the pattern costs the same
with 200,000 alarms as with one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from wallctl.core.alarms.alarm import Alarm, AlarmState
from wallctl.core.alarms.event import AlarmKey
from wallctl.core.lights.config import Drive, LightRule, LightWhen, Pattern, as_tuple
from wallctl.core.severity import Severity

PRESENTED = frozenset({AlarmState.UNACK.value, AlarmState.ACKED.value, AlarmState.RTNUN.value})
_Class = tuple[str | None, str, int]  # (priority, state, severity) of a counted alarm


@dataclass(frozen=True, slots=True)
class Situation:
    """What the lights follow besides the alarms: the horn, and whether the wall can be trusted."""

    horn: bool  # the annunciator's horn sounds (an unacknowledged alarm owns it, not silenced)
    broker: bool = True  # the broker link is up
    controller: bool = True  # a controller holds the wall

    @property
    def trusted(self) -> bool:
        return self.broker and self.controller


@dataclass(frozen=True, slots=True)
class _Rule:
    when: str | None  # calm, untrusted, or None for an alarm condition
    priorities: frozenset[str] | None
    states: frozenset[str]
    severities: frozenset[int] | None
    channels: tuple[tuple[str, Pattern], ...]

    @classmethod
    def of(cls, rule: LightRule) -> _Rule:
        channels = tuple(rule.channels.items())
        if not isinstance(rule.when, LightWhen):
            return cls(rule.when, None, frozenset(), None, channels)
        w = rule.when
        priorities = frozenset(as_tuple(w.priority)) or None
        states = frozenset(as_tuple(w.state)) or PRESENTED
        severities = frozenset(int(s) for s in as_tuple(w.severity)) or None
        return cls(None, priorities, states, severities, channels)

    def covers(self, cls_: _Class) -> bool:
        priority, state, severity = cls_
        return (
            state in self.states
            and (self.priorities is None or priority in self.priorities)
            and (self.severities is None or severity in self.severities)
        )


class LightBoard:
    def __init__(self, rules: Sequence[LightRule], priority_of: Callable[[Alarm], str | None]) -> None:
        """``priority_of``: the sound map's priority of an alarm (None when it makes no sound)."""
        self.rules = tuple(_Rule.of(r) for r in rules if r is not None)
        self._priority_of = priority_of
        self._held: dict[AlarmKey, tuple[_Class | None, bool]] = {}  # key -> (its class, presented)
        self._counts: Counter[_Class] = Counter()
        self._presented = 0  # alarms in UNACK, ACKED or RTNUN, consequences too: calm needs none

    # ---------------------------------------------------------------- inputs
    def observe(self, key: AlarmKey, alarm: Alarm | None) -> None:
        """An alarm changed (None: it is gone)."""
        held = self._held.pop(key, None)
        if held is not None:
            was, presented = held
            if was is not None:
                self._counts[was] -= 1
                if self._counts[was] <= 0:
                    del self._counts[was]
            self._presented -= presented
        if alarm is None:
            return
        state = alarm.state.value
        if state == AlarmState.NORM.value:
            return
        presented = state in PRESENTED
        cls_: _Class | None = None
        if alarm.cause is None:
            severity = alarm.severity if alarm.severity is not Severity.CLEARED else alarm.peak
            cls_ = (self._priority_of(alarm), state, int(severity))
            self._counts[cls_] += 1
        self._held[key] = (cls_, presented)
        self._presented += presented

    def rebuild(self, alarms: Iterable[Alarm]) -> None:
        self._held.clear()
        self._counts.clear()
        self._presented = 0
        for alarm in alarms:
            self.observe(alarm.key, alarm)

    # ---------------------------------------------------------------- the decision
    def calm(self, situation: Situation) -> bool:
        """Nothing presented to the operator, and every feed and link healthy (a stale feed, a lost site or the
        wall's own failures are alarms, so they are in the count)."""
        return self._presented == 0 and situation.trusted

    def matches(self, rule: _Rule, situation: Situation) -> bool:
        if rule.when == "calm":
            return self.calm(situation)
        if rule.when == "untrusted":
            return not situation.trusted
        return any(rule.covers(c) for c in self._counts)

    def resolve(self, situation: Situation) -> dict[str, Drive]:
        """Each channel some matching rule names, and what it does now; the first matching rule sets it."""
        out: dict[str, Drive] = {}
        for rule in self.rules:
            if not self.matches(rule, situation):
                continue
            for channel, pattern in rule.channels:
                if channel not in out:
                    out[channel] = drive_of(pattern, situation.horn)
        return out


def drive_of(pattern: Pattern, horn: bool) -> Drive:
    """``horn`` is steady while the horn sounds and off otherwise; every other pattern is itself."""
    if pattern == "horn":
        return "steady" if horn else "off"
    return pattern


def channels_of(drives: dict[str, Drive], channels: Iterable[str]) -> dict[str, Drive]:
    """One output's channels: what the rules set, off for the others."""
    return {c: drives.get(c, "off") for c in channels}
