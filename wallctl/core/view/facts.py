"""What the banner says about the wall, read from the state the controller publishes (``<prefix>/state``): the
single-process wall builds the same payload in memory, a display node receives it, and both draw the same banner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wallctl.core.severity import Severity


@dataclass(frozen=True, slots=True)
class WallFacts:
    mode: str
    reason: str  # rule name, "pin" or "default"
    rules_mode: str  # the mode the rules would show now
    pin_origin: str | None
    pin_until: float | None
    broker: str
    unacked: int
    highest: Severity | None
    sound: str | None
    silenced_until: float | None
    self_test: str | None
    self_test_text: str
    audio_ok: bool
    flood: bool
    rejected: int
    journal: str
    commands_open: bool
    problems: int  # configuration and device errors listed on the diagnostics
    controller: str = "ok"  # "lost": the controller fell silent, the picture is stale
    controllers: tuple[tuple[str, str], ...] = ()  # hot standby: (id, active | standby | offline) of each
    voice_ok: bool = True  # spoken announcements work (or are off)

    @classmethod
    def from_state(cls, s: dict[str, Any], *, controller: str = "ok") -> WallFacts:
        pin = s.get("pinned") or None
        aud = s.get("audible") or {}
        highest = s.get("highest")
        return cls(
            mode=str(s["mode"]),
            reason=str(s.get("reason") or "default"),
            rules_mode=str(s.get("rules_mode") or s["mode"]),
            pin_origin=str(pin.get("origin") or "operator") if pin else None,
            pin_until=float(pin["until"]) if pin else None,
            broker=str(s.get("broker") or "none"),
            unacked=int(s["alarms"]["unacked"]),
            highest=Severity.parse(highest) if highest else None,
            sound=aud.get("sound"),
            silenced_until=aud.get("silenced_until"),
            self_test=aud.get("self_test"),
            self_test_text=str(aud.get("self_test_text") or ""),
            audio_ok=aud.get("device", "ok") == "ok",
            flood=bool(s.get("flood")),
            rejected=int(s.get("rejected_events") or 0),
            journal=str((s.get("journal") or {}).get("status") or "ok"),
            commands_open=bool(s.get("commands_open")),
            problems=int(s.get("problems") or 0),
            controller=controller,
            controllers=tuple(sorted((str(k), str(v)) for k, v in (s.get("controllers") or {}).items())),
            voice_ok=aud.get("voice", "off") != "failed",
        )
