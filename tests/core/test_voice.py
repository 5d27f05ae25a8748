"""Spoken announcements as the annunciator decides them (wallctl.core.sound.voice): what is said, after which
tone, and what is never said (pre-empted, silenced, re-sounds, bursts). The audio itself: tests/e2e/test_voice.py."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from wallctl.core.alarms.alarm import Alarm
from wallctl.core.alarms.engine import AlarmEngine, EnginePolicy
from wallctl.core.alarms.event import Event
from wallctl.core.alarms.flood import FloodPolicy
from wallctl.core.clock import ManualClock
from wallctl.core.files.yamldoc import ConfigError, Problem
from wallctl.core.severity import Severity
from wallctl.core.sound.annunciator import Annunciator
from wallctl.core.sound.soundmap import Sound, SoundMap, load_soundmap
from wallctl.core.sound.voice import Phrasebook, Utterance, VoiceSpec

ROOT = Path(__file__).resolve().parents[2]
S = Severity
LABELS = {"cd-core-1": "Chengdu core router one", "sh-agg-2": "Shanghai aggregation two"}


class Recorder:
    """The channel as the adapter sees it: tones played, clips queued to follow, stops."""

    def __init__(self) -> None:
        self.log: list[str] = []

    def play(self, sound: Sound, volume: float) -> None:
        self.log.append(f"play {sound.name}")

    def follow(self, sound: Sound, volume: float) -> None:
        self.log.append(f"follow {sound.description}")

    def stop(self) -> None:
        self.log.append("stop")


class Rig:
    def __init__(self, soundmap: SoundMap, policy: EnginePolicy | None = None) -> None:
        self.clock = ManualClock()
        self.engine = AlarmEngine(self.clock, policy)
        self.sink = Recorder()
        self.ann = Annunciator(self.clock, soundmap, self.sink, self.engine.get, lambda s: LABELS.get(s, s))
        self.engine.changed.connect(self.ann.on_change)
        self.engine.flood_changed.connect(self.ann.on_flood)
        self.said: list[Utterance] = []
        assert self.ann.voice is not None
        self.ann.voice.said.connect(self.said.append)

    def ev(self, source: str, sev: Severity, type_: str = "link_down", category: str = "network") -> None:
        self.engine.ingest(Event(source, type_, sev, self.clock.now(), category=category))

    def deliver(self, u: Utterance) -> None:
        """What the speech adapter does once the clip is synthesised."""
        self.ann.speak(u, Sound("voice:alarm", Path("/x.wav"), "cue", u.text))

    def step(self, seconds: float, tick: float = 0.25) -> None:
        end = self.clock.now() + seconds
        while self.clock.now() < end - 1e-9:
            self.clock.advance(min(tick, end - self.clock.now()))
            self.engine.tick()
            self.ann.tick()


def with_voice(soundmap: SoundMap, **changes: object) -> SoundMap:
    assert soundmap.spec.voice is not None
    voice = dataclasses.replace(soundmap.spec.voice, **changes)  # type: ignore[arg-type]
    return SoundMap(dataclasses.replace(soundmap.spec, voice=voice), ROOT / "sounds")


@pytest.fixture(scope="module")
def shipped() -> SoundMap:
    return load_soundmap(ROOT / "sounds" / "soundmap.yaml")


def test_a_critical_alarm_is_said_after_its_tone_with_the_maps_name(shipped: SoundMap) -> None:
    rig = Rig(shipped)
    rig.ev("cd-core-1", S.CRITICAL)
    assert rig.sink.log == ["play network_high"]
    assert [u.text for u in rig.said] == ["Critical. Link down. Chengdu core router one."]
    rig.deliver(rig.said[0])
    assert rig.sink.log == ["play network_high", "follow Critical. Link down. Chengdu core router one."]


def test_only_the_configured_priorities_speak(shipped: SoundMap) -> None:
    rig = Rig(shipped)  # the shipped map speaks high priority only
    rig.ev("sh-agg-2", S.MAJOR)
    assert rig.sink.log == ["play network_medium"] and rig.said == []
    rig = Rig(with_voice(shipped, priorities=("high", "medium")))
    rig.ev("sh-agg-2", S.MAJOR)
    assert [u.text for u in rig.said] == ["Major. Link down. Shanghai aggregation two."]


def test_a_higher_priority_cuts_the_speech_of_the_lesser_one(shipped: SoundMap) -> None:
    rig = Rig(with_voice(shipped, priorities=("high", "medium")))
    rig.ev("sh-agg-2", S.MAJOR)
    lesser = rig.said[-1]
    rig.ev("cd-core-1", S.CRITICAL)  # pre-empts the tone before the lesser one's speech was ready
    rig.deliver(lesser)
    rig.deliver(rig.said[-1])
    assert rig.sink.log == [
        "play network_medium",
        "play network_high",
        "follow Critical. Link down. Chengdu core router one.",
    ]


def test_silence_mutes_speech_too(shipped: SoundMap) -> None:
    rig = Rig(shipped)
    rig.ev("cd-core-1", S.CRITICAL)
    rig.ann.silence(60)
    rig.deliver(rig.said[0])  # synthesised after the silence: not played
    assert rig.sink.log == ["play network_high", "stop"]


def test_a_resound_is_not_said_again_unless_configured(shipped: SoundMap) -> None:
    rig = Rig(shipped)
    rig.ev("cd-core-1", S.CRITICAL)  # re-sounds every 15 s
    rig.step(31)
    assert rig.sink.log.count("play network_high") == 3
    assert len(rig.said) == 1
    rig = Rig(with_voice(shipped, repeat=True))
    rig.ev("cd-core-1", S.CRITICAL)
    rig.step(31)
    assert len(rig.said) == 3
    assert len({u.cue for u in rig.said}) == 3  # each follows its own re-sound


def test_an_equal_alarm_is_said_after_what_plays_without_a_tone_of_its_own(shipped: SoundMap) -> None:
    rig = Rig(shipped)
    rig.ev("cd-core-1", S.CRITICAL)
    rig.ev("sh-agg-2", S.CRITICAL)
    assert rig.sink.log == ["play network_high"]
    assert [u.text for u in rig.said][1] == "Critical. Link down. Shanghai aggregation two."
    assert rig.said[0].cue == rig.said[1].cue  # both queue behind the one tone


def test_a_burst_is_summarised(shipped: SoundMap) -> None:
    rig = Rig(shipped, EnginePolicy(flood=FloodPolicy(start_above=100)))  # a burst, not yet a flood
    for i in range(12):
        rig.ev(f"r{i}", S.CRITICAL)
    assert len(rig.said) == 3  # burst.max read out, the rest held
    rig.step(1)
    assert len(rig.said) == 3  # hold_s (2 s) not over yet
    rig.step(2)
    # the whole burst: the 3 read out (a flood's sound may yet cut their sentences) and the 9 held
    assert rig.said[-1].text == "12 new alarms." and rig.said[-1].kind == "summary"
    assert rig.said[-1].cue is None  # whenever the channel is free
    rig.step(20)
    rig.ev("r99", S.CRITICAL)  # calm again: read out alone
    assert rig.said[-1].text == "Critical. Link down. r99."


def test_a_flood_is_summarised_with_the_flood_word(shipped: SoundMap) -> None:
    rig = Rig(shipped)  # EEMUA 191: a flood above 10 new alarms in 10 minutes
    for i in range(30):
        rig.ev(f"r{i}", S.CRITICAL)
    rig.step(3)
    summary = [u for u in rig.said if u.kind == "summary"]
    assert summary and summary[0].text.endswith("new alarms. Flood.")
    assert len([u for u in rig.said if u.kind == "alarm"]) <= 3


def test_a_summary_held_when_silenced_is_not_said(shipped: SoundMap) -> None:
    rig = Rig(shipped)
    for i in range(8):
        rig.ev(f"r{i}", S.CRITICAL)
    rig.ann.silence(30)
    rig.step(10)
    assert [u.kind for u in rig.said] == ["alarm"] * 3


def test_chinese_sentences() -> None:
    spec = load_soundmap(ROOT / "sounds" / "soundmap.yaml").spec.voice
    assert spec is not None
    book = Phrasebook(dataclasses.replace(spec, language="zh"), lambda s: {"cd-core-1": "成都核心路由器一"}.get(s, s))
    alarm = Alarm("cd-core-1", "link_down", "network", S.CRITICAL, S.CRITICAL, 0.0, 0.0)
    assert book.sentence(alarm) == "严重告警。链路中断。成都核心路由器一。"
    alarm.type = "cpu_high"  # the default template: {what} in Chinese too (voice.phrases), not "cpu high"
    assert book.sentence(alarm) == "严重告警。CPU过高。成都核心路由器一。"
    assert book.summary(12, True) == "12条新告警。 告警泛滥。"


def test_template_by_type_then_category_then_default_and_empty_fields_leave_no_gaps() -> None:
    spec = VoiceSpec(
        engine="espeak-ng",
        templates={
            "default": {"en": "{severity}. {what}. {site}. {where}."},
            "power": {"en": "Power. {where}."},
            "ups_on_battery": {"en": "On battery. {where}."},
        },
    )
    book = Phrasebook(spec)
    a = Alarm("ups1", "ups_on_battery", "power", S.MAJOR, S.MAJOR, 0.0, 0.0)
    assert book.sentence(a) == "On battery. ups1."
    a.type = "mains_lost"
    assert book.sentence(a) == "Power. ups1."
    a.category = "network"
    assert book.sentence(a) == "Major. mains lost. ups1."  # no site: no ". ." left behind


def test_self_test_speaks_a_sample_of_each_template(shipped: SoundMap) -> None:
    rig = Rig(shipped)
    rig.ann.self_test(gap_s=0.5)
    rig.step(60)
    samples = [u for u in rig.said if u.kind == "sample"]
    assert shipped.spec.voice is not None
    assert len(samples) == len(shipped.spec.voice.templates) + 1  # and the burst summary
    assert "Critical. Link down. core-router-1." in [u.text for u in samples]
    assert [u.about for u in samples][-1] == "summary" and "link_down" in [u.about for u in samples]
    assert rig.ann.audible.self_test is None  # over


def test_bad_templates_are_reported_at_their_line(tmp_path: Path) -> None:
    text = (ROOT / "sounds" / "soundmap.yaml").read_text()
    bad = text.replace('link_down: {en: "{severity}. Link down. {where}."', 'link_down: {en: "{severity}. {place}."')
    for wav in (ROOT / "sounds").glob("*.wav"):
        (tmp_path / wav.name).symlink_to(wav)
    path = tmp_path / "soundmap.yaml"
    path.write_text(bad)
    line = next(i for i, ln in enumerate(bad.splitlines(), 1) if "{place}" in ln)
    with pytest.raises(ConfigError) as err:
        load_soundmap(path)
    (problem,) = err.value.problems
    assert (
        problem.line == line and "unknown field {place}" in problem.message and "expected severity" in problem.message
    )


def test_a_template_without_the_spoken_language_is_warned_about(tmp_path: Path) -> None:
    text = (ROOT / "sounds" / "soundmap.yaml").read_text().replace("language: en", "language: zh")
    text = text.replace(
        'link_down: {en: "{severity}. Link down. {where}.", zh: "{severity}。链路中断。{where}。"}',
        'link_down: {en: "{severity}. Link down. {where}."}',
    )
    for wav in (ROOT / "sounds").glob("*.wav"):
        (tmp_path / wav.name).symlink_to(wav)
    (tmp_path / "soundmap.yaml").write_text(text)
    warnings: list[Problem] = []
    load_soundmap(tmp_path / "soundmap.yaml", warnings=warnings)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.strip().startswith("link_down:"))
    (w,) = warnings
    assert w.level == "warning" and w.line == line
    assert "no 'zh' sentence, the language spoken: alarms of class 'link_down' say the default one" in w.message
