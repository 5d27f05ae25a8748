"""Which sound an alarm makes: a YAML sound map, first match wins, a default per severity.

A map under which some critical alarms would make no sound is valid but warned about: the wall would show them
and stay silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wallctl.core.alarms.alarm import Alarm
from wallctl.core.alarms.match import AlarmMatch, Groups
from wallctl.core.files.spec import Builder, items, spec
from wallctl.core.files.yamldoc import ConfigError, Doc, PathKey, Problem, load_yaml, settle
from wallctl.core.severity import Severity
from wallctl.core.sound.voice import VoiceSpec, check_voice

Priority = Literal["high", "medium", "low", "cue"]
PRIORITY_RANK: dict[str, int] = {"cue": 0, "low": 1, "medium": 2, "high": 3}
SPECIALS = ("ring_back", "flood", "feed_lost", "audio_test")


@dataclass(frozen=True)
class SoundDef:
    file: str = spec("WAV file (16-bit PCM), relative to the sound map")
    priority: Priority = spec("IEC 60601-1-8 priority: high, medium, low; cue for short signals", default="medium")
    description: str = spec("what the sound means (shown by the self-test)", default="")


@dataclass(frozen=True)
class MapEntry:
    sound: str = spec("name of a sound in 'sounds'")
    match: AlarmMatch = spec("which alarms", default_factory=AlarmMatch)
    repeat_s: float = spec(
        "re-sound while unacknowledged every this many seconds; 0 sounds once", default=30.0, minimum=0
    )
    volume: float = spec("0..1", default=1.0, minimum=0, maximum=1)


@dataclass(frozen=True)
class SoundMapSpec:
    sounds: dict[str, SoundDef] = spec("the sound files by name")
    map: tuple[MapEntry, ...] = spec("rules, first match wins", default=())
    defaults: dict[str, MapEntry | None] = spec(
        "per severity (critical..indeterminate); null for silence", default_factory=dict
    )
    specials: dict[str, str] = spec("sounds for ring_back, flood, feed_lost, audio_test", default_factory=dict)
    voice: VoiceSpec | None = spec("spoken announcements after the tone; none when absent", default=None)


@dataclass(frozen=True, slots=True)
class Sound:
    """A playable sound: the core's value the audio adapter takes."""

    name: str
    path: Path
    priority: str
    description: str = ""

    @property
    def rank(self) -> int:
        return PRIORITY_RANK[self.priority]


@dataclass(frozen=True, slots=True)
class Annunciation:
    sound: Sound
    repeat_s: float
    volume: float


class SoundMap:
    def __init__(self, spec_: SoundMapSpec, base: Path, groups: Groups | None = None) -> None:
        self.spec = spec_
        self.groups = groups
        self.sounds = {
            name: Sound(name, (base / d.file).resolve(), d.priority, d.description) for name, d in spec_.sounds.items()
        }
        self._defaults = {Severity.parse(k): v for k, v in spec_.defaults.items()}
        self._cache: dict[tuple[str, str, str | None, Severity], Annunciation | None] = {}
        self._by_source = any(e.match.sources or e.match.groups for e in spec_.map)

    def resolve(self, alarm: Alarm) -> Annunciation | None:
        """First matching entry, else the severity's default; memoised (the map is fixed once loaded)."""
        sev = alarm.severity if alarm.severity is not Severity.CLEARED else alarm.peak
        # a map that never names sources or groups answers the same for every source: one entry per type
        key = (alarm.source if self._by_source else "", alarm.type, alarm.category, sev)
        try:
            return self._cache[key]
        except KeyError:
            pass
        if len(self._cache) > 50_000:
            self._cache.clear()
        found = self._cache[key] = self._resolve(alarm, sev)
        return found

    def _resolve(self, alarm: Alarm, sev: Severity) -> Annunciation | None:
        for entry in self.spec.map:
            if entry.match.matches(
                source=alarm.source, type=alarm.type, category=alarm.category, severity=sev, groups=self.groups
            ):
                return Annunciation(self.sounds[entry.sound], entry.repeat_s, entry.volume)
        default = self._defaults.get(sev)
        if default is None:
            return None
        return Annunciation(self.sounds[default.sound], default.repeat_s, default.volume)

    def special(self, name: str) -> Sound | None:
        sound_name = self.spec.specials.get(name)
        return self.sounds.get(sound_name) if sound_name else None


def load_soundmap(
    path: str | Path, groups: Groups | None = None, *, check_files: bool = True, warnings: list[Problem] | None = None
) -> SoundMap:
    """Load and check a sound map; raises :class:`ConfigError` listing every problem. ``warnings``: where
    warnings go when the map is valid; logged when not given."""
    doc = load_yaml(path)
    b = Builder(doc)
    model = b.build_model(SoundMapSpec, doc.data, ())
    problems = list(b.problems)
    base = Path(path).parent
    if model is not None:
        names = set(model.sounds)
        for i, entry in items(model.map):
            if entry.sound not in names:
                problems.append(
                    doc.problem(
                        ("map", i, "sound"), f"unknown sound {entry.sound!r}; defined: {', '.join(sorted(names))}"
                    )
                )
        for sev, default in model.defaults.items():
            try:
                Severity.parse(sev)
            except ValueError as exc:
                problems.append(doc.problem(("defaults", sev), str(exc), key=True))
            if default is not None and default.sound not in names:
                problems.append(doc.problem(("defaults", sev, "sound"), f"unknown sound {default.sound!r}"))
        for special, sound in model.specials.items():
            if special not in SPECIALS:
                problems.append(
                    doc.problem(
                        ("specials", special), f"unknown special {special!r}; expected {', '.join(SPECIALS)}", key=True
                    )
                )
            if sound not in names:
                problems.append(doc.problem(("specials", special), f"unknown sound {sound!r}"))
        if check_files:
            for name, d in model.sounds.items():
                problems += _check_wav(base / d.file, doc.file, doc.loc(("sounds", name, "file")))
        problems += _check_critical_sounds(model, doc)
        if model.voice is not None:
            problems += check_voice(model.voice, doc)
    settle(problems, warnings)  # raises when any problem is an error
    if model is None:
        raise ConfigError([Problem(str(path), 1, 1, "invalid sound map")])
    return SoundMap(model, base, groups)


def _check_critical_sounds(model: SoundMapSpec, doc: Doc) -> list[Problem]:
    """A critical alarm that no entry matches falls to ``defaults.critical``: without one it is silent."""
    if model.defaults.get("critical") is not None:
        return []
    for entry in model.map:
        m = entry.match
        catch_all = not (m.categories or m.types or m.sources or m.groups)
        if catch_all and (Severity.CRITICAL in m.severities or not m.severities):
            return []  # severity_at_least cannot exclude critical, the worst
    where: PathKey = ()
    what = "there are no 'defaults'"
    if "critical" in model.defaults:
        where, what = ("defaults", "critical"), "'defaults' silences critical (null)"
    elif isinstance(doc.data, dict) and "defaults" in doc.data:
        where, what = ("defaults",), "'defaults' has no 'critical' entry"
    message = (
        f"critical alarms that no 'map' entry matches make no sound: {what}; give critical a high-priority sound, "
        "e.g. 'critical: {sound: NAME, repeat_s: 15}' under 'defaults'"
    )
    return [doc.problem(where, message, key=bool(where), level="warning")]


def _check_wav(path: Path, file: str, loc: tuple[int, int]) -> list[Problem]:
    import wave

    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != 2:
                return [Problem(file, *loc, f"{path.name}: {8 * w.getsampwidth()}-bit samples; expected 16-bit PCM")]
            if w.getnframes() == 0:
                return [Problem(file, *loc, f"{path.name}: the file holds no audio")]
    except FileNotFoundError:
        return [Problem(file, *loc, f"sound file {str(path)!r} not found")]
    except (wave.Error, EOFError) as exc:
        return [Problem(file, *loc, f"{path.name} is not a PCM WAV file: {exc}")]
    return []
