"""Who to tell, and when: escalation to people outside the room, decided over the live alarms and a clock.

An alarm is watched by a rule while it is in alarm, unacknowledged and matches; it is told after ``after_s``, then
every ``repeat_s`` while still unacknowledged. An acknowledgement (or the alarm clearing) ends its watch. Alarms due
in the same step go out as one message, and during a flood each rule sends one summary (again after ``repeat_s``),
never a message per alarm. Quiet hours hold messages back until they end; the roster adds whoever is on duty.

Message keys are derived from what they tell (rule, alarm, when it became unacknowledged, how many times told), so
the same message decided again after a restart has the same key and the outbox sends it once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from wallctl.core.alarms.alarm import Alarm, AlarmState
from wallctl.core.alarms.event import AlarmKey
from wallctl.core.incidents.config import EscalationConfig, EscalationRule

MAX_LISTED = 20  # alarms named in one message; the rest are counted


@dataclass(frozen=True)
class Notice:
    key: str  # idempotency key
    kind: Literal["email", "sms"]
    to: tuple[str, ...]  # e-mail addresses (one message to all), or one phone number
    subject: str
    text: str
    rule: int
    alarms: tuple[AlarmKey, ...]


@dataclass(slots=True)
class _Watch:
    since: float  # when it became unacknowledged
    told_at: float | None = None
    told: int = 0


class Escalator:
    def __init__(
        self,
        config: EscalationConfig,
        wall_id: str,
        lookup: Callable[[AlarmKey], Alarm | None],
        flood: Callable[[], float | None],
    ) -> None:
        """``flood`` gives the start time of the flood in progress, or None."""
        self.config = config
        self.wall_id = wall_id
        self.lookup = lookup
        self.flood = flood
        self.tz = ZoneInfo(config.timezone) if config.timezone else None
        self._watch: list[dict[AlarmKey, _Watch]] = [{} for _ in config.rules]
        self._flood_told: dict[int, tuple[float, float, int]] = {}  # rule -> (flood start, told at, times)

    def observe(self, key: AlarmKey, alarm: Alarm | None) -> None:
        for i, rule in enumerate(self.config.rules):
            watch = self._watch[i]
            if alarm is not None and alarm.state is AlarmState.UNACK and _applies(rule, alarm):
                if key not in watch:
                    watch[key] = _Watch(alarm.raised_at or alarm.first)
            else:
                watch.pop(key, None)

    def watching(self, rule: int) -> int:
        return len(self._watch[rule])

    def step(self, now: float) -> list[Notice]:
        minute = self._minute(now)
        flood_start = self.flood()
        out: list[Notice] = []
        for i, rule in enumerate(self.config.rules):
            watch = self._watch[i]
            due = [k for k, w in watch.items() if _due(rule, w, now)]
            if not due:
                continue
            alarms = [a for a in (self.lookup(k) for k in due) if a is not None]
            worst = max((a.severity for a in alarms), default=None)
            if worst is None or (rule.quiet is not None and rule.quiet.holds(minute, worst)):
                continue  # still due when the quiet hours end
            if flood_start is not None:
                out += self._flood_summary(i, rule, flood_start, now, minute)
                continue
            for k in due:
                w = watch[k]
                w.told_at, w.told = now, w.told + 1
            if len(alarms) == 1:
                a = alarms[0]
                w = watch[a.key]
                key = f"{self.wall_id}:esc{i}:{a.source}:{a.type}:{w.since:.3f}:{w.told}"
                subject = f"[{self.wall_id}] {a.severity.label.upper()} unacknowledged: {a.source}: {a.text or a.type}"
                out += self._notices(i, rule, minute, key, subject, _lines([a], watch), (a.key,))
            else:
                ident = ",".join(f"{a.source}|{a.type}|{watch[a.key].since:.3f}|{watch[a.key].told}" for a in alarms)
                key = f"{self.wall_id}:esc{i}:batch:{hashlib.sha1(ident.encode()).hexdigest()[:20]}"
                subject = f"[{self.wall_id}] {len(alarms)} alarms unacknowledged, worst {worst.label}"
                out += self._notices(i, rule, minute, key, subject, _lines(alarms, watch), tuple(a.key for a in alarms))
        return out

    def _flood_summary(self, i: int, rule: EscalationRule, start: float, now: float, minute: int) -> list[Notice]:
        """One message per flood and rule (again each ``repeat_s`` while it lasts); the alarms it covers count as
        told, so they are not told one by one when it ends."""
        watch = self._watch[i]
        last = self._flood_told.get(i)
        for w in watch.values():
            if w.told_at is None or _due(rule, w, now):
                w.told_at, w.told = now, w.told + 1
        if last is not None and last[0] == start and (rule.repeat_s is None or now - last[1] < rule.repeat_s):
            return []
        times = last[2] + 1 if last is not None and last[0] == start else 1
        self._flood_told[i] = (start, now, times)
        alarms = sorted(
            (a for a in (self.lookup(k) for k in watch) if a is not None), key=lambda a: (-a.severity, a.first)
        )
        key = f"{self.wall_id}:esc{i}:flood:{start:.3f}:{times}"
        subject = f"[{self.wall_id}] alarm flood: {len(alarms)} alarms unacknowledged"
        return self._notices(i, rule, minute, key, subject, _lines(alarms, watch), tuple(a.key for a in alarms))

    def _notices(
        self,
        i: int,
        rule: EscalationRule,
        minute: int,
        key: str,
        subject: str,
        lines: list[str],
        alarms: tuple[AlarmKey, ...],
    ) -> list[Notice]:
        emails, numbers = rule.recipients(minute)
        body = "\n".join(lines)
        out = [Notice(key + ":mail", "email", emails, subject, body, i, alarms)] if emails else []
        short = subject if len(alarms) != 1 else subject.split("] ", 1)[-1]
        out += [Notice(f"{key}:sms:{n}", "sms", (n,), subject, short[:300], i, alarms) for n in numbers]
        return out

    def _minute(self, now: float) -> int:
        t = datetime.fromtimestamp(now, self.tz) if self.tz else datetime.fromtimestamp(now).astimezone()
        return t.hour * 60 + t.minute


def _applies(rule: EscalationRule, a: Alarm) -> bool:
    return rule.match.applies(source=a.source, type=a.type, category=a.category, severity=a.severity)


def _due(rule: EscalationRule, w: _Watch, now: float) -> bool:
    if w.told_at is None:
        return now - w.since >= rule.after_s
    return rule.repeat_s is not None and now - w.told_at >= rule.repeat_s


def _lines(alarms: list[Alarm], watch: dict[AlarmKey, _Watch]) -> list[str]:
    lines = []
    for a in alarms[:MAX_LISTED]:
        since = datetime.fromtimestamp(watch[a.key].since).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
        site = f" [{a.site}]" if a.site else ""
        lines.append(f"{a.severity.label.upper()} {a.source}{site} {a.type}: {a.text} (unacknowledged since {since})")
    if len(alarms) > MAX_LISTED:
        lines.append(f"... and {len(alarms) - MAX_LISTED} more")
    return lines
