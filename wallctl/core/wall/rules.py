"""Rules that pick the wall's mode and focus from the live alarms, without ever flickering.

Each rule, when its condition holds, *engages*; it stays engaged until the condition has been false for its
hold-down time (time hysteresis) and, for counts, until the count falls below ``count_exit_below`` (value
hysteresis). The highest-priority engaged rule wins (ties: the one engaged first). A switch to a higher
priority is immediate; any other switch waits for the current mode's minimum dwell. A manual pin overrides the
rules until it ends, is released, or an alarm severe enough to break pins arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from wallctl.core.alarms.alarm import Alarm, AlarmState
from wallctl.core.alarms.event import AlarmKey
from wallctl.core.alarms.match import AlarmMatch, Groups
from wallctl.core.clock import Clock
from wallctl.core.files.spec import spec
from wallctl.core.severity import Severity


@dataclass(frozen=True)
class Condition(AlarmMatch):
    """Which live alarms make a rule engage. Alarm criteria as in every match, plus wall-wide ones."""

    unacked_only: bool = spec("count only unacknowledged alarms", default=False)
    count_at_least: int = spec("engage when at least this many alarms match", default=1, minimum=0)
    count_exit_below: int | None = spec(
        "once engaged, stay until fewer than this match (hysteresis)", default=None, minimum=1
    )
    flood: bool | None = spec("true: only during an alarm flood; false: only outside one", default=None)
    link_down: bool | None = spec("true: only while the broker link is down", default=None)
    incident_status: tuple[str, ...] = spec(
        "only while an open incident has one of these statuses, as the ticket system reports it (e.g. major): the "
        "wall follows the incident process",
        default=(),
    )


@dataclass(frozen=True)
class Rule:
    name: str = spec("unique rule name (shown on the banner as the reason)")
    mode: str = spec("mode to show while the rule is engaged")
    when: Condition = spec("condition on the live alarms", default_factory=Condition)
    priority: int = spec("higher wins", default=0)
    focus_region: str | None = spec("region of the mode to focus; default the mode's focus region", default=None)
    focus_target: str | None = spec(
        "what the focus region shows: 'source' (the worst matching alarm's source), 'site' (the branch site it "
        "came from, e.g. a site_link_down alarm's: the map shows the topology site of that name), a node or site "
        "id, or nothing",
        default="source",
    )
    min_dwell_s: float = spec("once shown, keep the mode at least this long", default=20.0, minimum=0)
    hold_down_s: float = spec("keep engaged this long after the condition clears", default=60.0, minimum=0)
    break_pin: bool = spec("engaging this rule ends a manual pin", default=False)


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...] = spec("rules, any order; priority decides", default=())
    pin_break_severity: Severity | None = spec(
        "a new unacknowledged alarm this severe ends a manual pin (null: pins always hold)", default=Severity.CRITICAL
    )


@dataclass(frozen=True, slots=True)
class Pin:
    mode: str
    until: float
    origin: str
    focus: str | None = None  # a node or site the operator asked the focus region to show


@dataclass(frozen=True, slots=True)
class Decision:
    mode: str
    focus_region: str | None
    focus_target: str | None
    reason: str  # rule name, "pin", or "default"
    rules_choice: str  # the mode the rules would show now
    pin: Pin | None
    since: float


@dataclass(slots=True)
class _RuleState:
    engaged_at: float | None = None
    false_since: float | None = None
    order: int = 0


class RuleEngine:
    """Keeps, per rule, the set of alarms that match it (updated per alarm change, O(rules)), so deciding the
    mode is cheap even with 10,000 standing alarms."""

    def __init__(
        self,
        rules: RuleSet,
        default_mode: str,
        clock: Clock,
        lookup: Callable[[AlarmKey], Alarm | None],
        *,
        groups: Groups | None = None,
        focus_regions: dict[str, str | None] | None = None,
    ) -> None:
        self.rules = rules
        self.default_mode = default_mode
        self.clock = clock
        self.lookup = lookup
        self.groups = groups
        self.focus_regions = dict(focus_regions or {})
        self._states = {r.name: _RuleState() for r in rules.rules}
        self._matches: dict[str, set[AlarmKey]] = {r.name: set() for r in rules.rules}
        # which rules an alarm matches depends only on these facts: remember the answer (the rules are fixed)
        self._memo: dict[tuple[AlarmKey, str | None, Severity, bool], tuple[bool, ...]] = {}
        self._by_source = any(r.when.sources or r.when.groups for r in rules.rules)
        # the match counts at which a rule starts or stops holding: a change that reaches one is decided at once
        self._edges = [
            frozenset(t for t in (r.when.count_at_least, r.when.count_exit_below) if t is not None) for r in rules.rules
        ]
        self.crossed = False  # an alarm change since the last ``take_crossed`` moved a rule across its threshold
        self._decision: Decision | None = None
        self._current_rule: Rule | None = None
        self._pin: Pin | None = None
        self._engage_counter = 0

    # ---------------------------------------------------------------- inputs
    def observe(self, key: AlarmKey, alarm: Alarm | None) -> None:
        """An alarm changed (``None``: it is gone); update which rules it counts for."""
        hits = self._hits_of(key, alarm)
        for i, rule in enumerate(self.rules.rules):
            matched = self._matches[rule.name]
            if hits and hits[i]:
                if key not in matched:
                    matched.add(key)
                    if len(matched) in self._edges[i]:
                        self.crossed = True
            elif key in matched:
                matched.discard(key)
                if len(matched) + 1 in self._edges[i]:
                    self.crossed = True

    def take_crossed(self) -> bool:
        """Whether a rule's match count crossed one of its thresholds since the last call (the mode may change:
        worth deciding now rather than at the end of a burst of events)."""
        crossed, self.crossed = self.crossed, False
        return crossed

    def acknowledged(self, keys: list[AlarmKey]) -> None:
        """Many alarms acknowledged at once (``ack_all``): they leave the rules that count only unacknowledged
        ones and stay in the others; an acknowledged RTNUN alarm was in none. No rule is matched again."""
        for rule in self.rules.rules:
            if rule.when.unacked_only:
                self._matches[rule.name].difference_update(keys)

    def _hits_of(self, key: AlarmKey, alarm: Alarm | None) -> tuple[bool, ...]:
        """Which rules ``alarm`` counts for, one flag per rule; () for none."""
        state = alarm.state if alarm is not None else None
        if alarm is None or state not in (AlarmState.UNACK, AlarmState.ACKED):
            return ()
        # rules that never name sources or groups answer the same for every source: one entry per type
        memo = (key if self._by_source else ("", key[1]), alarm.category, alarm.severity, state is AlarmState.UNACK)
        cached = self._memo.get(memo)
        if cached is None:
            if len(self._memo) > 100_000:
                self._memo.clear()
            cached = self._memo[memo] = self._hits(alarm)
        return cached

    def _hits(self, alarm: Alarm) -> tuple[bool, ...]:
        unacked = alarm.state is AlarmState.UNACK
        return tuple(
            (unacked or not r.when.unacked_only)
            and r.when.matches(
                source=alarm.source,
                type=alarm.type,
                category=alarm.category,
                severity=alarm.severity,
                groups=self.groups,
            )
            for r in self.rules.rules
        )

    def rebuild(self, alarms: Iterable[Alarm]) -> None:
        """From every alarm (a restore): the sets start empty, so only what matches is added."""
        sets = [self._matches[r.name] for r in self.rules.rules]
        for m in sets:
            m.clear()
        self.crossed = False
        for a in alarms:
            hits = self._hits_of(a.key, a)
            if hits:
                for matched, hit in zip(sets, hits, strict=True):
                    if hit:
                        matched.add(a.key)

    def pin(self, mode: str, seconds: float, origin: str, focus: str | None = None) -> Pin:
        self._pin = Pin(mode, self.clock.now() + seconds, origin, focus)
        return self._pin

    def release(self) -> bool:
        had = self._pin is not None
        self._pin = None
        return had

    @property
    def pinned(self) -> Pin | None:
        return self._pin

    @property
    def decision(self) -> Decision | None:
        return self._decision

    def break_pin_for(self, severity: Severity) -> bool:
        """A new unacknowledged alarm arrived; end the pin if it is severe enough."""
        limit = self.rules.pin_break_severity
        if self._pin is not None and limit is not None and severity >= limit:
            self._pin = None
            self.crossed = True  # the rules' mode comes back: decided at once
            return True
        return False

    def evaluate(
        self, *, flood: bool, link_down: bool, incidents: frozenset[str] = frozenset(), commit: bool = True
    ) -> Decision:
        """Decide the mode and focus for now; ``incidents``: the statuses of the open incidents (lower case).
        ``commit=False``: a look at what would be decided (its mode), kept neither as the last decision nor as the
        base of the next one's dwell and focus (the focus stays where the published decision put it)."""
        now = self.clock.now()
        best: Rule | None = None
        for rule in self.rules.rules:
            st = self._states[rule.name]
            if self._holds(
                rule, flood=flood, link_down=link_down, incidents=incidents, engaged=st.engaged_at is not None
            ):
                st.false_since = None
                if st.engaged_at is None:
                    st.engaged_at = now
                    self._engage_counter += 1
                    st.order = self._engage_counter
                    if rule.break_pin and self._pin is not None:
                        self._pin = None
            elif st.engaged_at is not None:
                if st.false_since is None:
                    st.false_since = now
                if now - st.false_since >= rule.hold_down_s:
                    st.engaged_at, st.false_since = None, None
            if st.engaged_at is not None and (best is None or _better(rule, st, best, self._states[best.name])):
                best = rule
        if self._pin is not None and now >= self._pin.until:
            self._pin = None
        chosen = best
        prev = self._decision
        current_rule = self._current_rule
        rules_mode = chosen.mode if chosen else self.default_mode
        if prev is not None and prev.reason != "pin" and rules_mode != prev.mode:
            escalation = chosen is not None and (current_rule is None or chosen.priority > current_rule.priority)
            dwell = current_rule.min_dwell_s if current_rule is not None else 0.0
            if not escalation and now - prev.since < dwell:
                chosen, rules_mode = current_rule, prev.mode  # hold the current mode until its dwell is over
        if self._pin is not None:
            mode, reason = self._pin.mode, "pin"
            focus_region, target = self.focus_regions.get(mode), self._pin.focus
        elif chosen is not None:
            mode, reason = chosen.mode, chosen.name
            focus_region = chosen.focus_region or self.focus_regions.get(chosen.mode)
            target = self._target(chosen, prev)
        else:
            mode, reason = self.default_mode, "default"
            focus_region, target = self.focus_regions.get(mode), None
        since = prev.since if prev is not None and prev.mode == mode else now
        decision = Decision(mode, focus_region, target, reason, rules_mode, self._pin, since)
        if commit:
            if self._pin is None:
                self._current_rule = chosen
            self._decision = decision
        return decision

    # ---------------------------------------------------------------- internals
    def _holds(self, rule: Rule, *, flood: bool, link_down: bool, incidents: frozenset[str], engaged: bool) -> bool:
        c = rule.when
        if c.flood is not None and c.flood != flood:
            return False
        if c.link_down is not None and c.link_down != link_down:
            return False
        if c.incident_status and not incidents.intersection(s.lower() for s in c.incident_status):
            return False
        threshold = c.count_at_least
        if engaged and c.count_exit_below is not None:
            threshold = min(threshold, c.count_exit_below)
        return len(self._matches[rule.name]) >= threshold

    def _target(self, rule: Rule, prev: Decision | None) -> str | None:
        how = rule.focus_target
        if how is None or how == "none":
            return None
        if how not in ("source", "site"):
            return how
        matching = [a for a in map(self.lookup, self._matches[rule.name]) if a is not None]
        if not matching:
            return prev.focus_target if prev is not None and prev.reason == rule.name else None
        worst = max(matching, key=lambda a: (a.severity, a.state is AlarmState.UNACK, -a.first))
        if how == "site":
            return worst.site
        if prev is not None and prev.focus_target is not None:
            # keep the current target while it is still among the worst: the map must not jump around
            for a in matching:
                if prev.focus_target in (a.source, a.cause[0] if a.cause else None) and a.severity >= worst.severity:
                    return prev.focus_target
        return worst.cause[0] if worst.cause is not None else worst.source


def _better(rule: Rule, st: _RuleState, other: Rule, other_st: _RuleState) -> bool:
    if rule.priority != other.priority:
        return rule.priority > other.priority
    return st.order < other_st.order
