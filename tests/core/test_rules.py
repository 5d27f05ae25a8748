"""The rule engine with a stepped clock: priority, dwell, hold-down, count hysteresis, ties, pins."""

from __future__ import annotations

import itertools

import pytest

from wallctl.core.alarms.engine import AlarmEngine
from wallctl.core.alarms.event import Event
from wallctl.core.clock import ManualClock
from wallctl.core.severity import Severity
from wallctl.core.wall.rules import Condition, Rule, RuleEngine, RuleSet

S = Severity


class World:
    def __init__(self, *rules: Rule, pin_break: Severity | None = S.CRITICAL) -> None:
        self.clock = ManualClock()
        self.engine = AlarmEngine(self.clock)
        self.rules = RuleEngine(
            RuleSet(rules, pin_break),
            "normal",
            self.clock,
            self.engine.get,
            focus_regions={"normal": "map", "incident": "map", "env": "list", "flood": "list"},
        )
        self.engine.changed.connect(lambda c: self.rules.observe(c.key, self.engine.get(c.key)))
        self.flood = False
        self.link_down = False
        self.incidents: frozenset[str] = frozenset()

    def raise_(self, source: str, sev: Severity = S.CRITICAL, type_: str = "down", category: str = "network") -> None:
        self.engine.ingest(Event(source, type_, sev, self.clock.now(), category=category))

    def clear(self, source: str, type_: str = "down") -> None:
        self.engine.ingest(Event(source, type_, S.CLEARED, self.clock.now()))

    def decide(self, after: float = 0.0) -> str:
        self.clock.advance(after)
        return self.rules.evaluate(flood=self.flood, link_down=self.link_down, incidents=self.incidents).mode

    @property
    def decision(self):  # type: ignore[no-untyped-def]
        return self.rules.decision


CRIT = Rule("crit", "incident", Condition(severity_at_least=S.CRITICAL), priority=100, min_dwell_s=30, hold_down_s=60)
ENV = Rule(
    "env",
    "env",
    Condition(severity_at_least=S.MAJOR, categories=("environment",)),
    priority=50,
    min_dwell_s=20,
    hold_down_s=10,
)


def test_default_mode_without_alarms() -> None:
    w = World(CRIT)
    assert w.decide() == "normal"
    assert w.decision.reason == "default"


def test_rule_switches_at_once_and_focuses_the_source() -> None:
    w = World(CRIT)
    w.decide()
    w.raise_("br05-rtr")
    assert w.decide() == "incident"
    d = w.decision
    assert (d.reason, d.focus_region, d.focus_target) == ("crit", "map", "br05-rtr")


def test_hold_down_and_dwell_before_returning() -> None:
    w = World(CRIT)
    w.raise_("r1")
    assert w.decide() == "incident"
    w.clear("r1")
    assert w.decide(1) == "incident"  # condition false, hold-down runs
    assert w.decide(58) == "incident"
    assert w.decide(2) == "normal"  # 61 s after the clear


def test_min_dwell_holds_a_lower_priority_switch() -> None:
    short = Rule(
        "crit", "incident", Condition(severity_at_least=S.CRITICAL), priority=100, min_dwell_s=30, hold_down_s=0
    )
    w = World(short)
    w.raise_("r1")
    assert w.decide() == "incident"
    w.clear("r1")
    assert w.decide(5) == "incident"  # disengaged, but the mode has only dwelt 5 s
    assert w.decide(26) == "normal"


def test_escalation_is_immediate_even_within_dwell() -> None:
    w = World(CRIT, ENV)
    w.raise_("ups1", S.MAJOR, "on_battery", "environment")
    assert w.decide() == "env"
    w.raise_("r1")
    assert w.decide(1) == "incident"  # higher priority: no dwell wait


def test_flicker_is_impossible_under_a_chattering_condition() -> None:
    w = World(CRIT)
    modes = []
    for i in range(40):  # the alarm raises and clears every 3 s for two minutes
        (w.raise_ if i % 2 == 0 else w.clear)("r1")
        modes.append(w.decide(3))
    switches = sum(1 for a, b in itertools.pairwise(modes) if a != b)
    assert switches == 0 and modes[0] == "incident"


def test_count_hysteresis() -> None:
    rule = Rule(
        "many",
        "incident",
        Condition(severity_at_least=S.MAJOR, count_at_least=3, count_exit_below=2),
        priority=10,
        min_dwell_s=0,
        hold_down_s=0,
    )
    w = World(rule)
    w.raise_("a", S.MAJOR)
    w.raise_("b", S.MAJOR)
    assert w.decide() == "normal"
    w.raise_("c", S.MAJOR)
    assert w.decide() == "incident"
    w.clear("c")
    assert w.decide(1) == "incident"  # 2 left: still >= count_exit_below
    w.clear("b")
    assert w.decide(1) == "normal"


def test_priority_ties_go_to_the_rule_engaged_first() -> None:
    a = Rule("a", "incident", Condition(categories=("network",)), priority=5, min_dwell_s=0, hold_down_s=0)
    b = Rule("b", "env", Condition(categories=("environment",)), priority=5, min_dwell_s=0, hold_down_s=0)
    w = World(b, a)
    w.raise_("r1", S.MAJOR, category="network")
    assert w.decide() == "incident"
    w.raise_("u1", S.MAJOR, category="environment")
    assert w.decide(1) == "incident"  # equal priority: the first engaged keeps the wall


def test_flood_and_link_conditions() -> None:
    flood = Rule("flood", "flood", Condition(flood=True, count_at_least=0), priority=500, min_dwell_s=0, hold_down_s=0)
    w = World(flood)
    assert w.decide() == "normal"
    w.flood = True
    assert w.decide() == "flood"
    w.flood = False
    assert w.decide(1) == "normal"


def test_pin_overrides_rules_and_shows_what_they_would_choose() -> None:
    w = World(CRIT)
    w.rules.pin("flood", 300, "hotkey")
    w.raise_("r1", S.MAJOR)
    assert w.decide() == "flood"
    assert w.decision.pin is not None and w.decision.rules_choice == "normal"
    assert w.decision.reason == "pin"
    assert w.decide(301) == "normal"  # the pin ran out


def test_release_returns_to_rules() -> None:
    w = World(CRIT)
    w.raise_("r1")
    w.rules.pin("normal", 300, "hotkey")
    assert w.decide() == "normal"
    assert w.rules.release()
    assert w.decide() == "incident"


@pytest.mark.parametrize(("sev", "breaks"), [(S.CRITICAL, True), (S.MAJOR, False)])
def test_severity_may_break_a_pin(sev: Severity, breaks: bool) -> None:
    w = World(CRIT)
    w.rules.pin("normal", 300, "hotkey")
    assert w.rules.break_pin_for(sev) is breaks
    assert (w.rules.pinned is None) is breaks


def test_rule_with_break_pin() -> None:
    r = Rule("env", "env", Condition(categories=("environment",)), priority=5, break_pin=True, min_dwell_s=0)
    w = World(r, pin_break=None)
    w.rules.pin("normal", 300, "hotkey")
    w.raise_("ups1", S.MINOR, category="environment")
    assert w.decide() == "env"


def test_focus_target_is_the_cause_of_a_consequence_and_stays_put() -> None:
    w = World(CRIT)
    w.raise_("a")
    w.decide()
    w.raise_("b")  # equally severe, newer: the target must not jump
    assert w.rules.evaluate(flood=False, link_down=False).focus_target == "a"


def test_a_rule_follows_the_incident_process() -> None:
    """An incident the ticket system declares major brings its mode up; back to the rules when it no longer is."""
    major = Rule("major-incident", "incident", Condition(incident_status=("Major",)), priority=90, min_dwell_s=0,
                 hold_down_s=0)  # fmt: skip
    w = World(major)
    w.raise_("br05-rtr", S.MAJOR)
    assert w.decide() == "normal"  # an alarm, but no incident declared major
    w.incidents = frozenset({"open"})
    assert w.decide(1) == "normal"
    w.incidents = frozenset({"open", "major"})  # statuses compared without case
    assert w.decide(1) == "incident" and w.decision.reason == "major-incident"
    w.incidents = frozenset({"resolved"})
    assert w.decide(1) == "normal"


def test_a_change_that_moves_a_rule_across_its_threshold_is_flagged() -> None:
    """The runtime decides at once on such a change instead of at the end of a burst of events: it is told which
    changes can move the mode (a rule's match count reaching or leaving its threshold) and which cannot."""
    w = World(CRIT)
    w.raise_("a")
    assert w.rules.take_crossed() is True  # 0 -> 1 critical: the rule starts to hold
    assert w.rules.take_crossed() is False  # taken
    w.raise_("b")
    w.raise_("m", S.MINOR)
    assert w.rules.take_crossed() is False  # a second critical, and a minor no rule counts
    w.clear("a")
    assert w.rules.take_crossed() is False  # 2 -> 1: the rule still holds
    w.clear("b")
    assert w.rules.take_crossed() is True  # 1 -> 0: it stops holding


def test_count_thresholds_flag_both_edges() -> None:
    rule = Rule("many", "incident", Condition(severity_at_least=S.MAJOR, count_at_least=3, count_exit_below=2))
    w = World(rule)
    w.raise_("a", S.MAJOR)
    assert w.rules.take_crossed() is False
    w.raise_("b", S.MAJOR)
    assert w.rules.take_crossed() is True  # the exit threshold: decisive for an engaged rule
    w.raise_("c", S.MAJOR)
    assert w.rules.take_crossed() is True  # the entry threshold
    w.raise_("d", S.MAJOR)
    assert w.rules.take_crossed() is False


def test_a_look_at_the_next_mode_changes_nothing() -> None:
    """The runtime looks at the mode in the middle of a burst of events without taking the decision: the focus and
    the dwell keep counting from the published one."""
    w = World(CRIT)
    w.raise_("a")
    assert w.decide() == "incident" and w.decision.focus_target == "a"
    w.clock.advance(5)
    w.clear("a")
    w.raise_("b")
    peek = w.rules.evaluate(flood=False, link_down=False, commit=False)
    assert peek.mode == "incident" and peek.focus_target == "b"
    assert w.decision.focus_target == "a"  # not taken


def test_a_broken_pin_is_flagged_for_an_immediate_decision() -> None:
    w = World(CRIT)
    w.rules.pin("env", 600, "test")
    w.rules.take_crossed()
    assert w.rules.break_pin_for(S.CRITICAL) is True
    assert w.rules.take_crossed() is True
