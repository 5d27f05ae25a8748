"""The light policy over the real alarm engine, annunciator and shipped sound map: which pattern each channel shows
as alarms come, are silenced, acknowledged, shelved and cleared, and when the wall cannot be trusted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.devices import CONTRACT_LIGHTS
from wallctl.controller.outputs import priority_of
from wallctl.core.alarms.dominance import DominatorIndex
from wallctl.core.alarms.engine import AlarmEngine
from wallctl.core.alarms.event import Event
from wallctl.core.clock import ManualClock
from wallctl.core.files.spec import build_doc
from wallctl.core.files.yamldoc import parse_yaml
from wallctl.core.lights.config import LightRule
from wallctl.core.lights.policy import LightBoard, Situation
from wallctl.core.severity import Severity
from wallctl.core.sound.annunciator import Annunciator, NullSink
from wallctl.core.sound.soundmap import SoundMap, load_soundmap
from wallctl.core.topology.files import load_topology

ROOT = Path(__file__).resolve().parents[2]
S = Severity
CONTRACT_RULES = CONTRACT_LIGHTS.replace("lights:", "rules:")


def rules(text: str) -> tuple[LightRule, ...]:
    from dataclasses import dataclass

    from wallctl.core.files.spec import spec

    @dataclass(frozen=True)
    class Rules:
        rules: tuple[LightRule, ...] = spec("the rules")

    return build_doc(Rules, parse_yaml(text, "lights.yaml")).rules


@pytest.fixture(scope="module")
def soundmap() -> SoundMap:
    return load_soundmap(ROOT / "sounds" / "soundmap.yaml")


class Rig:
    """The engine and the annunciator as the controller wires them, and the board following the engine."""

    def __init__(
        self, soundmap: SoundMap, text: str = CONTRACT_RULES, dominators: DominatorIndex | None = None
    ) -> None:
        self.clock = ManualClock()
        self.engine = AlarmEngine(self.clock, dominators=dominators)
        self.ann = Annunciator(self.clock, soundmap, NullSink(), self.engine.get)
        self.board = LightBoard(rules(text), priority_of(soundmap))
        self.engine.changed.connect(self.ann.on_change)
        self.engine.changed.connect(lambda c: self.board.observe(c.key, self.engine.get(c.key)))
        self.engine.bulk_changed.connect(lambda _k, keys: [self.board.observe(k, self.engine.get(k)) for k in keys])
        self.broker = True

    def ev(self, source: str, sev: Severity, category: str = "network", type_: str = "node_down") -> None:
        self.engine.ingest(Event(source, type_, sev, self.clock.now(), category=category))

    def lights(self, *, controller: bool = True) -> dict[str, str]:
        situation = Situation(horn=self.ann.audible.sound is not None, broker=self.broker, controller=controller)
        return self.board.resolve(situation)


@pytest.fixture
def rig(soundmap: SoundMap) -> Rig:
    return Rig(soundmap)


def test_calm_is_green_and_nothing_else(rig: Rig) -> None:
    assert rig.lights() == {"green": "steady"}


def test_an_unacknowledged_critical_flashes_red_fast_with_the_buzzer_on_the_horn(rig: Rig) -> None:
    rig.ev("r1", S.CRITICAL)
    assert rig.lights() == {"red": "fast", "buzzer": "steady"}  # green is off: something is active


def test_silence_mutes_the_buzzer_only(rig: Rig) -> None:
    rig.ev("r1", S.CRITICAL)
    rig.ann.silence(60)
    assert rig.lights() == {"red": "fast", "buzzer": "off"}  # ISA-18.1: the lamps keep saying it
    rig.clock.advance(61)
    rig.ann.tick()
    assert rig.lights() == {"red": "fast", "buzzer": "steady"}  # silence is not acknowledge: it sounds again


def test_acknowledging_makes_red_steady_and_clearing_brings_green_back(rig: Rig) -> None:
    rig.ev("r1", S.CRITICAL)
    rig.engine.ack(("r1", "node_down"))
    assert rig.lights() == {"red": "steady"}  # the buzzer's rule no longer matches: unmatched is off
    rig.ev("r1", S.CLEARED)
    assert rig.lights() == {"green": "steady"}


def test_return_to_normal_unacknowledged_still_lights_until_acknowledged(rig: Rig) -> None:
    rig.ev("r1", S.CRITICAL)
    rig.ev("r1", S.CLEARED)
    assert rig.lights() == {"red": "steady"}  # RTNUN: the peak's priority, and not green yet
    rig.engine.ack(("r1", "node_down"))
    assert rig.lights() == {"green": "steady"}


def test_major_and_minor_are_amber_and_the_worst_rule_wins_per_channel(rig: Rig) -> None:
    rig.ev("app1", S.MAJOR, "system", "cpu_high")
    assert rig.lights() == {"amber": "steady"}
    rig.ev("app2", S.MINOR, "system", "disk_full")
    rig.ev("r1", S.CRITICAL)
    assert rig.lights() == {"red": "fast", "buzzer": "steady", "amber": "steady"}


def test_untrusted_while_the_broker_or_the_controller_is_lost(rig: Rig) -> None:
    rig.broker = False
    assert rig.lights() == {"blue": "fast"}  # and not green: a deaf wall is not a calm one
    rig.broker = True
    assert rig.lights(controller=False) == {"blue": "fast"}
    rig.ev("r1", S.CRITICAL)
    assert rig.lights(controller=False) == {"red": "fast", "buzzer": "steady", "blue": "fast"}


def test_a_shelved_alarm_lights_nothing_unless_a_rule_names_its_state(soundmap: SoundMap) -> None:
    rig = Rig(soundmap, CONTRACT_RULES + "  - {when: {state: SHLVD}, amber: slow}\n")
    rig.ev("r1", S.CRITICAL)
    rig.engine.shelve(("r1", "node_down"), 600)
    assert rig.lights() == {"amber": "slow", "green": "steady"}  # shelved: out of the way, named only on purpose


def test_a_consequence_rides_on_its_cause_as_it_does_for_the_horn(soundmap: SoundMap) -> None:
    topo = load_topology(ROOT / "topology" / "estate.yaml")
    rig = Rig(soundmap, dominators=DominatorIndex(topo.graph, "dc1-core-1"))
    rig.ev("br05-rtr", S.CRITICAL)
    rig.engine.ack(("br05-rtr", "node_down"))
    rig.ev("br05-sw", S.CRITICAL, type_="unreachable")  # behind the router: a consequence, unacknowledged
    assert rig.engine.get(("br05-sw", "unreachable")).cause is not None  # type: ignore[union-attr]
    assert rig.lights() == {"red": "steady"}  # not a new fast flash, no buzzer: the cause is known and acknowledged
    rig.ev("br05-rtr", S.CLEARED)
    rig.ev("br05-sw", S.CLEARED, type_="unreachable")
    rig.engine.ack_many([("br05-sw", "unreachable")])
    assert rig.lights() == {"green": "steady"}


def test_first_match_wins_per_channel_and_unmatched_channels_are_off(soundmap: SoundMap) -> None:
    text = """
rules:
  - {when: {severity: critical}, red: off, amber: fast}
  - {when: {priority: high}, red: steady, blue: slow}
"""
    rig = Rig(soundmap, text)
    assert rig.lights() == {}
    rig.ev("r1", S.CRITICAL)
    assert rig.lights() == {"red": "off", "amber": "fast", "blue": "slow"}


def test_bulk_acknowledgement_and_a_rebuild_give_the_same_picture(rig: Rig) -> None:
    for i in range(50):
        rig.ev(f"r{i}", S.CRITICAL)
    rig.engine.ack_many([(f"r{i}", "node_down") for i in range(50)])
    assert rig.lights() == {"red": "steady"}
    before = rig.lights()
    rig.board.rebuild(rig.engine)
    assert rig.lights() == before
    for i in range(50):
        rig.ev(f"r{i}", S.CLEARED)
    assert rig.lights() == {"green": "steady"}
