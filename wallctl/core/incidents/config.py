"""``incidents:`` and ``escalation:`` in config/wallctl.yaml: which alarms open an incident in the center's ticket
system, and who is told (e-mail, SMS) when nobody acknowledges.

Everything that can be checked without the network is checked here, so a typo is a ``file:line:col`` problem at
``wallctl validate`` or at start, not a ticket that never opens. Credentials live in environment variables that
only the controller needs: :func:`check_credentials` is run by the controller and ``validate``, not by every
process that reads the file (a display PC has no SMTP password).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Literal

from wallctl.core.alarms.match import AlarmMatch
from wallctl.core.files.spec import items, spec
from wallctl.core.files.template import Template
from wallctl.core.files.yamldoc import Doc, PathKey, Problem
from wallctl.core.severity import Severity

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def minute_of_day(text: str) -> int:
    """``"07:30"`` -> 450; raises ValueError with the expected form."""
    m = _HHMM.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not a time of day HH:MM (00:00 to 23:59)")
    return int(m.group(1)) * 60 + int(m.group(2))


def in_span(minute: int, start: int, end: int) -> bool:
    """Is ``minute`` in [start, end)? A span may pass midnight (22:00-07:00); start == end is the whole day."""
    if start == end:
        return True
    return start <= minute < end if start < end else minute >= start or minute < end


@dataclass(frozen=True)
class Match(AlarmMatch):
    """Which alarms: as in every match, plus ``severity``, a list of severities (the contract's spelling)."""

    severity: tuple[Severity, ...] = spec("any of these severities (same as severities)", default=())

    def applies(self, *, source: str, type: str, category: str | None, severity: Severity) -> bool:
        if self.severity and severity not in self.severity:
            return False
        return self.matches(source=source, type=type, category=category, severity=severity)


@dataclass(frozen=True)
class IncidentsConfig:
    """One incident per cause: a root alarm and its consequences ride on one ticket."""

    connector: Literal["webhook", "request_tracker"] = spec(
        "webhook: POST the contract's JSON to url; request_tracker: RT's REST 2 API at url (needs queue, token_env)"
    )
    url: str = spec("the webhook's URL, or RT's base URL (https://rt.example: wallctl calls <url>/REST/2.0)")
    match: Match = spec("which alarms open an incident", default_factory=Match)
    open_after_s: float = spec(
        "open when a matching alarm stays unacknowledged this long (0: at once)", default=0.0, minimum=0
    )
    queue: str | None = spec("request_tracker: the queue tickets are created in", default=None)
    token_env: str | None = spec(
        "request_tracker: the environment variable holding an RT auth token (sent as 'Authorization: token ...')",
        default=None,
    )
    poll_s: float = spec(
        "request_tracker: how often open tickets are read back (owner, status)", default=30.0, minimum=1, maximum=60
    )
    timeout_s: float = spec("one request's time limit (then retried)", default=10.0, minimum=0.5, maximum=120)

    def __post_init__(self) -> None:
        if not re.match(r"^https?://[^/\s]+", self.url):
            raise ValueError(f"url {self.url!r} is not an http:// or https:// URL")
        if self.connector == "request_tracker":
            missing = [k for k in ("queue", "token_env") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"the request_tracker connector needs {' and '.join(missing)}")
        else:
            extra = [k for k in ("queue", "token_env") if getattr(self, k) is not None]
            if extra:
                raise ValueError(f"{' and '.join(extra)}: only for the request_tracker connector, not {self.connector}")


@dataclass(frozen=True)
class SmtpConfig:
    host: str = spec("mail server")
    sender: str = spec("the From address", alias="from")
    port: int = spec("its port (587: submission with STARTTLS)", default=587, minimum=1, maximum=65535)
    starttls: bool = spec("upgrade the connection with STARTTLS (refused if the server cannot)", default=True)
    username: str | None = spec("log in as this user (needs password_env)", default=None)
    password_env: str | None = spec("environment variable holding the password", default=None)
    ca_file: str | None = spec(
        "CA certificate (PEM) that signed the server's certificate; default the system's CAs", default=None
    )
    timeout_s: float = spec("one delivery's time limit (then retried)", default=20.0, minimum=1, maximum=300)

    def __post_init__(self) -> None:
        if (self.username is None) != (self.password_env is None):
            raise ValueError("username and password_env go together (log in with both, or neither)")


SMS_FIELDS = ("number", "text")


@dataclass(frozen=True)
class SmsConfig:
    url: str = spec("the SMS gateway's URL (POSTed to, one request per number)")
    body: str = spec(
        "request body with {number} and {text}; a body that is JSON gets the values JSON-escaped and is sent as "
        "application/json, any other as text/plain"
    )
    token_env: str | None = spec(
        "environment variable holding a bearer token for the gateway (Authorization: Bearer ...)", default=None
    )
    timeout_s: float = spec("one request's time limit (then retried)", default=10.0, minimum=0.5, maximum=120)

    def __post_init__(self) -> None:
        if not re.match(r"^https?://[^/\s]+", self.url):
            raise ValueError(f"url {self.url!r} is not an http:// or https:// URL")
        Template(self.body, SMS_FIELDS)  # raises ValueError naming the bad placeholder

    @property
    def template(self) -> Template:
        return Template(self.body, SMS_FIELDS)


@dataclass(frozen=True)
class QuietHours:
    """Messages due in this daily window wait until it ends (and go then, if still unacknowledged)."""

    start: str = spec("HH:MM", alias="from")
    end: str = spec("HH:MM (may pass midnight: 22:00 to 07:00)", alias="to")
    except_severity: tuple[Severity, ...] = spec("these severities are sent all the same", default=())

    def __post_init__(self) -> None:
        minute_of_day(self.start)
        minute_of_day(self.end)

    def holds(self, minute: int, severity: Severity) -> bool:
        if severity in self.except_severity:
            return False
        return in_span(minute, minute_of_day(self.start), minute_of_day(self.end))


@dataclass(frozen=True)
class Shift:
    """Who is on duty from ``from`` to ``to`` each day; told in addition to the rule's own recipients."""

    start: str = spec("HH:MM", alias="from")
    end: str = spec("HH:MM (may pass midnight)", alias="to")
    email: tuple[str, ...] = spec("e-mail addresses", default=())
    sms: tuple[str, ...] = spec("phone numbers", default=())
    name: str | None = spec("the shift's name (in the audit log)", default=None)

    def __post_init__(self) -> None:
        minute_of_day(self.start)
        minute_of_day(self.end)

    def on_duty(self, minute: int) -> bool:
        return in_span(minute, minute_of_day(self.start), minute_of_day(self.end))


@dataclass(frozen=True)
class EscalationRule:
    match: Match = spec("which alarms", default_factory=Match)
    after_s: float = spec("tell people when a matching alarm stays unacknowledged this long", default=300.0, minimum=0)
    email: tuple[str, ...] = spec("e-mail addresses", default=())
    sms: tuple[str, ...] = spec("phone numbers", default=())
    roster: tuple[Shift, ...] = spec("on-duty shifts by time of day, told as well", default=())
    repeat_s: float | None = spec(
        "tell again this often while still unacknowledged (null: once)", default=None, minimum=60
    )
    quiet: QuietHours | None = spec("hours in which nothing is sent for this rule", default=None)

    def __post_init__(self) -> None:
        if not (self.email or self.sms or self.roster):
            raise ValueError("a rule needs someone to tell: email, sms or roster")

    def recipients(self, minute: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(e-mail addresses, numbers) to tell at this minute of the day: the rule's and the shifts on duty."""
        email, sms = list(self.email), list(self.sms)
        for shift in self.roster:
            if shift.on_duty(minute):
                email += [a for a in shift.email if a not in email]
                sms += [n for n in shift.sms if n not in sms]
        return tuple(email), tuple(sms)


@dataclass(frozen=True)
class EscalationConfig:
    """Tell people outside the room: an acknowledgement stops it; a flood is one summary, not a message per alarm."""

    smtp: SmtpConfig | None = spec("mail server for e-mail recipients", default=None)
    sms: SmsConfig | None = spec("HTTP SMS gateway for phone numbers", default=None)
    rules: tuple[EscalationRule, ...] = spec("who is told about which alarms, and when", default=())
    timezone: str | None = spec(
        "IANA time zone of quiet hours and shifts (e.g. Asia/Shanghai); default the controller's local time",
        default=None,
    )

    def __post_init__(self) -> None:
        for i, rule in items(self.rules):  # a rule that failed its own checks is None here
            wants_mail = rule.email or any(s.email for s in rule.roster)
            wants_sms = rule.sms or any(s.sms for s in rule.roster)
            if wants_mail and self.smtp is None:
                raise ValueError(f"rules[{i}] sends e-mail, but there is no smtp server (escalation.smtp)")
            if wants_sms and self.sms is None:
                raise ValueError(f"rules[{i}] sends SMS, but there is no SMS gateway (escalation.sms)")
        if self.timezone is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"timezone {self.timezone!r} is not a known IANA time zone") from None


_CREDENTIALS: tuple[tuple[PathKey, str], ...] = (
    (("incidents", "token_env"), "the RT token"),
    (("escalation", "smtp", "password_env"), "the SMTP password"),
    (("escalation", "sms", "token_env"), "the SMS gateway's token"),
)


def check_credentials(doc: Doc, environ: dict[str, str] | None = None) -> list[Problem]:
    """Each ``*_env`` of incidents and escalation must name a variable that is set: a controller that cannot log in
    would queue messages forever. Reported at the variable's name in the file."""
    env = os.environ if environ is None else environ
    problems: list[Problem] = []
    for path, what in _CREDENTIALS:
        value: Any = doc.data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and not env.get(value):
            dotted = ".".join(str(p) for p in path)
            problems.append(
                doc.problem(
                    path, f"{dotted}: the environment variable {value} ({what}) is not set (export {value}=...)"
                )
            )
    return problems
