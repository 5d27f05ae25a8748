"""Spoken announcements, pure and clocked: what the annunciator says after an alarm's tone, and when it says nothing.

A tone tells the room that something of some priority happened; a short sentence ("Critical. Link down. Chengdu
core router one.") tells it what, so nobody has to turn to the wall. The sentence comes from a template per event
class (the alarm's type, else its category, else ``default``) in the configured language, filled with the
topology's names. A burst is summarised ("12 new alarms. Flood.") instead of read out alarm by alarm.

Speech obeys the annunciator: it follows the tone it belongs to and is dropped when anything else is played or the
horn is stopped or silenced first (the annunciator's ``cue`` tells which tone an utterance belongs to). Synthesis
happens off the sound path, in :mod:`wallctl.adapters.speech`.
"""

from __future__ import annotations

import re
import string
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from wallctl.core.alarms.alarm import Alarm
from wallctl.core.clock import Clock
from wallctl.core.files.spec import spec
from wallctl.core.files.yamldoc import Doc, Problem
from wallctl.core.severity import Severity
from wallctl.core.signal import Signal

Engine = Literal["espeak-ng", "piper", "off"]
FIELDS = ("severity", "what", "where", "source", "type", "category", "text", "site")
SUMMARY_FIELDS = ("count",)

SEVERITY_WORDS: dict[str, dict[str, str]] = {
    "en": {"critical": "Critical", "major": "Major", "minor": "Minor", "warning": "Warning", "indeterminate": "Alarm"},
    "zh": {
        "critical": "严重告警",
        "major": "重要告警",
        "minor": "次要告警",
        "warning": "警告",
        "indeterminate": "告警",
    },
}


@dataclass(frozen=True)
class BurstSpec:
    window_s: float = spec("a burst: more than 'max' alarms to speak within this many seconds", default=10.0, minimum=1)
    max: int = spec("alarms read out one by one within the window; the rest are summarised", default=3, minimum=1)
    hold_s: float = spec(
        "the summary is spoken once no new alarm came for this many seconds (or the window ends)",
        default=2.0,
        minimum=0,
    )


@dataclass(frozen=True)
class VoiceSpec:
    engine: Engine = spec("espeak-ng (Debian package, the default), piper (where its voices are installed) or off")
    language: str = spec("the language spoken: a key of every template (en, zh, ...)", default="en")
    priorities: tuple[Literal["high", "medium", "low"], ...] = spec(
        "priorities of the sound map whose alarms are spoken", default=("high",)
    )
    repeat: bool = spec("speak again on every re-sound (false: once per alarm raised)", default=False)
    volume: float = spec("0..1", default=1.0, minimum=0, maximum=1)
    rate: int = spec("words per minute (espeak-ng)", default=160, minimum=80, maximum=450)
    voices: dict[str, str] = spec(
        "the engine's voice per language (espeak-ng: en-us, cmn; piper: the .onnx model file)",
        default_factory=lambda: {"en": "en-us", "zh": "cmn"},
    )
    templates: dict[str, dict[str, str]] = spec(
        "per event class (an alarm type, else a category, else 'default'): per language, a sentence with "
        "{severity} {what} {where} {source} {type} {category} {text} {site}",
        default_factory=dict,
    )
    summary: dict[str, str] = spec("per language, what a burst is summarised as, with {count}", default_factory=dict)
    flood: dict[str, str] = spec("per language, added to the summary during a flood", default_factory=dict)
    words: dict[str, dict[str, str]] = spec(
        "per language, the word spoken for each severity (defaults for en and zh)", default_factory=dict
    )
    phrases: dict[str, dict[str, str]] = spec(
        "per language, what {what} says for an alarm type (else the type with spaces for underscores)",
        default_factory=dict,
    )
    burst: BurstSpec = spec("when alarms come too fast to read out", default_factory=BurstSpec)


@dataclass(frozen=True, slots=True)
class Utterance:
    """One sentence to say after the tone the annunciator played as ``cue`` (None: whenever the channel is free)."""

    text: str
    language: str
    cue: int | None
    kind: Literal["alarm", "summary", "sample"] = "alarm"
    about: str = ""  # a sample's template class (the self-test names it)


_FORMATTER = string.Formatter()


def placeholders(template: str) -> list[str]:
    """The ``{names}`` a template uses; raises ValueError for a malformed one (an unmatched brace)."""
    return [name for _, name, _, _ in _FORMATTER.parse(template) if name is not None]


def check_voice(voice: VoiceSpec, doc: Doc, at: tuple[str, ...] = ("voice",)) -> list[Problem]:
    """Every template well formed, using only known fields, and in the spoken language (file:line of each)."""
    problems: list[Problem] = []
    lang = voice.language

    def check(path: tuple[str | int, ...], text: str, allowed: tuple[str, ...]) -> None:
        try:
            names = placeholders(text)
        except ValueError as exc:
            problems.append(doc.problem((*at, *path), f"template {text!r} is malformed: {exc}"))
            return
        for name in names:
            if name not in allowed:
                problems.append(
                    doc.problem((*at, *path), f"unknown field {{{name}}} in {text!r}; expected {', '.join(allowed)}")
                )

    for cls, by_lang in voice.templates.items():
        for lg, text in by_lang.items():
            check(("templates", cls, lg), text, FIELDS)
        if voice.engine != "off" and cls != "default" and lang not in by_lang:
            problems.append(
                doc.problem(
                    (*at, "templates", cls),
                    f"no {lang!r} sentence, the language spoken: alarms of class {cls!r} say the default one",
                    level="warning",
                )
            )
    for lg, text in voice.summary.items():
        check(("summary", lg), text, SUMMARY_FIELDS)
    if voice.engine != "off":
        if "default" not in voice.templates:
            problems.append(
                doc.problem((*at, "templates"), "no 'default' template: alarms of other classes say nothing")
            )
        elif lang not in (has := voice.templates["default"]):
            problems.append(
                doc.problem(
                    (*at, "templates", "default"),
                    f"no {lang!r} sentence, the language spoken (voice.language); has {', '.join(has)}",
                )
            )
        if lang not in voice.voices:
            problems.append(doc.problem((*at, "voices"), f"no voice for {lang!r}, the language spoken", key=False))
    return problems


def humanise(type_: str) -> str:
    """``link_down`` -> ``link down`` (what a template's ``{what}`` says when no class names it)."""
    return re.sub(r"[_\-.]+", " ", type_).strip()


class Phrasebook:
    """Sentences from templates; ``labels`` turns a source id into the topology's name for it."""

    def __init__(self, spec_: VoiceSpec, labels: Callable[[str], str] | None = None) -> None:
        self.spec = spec_
        self.labels = labels or (lambda source: source)

    def template(self, alarm: Alarm, lang: str) -> str:
        t = self.spec.templates
        for cls in (alarm.type, alarm.category or "", "default"):
            by_lang = t.get(cls)
            if by_lang and lang in by_lang:
                return by_lang[lang]
        return ""

    def sentence(self, alarm: Alarm, lang: str | None = None) -> str:
        lang = lang or self.spec.language
        return _squeeze(self.template(alarm, lang).format_map(self.values(alarm, lang)))

    def values(self, alarm: Alarm, lang: str) -> Mapping[str, str]:
        """What the template's fields say for ``alarm``: words of the language, names of the topology."""
        sev = alarm.severity if alarm.severity is not Severity.CLEARED else alarm.peak
        words = self.spec.words.get(lang) or SEVERITY_WORDS.get(lang) or SEVERITY_WORDS["en"]
        where = self.labels(alarm.source)
        return {
            "severity": words.get(sev.label, sev.label),
            "what": self.spec.phrases.get(lang, {}).get(alarm.type) or humanise(alarm.type),
            "where": f"{where}, {alarm.site}" if alarm.site and alarm.site not in where else where,
            "source": alarm.source,
            "type": alarm.type,
            "category": alarm.category or "",
            "text": alarm.text,
            "site": alarm.site or "",
        }

    def summary(self, count: int, flood: bool, lang: str | None = None) -> str:
        lang = lang or self.spec.language
        text = self.spec.summary.get(lang, "{count} new alarms.").format(count=count)
        if flood:
            text = f"{text} {self.spec.flood.get(lang, 'Flood.')}"
        return _squeeze(text)


def _squeeze(text: str) -> str:
    """Empty fields leave ". ." and double spaces behind: the engine would pause on each."""
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"(?:\s*[.,。，]\s*){2,}", lambda m: m.group(0).strip()[0] + " ", text)
    return text.strip(" ,，")


@dataclass(slots=True)
class _Burst:
    spoken: deque[float] = field(default_factory=deque)  # when alarms were read out, within the window
    held: int = 0  # alarms not read out, to be summarised
    read_out: int = 0  # alarms of the burst under way read out before it was one (the summary counts them too)
    held_since: float = 0.0
    last_held: float = 0.0


class Voice:
    """Decides what is said; ``said`` carries each :class:`Utterance` to the speech adapter."""

    def __init__(self, clock: Clock, spec_: VoiceSpec, phrasebook: Phrasebook) -> None:
        self.clock = clock
        self.spec = spec_
        self.book = phrasebook
        self.said: Signal[[Utterance]] = Signal("utterance")
        self.flood = False
        self._burst = _Burst()

    @property
    def enabled(self) -> bool:
        return self.spec.engine != "off"

    def speaks(self, priority: str) -> bool:
        return self.enabled and priority in self.spec.priorities

    def on_sounded(self, alarm: Alarm, priority: str, cue: int, *, first: bool) -> None:
        """The annunciator played ``alarm``'s tone as ``cue``: first time (raised or escalated), or a re-sound."""
        if not self.speaks(priority):
            return
        if not first:
            if self.spec.repeat and self._burst.held == 0:
                self._say(self.book.sentence(alarm), cue)
            return
        now, b = self.clock.now(), self._burst
        while b.spoken and now - b.spoken[0] > self.spec.burst.window_s:
            b.spoken.popleft()
        if self.flood or len(b.spoken) >= self.spec.burst.max or b.held:
            if b.held == 0:
                b.held_since = now
                b.read_out = len(b.spoken)  # their sentences may yet be cut by the flood's sound
            b.held += 1
            b.last_held = now
            return
        b.spoken.append(now)
        self._say(self.book.sentence(alarm), cue)

    def on_flood(self, active: bool) -> None:
        self.flood = active

    def tick(self) -> None:
        """Say the summary of a burst once it has calmed down (or its window is over)."""
        b, now = self._burst, self.clock.now()
        if b.held and (now - b.last_held >= self.spec.burst.hold_s or now - b.held_since >= self.spec.burst.window_s):
            count, b.held = b.held + b.read_out, 0  # "6 new alarms": all of the burst, read out or not
            b.spoken.clear()
            b.spoken.append(now)  # the summary counts as one reading: the next alarm alone is read out again
            self.said.emit(Utterance(self.book.summary(count, self.flood), self.spec.language, None, "summary"))

    def cancel(self) -> None:
        """Silence or acknowledgement of everything: a summary still held is not said any more."""
        self._burst.held = 0

    def samples(self, source: str = "core-router-1") -> list[Utterance]:
        """One sentence per template in the spoken language, for the self-test (``wallctl sounds``): each about
        ``source`` (a node of the map: its name is said as the room will hear it), and the burst summary."""
        lang, book, out = self.spec.language, self.book, []
        for cls, by_lang in self.spec.templates.items():
            if lang in by_lang:
                type_ = cls if cls != "default" else "node_down"
                sample = Alarm(
                    source, type_, "network", Severity.CRITICAL, Severity.CRITICAL, 0.0, 0.0, text="self-test"
                )
                text = _squeeze(by_lang[lang].format_map(book.values(sample, lang)))
                out.append(Utterance(text, lang, None, "sample", about=cls))
        out.append(Utterance(book.summary(12, True), lang, None, "sample", about="summary"))
        return out

    def _say(self, text: str, cue: int) -> None:
        if text:
            self.said.emit(Utterance(text, self.spec.language, cue))
