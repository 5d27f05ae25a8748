"""Annunciator policy with a stepped clock and a recording sink (the real sink is tested end to end)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wallctl.core.alarms.engine import AlarmEngine, EnginePolicy
from wallctl.core.alarms.event import Event
from wallctl.core.alarms.flood import FloodPolicy
from wallctl.core.clock import ManualClock
from wallctl.core.severity import Severity
from wallctl.core.sound.annunciator import Annunciator
from wallctl.core.sound.soundmap import Sound, SoundMap, load_soundmap

ROOT = Path(__file__).resolve().parents[2]
S = Severity


class Recorder:
    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.log: list[tuple[float, str]] = []

    def play(self, sound: Sound, volume: float) -> None:
        self.log.append((self.clock.now(), sound.name))

    def stop(self) -> None:
        self.log.append((self.clock.now(), "STOP"))

    def names(self) -> list[str]:
        return [n for _, n in self.log]

    def plays(self) -> list[str]:
        return [n for _, n in self.log if n != "STOP"]


@pytest.fixture(scope="module")
def soundmap() -> SoundMap:
    return load_soundmap(ROOT / "sounds" / "soundmap.yaml")


class Rig:
    def __init__(self, soundmap: SoundMap, policy: EnginePolicy | None = None) -> None:
        self.clock = ManualClock()
        self.engine = AlarmEngine(self.clock, policy)
        self.sink = Recorder(self.clock)
        self.ann = Annunciator(self.clock, soundmap, self.sink, self.engine.get)
        self.engine.changed.connect(self.ann.on_change)
        self.engine.flood_changed.connect(self.ann.on_flood)

    def ev(self, source: str, sev: Severity, category: str = "network", type_: str = "down", **kw: object) -> None:
        self.engine.ingest(Event(source, type_, sev, self.clock.now(), category=category, **kw))  # type: ignore[arg-type]

    def step(self, seconds: float, tick: float = 0.5) -> None:
        end = self.clock.now() + seconds
        while self.clock.now() < end - 1e-9:
            self.clock.advance(min(tick, end - self.clock.now()))
            self.engine.tick()
            self.ann.tick()


@pytest.fixture
def rig(soundmap: SoundMap) -> Rig:
    return Rig(soundmap)


def test_new_alarm_sounds_at_once_with_its_class_and_priority(rig: Rig) -> None:
    rig.ev("r1", S.CRITICAL)
    assert rig.sink.plays() == ["network_high"]
    rig.ev("ups1", S.MAJOR, "environment")
    assert rig.sink.plays() == ["network_high"]  # lesser: no overlap, no interruption
    assert rig.ann.audible.sound == "network_high"


def test_resounds_at_its_interval_until_acknowledged(rig: Rig) -> None:
    rig.ev("r1", S.CRITICAL)  # network critical: repeat 15 s
    rig.step(46)
    times = [t - rig.sink.log[0][0] for t, n in rig.sink.log if n == "network_high"]
    assert times == [0, 15, 30, 45]
    rig.engine.ack(("r1", "down"))
    assert rig.sink.names()[-1] == "STOP"
    before = len(rig.sink.plays())
    rig.step(60)
    assert len(rig.sink.plays()) == before


def test_more_severe_preempts_at_once(rig: Rig) -> None:
    rig.ev("s1", S.MINOR, "system")
    rig.step(1)
    rig.ev("r1", S.CRITICAL)
    assert rig.sink.plays() == ["system_low", "network_high"]
    rig.engine.ack(("r1", "down"))
    assert rig.ann.audible.sound == "system_low"  # the lesser one takes the horn back on its own cycle
    rig.step(61)
    assert rig.sink.plays()[-1] == "system_low"


def test_equal_alarms_never_overlap(rig: Rig) -> None:
    rig.ev("r1", S.CRITICAL)
    rig.ev("r2", S.CRITICAL)
    rig.ev("r3", S.CRITICAL)
    assert rig.sink.plays() == ["network_high"]


def test_silence_mutes_then_resounds_if_still_unacked(rig: Rig) -> None:
    rig.ev("r1", S.CRITICAL)
    rig.ann.silence(60)
    assert rig.sink.names()[-1] == "STOP"
    assert rig.ann.audible.sound is None and rig.ann.audible.silenced_until == rig.clock.now() + 60
    rig.ev("r2", S.CRITICAL)  # silence holds for new ones too
    rig.step(59)
    assert rig.sink.plays() == ["network_high"]
    rig.step(1.5)
    assert rig.sink.plays() == ["network_high", "network_high"]  # silence is not acknowledge
    assert rig.ann.audible.silenced_until is None


def test_silence_then_ack_stays_quiet(rig: Rig) -> None:
    rig.ev("r1", S.CRITICAL)
    rig.ann.silence(30)
    rig.engine.ack(("r1", "down"))
    rig.step(40)
    assert rig.sink.plays() == ["network_high"]


def test_ring_back_on_return_to_normal_unacknowledged(rig: Rig) -> None:
    rig.ev("r1", S.MINOR)
    rig.ev("r1", S.CLEARED)
    assert rig.sink.plays() == ["network_low", "ring_back"]


def test_no_ring_back_when_acknowledged_first(rig: Rig) -> None:
    rig.ev("r1", S.MINOR)
    rig.engine.ack(("r1", "down"))
    rig.ev("r1", S.CLEARED)
    assert "ring_back" not in rig.sink.plays()


def test_shelved_suppressed_and_consequences_stay_quiet(soundmap: SoundMap) -> None:
    from wallctl.core.alarms.dominance import DominatorIndex
    from wallctl.core.topology.files import load_topology

    topo = load_topology(ROOT / "topology" / "estate.yaml")
    clock = ManualClock()
    engine = AlarmEngine(clock, dominators=DominatorIndex(topo.graph, "dc1-core-1"))
    sink = Recorder(clock)
    ann = Annunciator(clock, soundmap, sink, engine.get)
    engine.changed.connect(ann.on_change)
    engine.ingest(Event("br05-rtr", "node_down", S.CRITICAL, 0, category="network"))
    engine.ack(("br05-rtr", "node_down"))
    sink.log.clear()
    engine.ingest(Event("br05-sw", "unreachable", S.CRITICAL, 0, category="network"))  # a consequence
    assert sink.plays() == []
    engine.ingest(Event("dc1-app-01", "down", S.MAJOR, 0, category="system"))
    engine.shelve(("dc1-app-01", "down"), 600)
    clock.advance(100)
    ann.tick()
    assert sink.plays() == ["system_medium"]  # sounded once before it was shelved; quiet since


def test_chattering_does_not_retrigger(rig: Rig) -> None:
    rig.ev("r1", S.MINOR)
    for _ in range(6):
        rig.step(2)
        rig.ev("r1", S.CLEARED)
        rig.step(2)
        rig.ev("r1", S.MINOR)
    plays = rig.sink.plays()
    assert plays.count("network_low") <= 2, plays  # the first sound and at most one re-alarm before the flag


def test_flood_gives_one_flood_sound_then_the_normal_cycle(soundmap: SoundMap) -> None:
    rig = Rig(soundmap, EnginePolicy(flood=FloodPolicy(start_above=3, end_below=1)))
    for i in range(8):
        rig.ev(f"n{i}", S.MINOR)
    plays = rig.sink.plays()
    assert plays.count("flood") == 1
    assert plays.count("network_low") == 1, plays  # the first one; the rest came during the flood
    rig.ev("big", S.CRITICAL)
    assert rig.sink.plays()[-1] == "network_high"  # something more severe still pre-empts


def test_replayed_alarms_stay_quiet(rig: Rig) -> None:
    rig.ev("r1", S.CRITICAL, retained=True)
    rig.step(60)
    assert rig.sink.plays() == []


def test_rebuild_after_restart_resumes_resounding(soundmap: SoundMap) -> None:
    rig = Rig(soundmap)
    rig.ev("r1", S.CRITICAL)
    alarms = list(rig.engine)
    rig2 = Rig(soundmap)
    rig2.engine.restore(alarms)
    rig2.ann.rebuild(list(rig2.engine))
    rig2.step(1)
    assert rig2.sink.plays() == ["network_high"]


def test_self_test_plays_every_sound_once_and_names_it(rig: Rig) -> None:
    names = rig.ann.self_test(gap_s=1.0)
    assert len(names) == 20
    seen = []
    for _ in range(90):
        if rig.ann.audible.self_test:
            seen.append(rig.ann.audible.self_test)
        rig.step(1.0)
    assert rig.sink.plays() == sorted(names)
    assert sorted({s for s in seen if not s.startswith("voice: ")}) == sorted(names)
    assert any(s.startswith("voice: ") for s in seen)  # then the spoken samples (tests/core/test_voice.py)
    assert rig.ann.audible.self_test is None  # over


def test_a_real_alarm_interrupts_the_self_test(rig: Rig) -> None:
    rig.ann.self_test(gap_s=1.0)
    rig.step(1.0)
    rig.ev("r1", S.CRITICAL)
    rig.step(5.0)
    plays = rig.sink.plays()
    assert plays[-1] == "network_high" and "network_high" in plays[2:]
    assert len(plays) <= 5  # two test sounds, the alarm, no more test sounds
    assert rig.ann.audible.self_test is None


def test_the_horn_goes_to_the_worst_candidate_left_among_many(rig: Rig) -> None:
    """The candidates are kept by rank (not scanned per tick): acknowledging the owner hands the horn to the worst
    alarm still unacknowledged, however many there are and in whatever order they came."""
    import random

    rnd = random.Random(3)
    sevs = [S.WARNING, S.MINOR, S.MAJOR]
    for i in range(3000):
        rig.ev(f"n{i}", rnd.choice(sevs), rnd.choice(["network", "system", "environment"]))
    rig.ev("core", S.CRITICAL)
    rig.ev("n7", S.CRITICAL)  # re-raised worse: its rank moves up
    assert rig.ann.audible.alarm == ("core", "down")
    rig.engine.ack(("core", "down"))
    rig.step(0.5)
    assert rig.ann.audible.alarm == ("n7", "down")
    rig.engine.ack(("n7", "down"))
    rig.step(0.5)
    owner = rig.engine.get(rig.ann.audible.alarm)  # type: ignore[arg-type]
    assert owner is not None and owner.peak is S.MAJOR
    for a in list(rig.engine):
        if a.state.value in ("UNACK", "RTNUN"):
            rig.engine.ack(a.key)
    rig.step(0.5)
    assert rig.ann.audible.alarm is None and rig.sink.names()[-1] == "STOP"


def test_ranked_candidates_match_a_plain_scan() -> None:
    import random

    from wallctl.core.sound.candidates import Candidates as _Ranked

    rnd = random.Random(5)
    ranked, plain = _Ranked(), {}
    for step in range(20_000):
        key = (f"s{rnd.randrange(300)}", "t")
        if rnd.random() < 0.3:
            ranked.discard(key)
            plain.pop(key, None)
        else:
            rank = (rnd.randrange(6), rnd.randrange(3))
            ranked.put(key, rank)
            plain[key] = rank
        best = ranked.best()
        assert len(ranked) == len(plain)
        if not plain:
            assert best is None
        else:
            assert best is not None and best[1] == max(plain.values()) and plain[best[0]] == best[1], step
