"""The wall's state and alarm list as published on ``<prefix>/state`` and ``<prefix>/alarms`` (the contract's field
names); built from the service, encoded strictly by :mod:`wallctl.core.wire.strict`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wallctl.controller.journal import Journal
from wallctl.core.alarms.alarm import Alarm

if TYPE_CHECKING:
    from wallctl.controller.service import WallService


def state_payload(service: WallService, seq: int) -> dict[str, Any]:
    """The contract's ``<prefix>/state`` (with its extensions); O(1) whatever the number of alarms."""
    counts = service.engine.counts()
    decision = service.decision
    audible = service.annunciator.audible
    return {
        "wall_id": service.parts.wall_id,
        "seq": seq,
        "time": round(service.clock.now(), 3),
        "mode": decision.mode,
        "mode_since": round(decision.since, 3),
        "focus": {"region": decision.focus_region, "target": decision.focus_target},
        "reason": decision.reason,
        "rules_mode": decision.rules_choice,
        "pinned": (
            {"mode": decision.pin.mode, "until": round(decision.pin.until, 3), "origin": decision.pin.origin}
            if decision.pin
            else None
        ),
        "alarms": {
            "active": counts.active,
            "unacked": counts.unacked,
            "shelved": counts.shelved,
            "suppressed": counts.suppressed,
            "by_severity": counts.by_severity,
        },
        "highest": counts.highest.label if counts.highest is not None else None,
        "flood": service.engine.flood.active,
        "audible": {
            "sound": audible.sound if service.audio_device_ok else None,
            "silenced_until": audible.silenced_until,
            "device": "ok" if service.audio_device_ok else "failed",
            "self_test": audible.self_test,
            "self_test_text": self_test_text(service, audible.self_test),
            "voice": voice_state(service),  # extension: spoken announcements "ok", "failed" or "off"
        },
        "broker": service.link.state,
        "rejected_events": service.diagnostics.rejected_total,
        "rejected_by_reason": dict(service.diagnostics.rejected_by_reason),
        "duplicate_events": service.engine.duplicates,
        "events": service.engine.events_applied,
        "journal": journal_state(service.journal),
        "commands_open": service.commands_open,
        "problems": len(service.diagnostics.device_errors) + len(service.diagnostics.config_errors),
        "epoch": round(service.started, 3),
        "sites": service.sites.summary(),  # extension: each branch site's link as the wall sees it
        "outputs": service.outputs(),  # each beacon's or relay's status and what its channels show
        **controllers_state(service),
    }


def controllers_state(service: WallService) -> dict[str, Any]:
    """With hot standby: ``controller`` (the contract's: the active one's id) and ``controllers`` (extension: every
    controller known and its role, or ``offline``, for the banner). Nothing for a wall of one controller."""
    if service.controllers is None:
        return {}
    known = service.controllers()
    active = next((cid for cid, role in known.items() if role == "active"), None)
    return {"controller": active, "controllers": known}


def voice_state(service: WallService) -> str:
    if service.annunciator.voice is None or not service.speech_on:
        return "off"
    return "ok" if service.voice_ok else "failed"


def self_test_text(service: WallService, name: str | None) -> str:
    if name is not None and name.startswith("voice: "):
        return "Spoken announcement sample"
    sound = service.annunciator.soundmap.sounds.get(name) if name else None
    return sound.description if sound is not None and sound.description else ""


def journal_state(j: Journal | None) -> dict[str, Any]:
    """The journal's health as the state topic and the banner show it."""
    if j is None:
        return {"status": "off", "reason": "no journal configured"}
    return {"status": j.status.value, "reason": j.reason}


def alarms_payload(service: WallService, seq: int) -> dict[str, Any]:
    """The most important ``alarms_topic_max`` alarms with the total: bounded by what a consumer can show,
    not by how many alarms exist (200,000 rows would be megabytes per publication)."""
    alarms = service.ranking.first(service.parts.alarms_topic_max)
    total = len(service.engine)
    return {
        "seq": seq,
        "time": round(service.clock.now(), 3),
        "alarms": [_listed(a, service.incident_of(a)) for a in alarms],
        "total": total,
        "truncated": total > len(alarms),
    }


def _listed(alarm: Alarm, incident: dict[str, Any] | None) -> dict[str, Any]:
    row = alarm.to_contract()
    row["incident"] = incident
    return row
