"""The banner says when the wall's own health makes it less than it seems: a journal that is off or failing, a
sound device nobody hears, commands taken without a token (issues 21 and 22)."""

from __future__ import annotations

from collections.abc import Callable

from tests.qt.conftest import Wall
from wallctl.controller.journal import JournalStatus
from wallctl.qt.banner import banner_fields


def texts(w: Wall) -> list[str]:
    return [t for t, _ in banner_fields(w.source, w.clock.now())]


def test_a_journal_that_is_not_ok_is_on_the_banner(make_wall: Callable[..., Wall]) -> None:
    w = make_wall()
    assert not any(t.startswith("JOURNAL") for t in texts(w))
    journal = w.service.journal
    journal._set_status(JournalStatus.FAILING, "cannot write: database or disk is full")  # as a failed commit does
    assert "JOURNAL FAILING" in texts(w)
    journal._set_status(JournalStatus.OFF, "cannot open: read-only file system")
    assert "JOURNAL OFF" in texts(w)
    journal._set_status(JournalStatus.OK, None)
    assert not any(t.startswith("JOURNAL") for t in texts(w))


def test_a_failed_sound_device_and_open_commands_are_on_the_banner(make_wall: Callable[..., Wall]) -> None:
    w = make_wall()
    w.service.set_audio_device(False, "Error opening PCM device")
    assert "SOUND DEVICE FAILED" in texts(w)
    w.service.set_audio_device(True)
    assert "SOUND DEVICE FAILED" not in texts(w)
    w.service.commands_open = True
    assert "COMMANDS WITHOUT TOKEN" in texts(w)


def test_hot_standby_shows_the_active_controller_and_a_lost_standby(make_wall: Callable[..., Wall]) -> None:
    w = make_wall()
    assert not any(t.startswith("CTL") for t in texts(w))  # one controller: nothing to say
    roles = {"ctl-a": "active", "ctl-b": "standby"}
    w.service.controllers = lambda: roles
    w.service.state_changed.emit()
    assert "CTL ctl-a · standby ok" in texts(w)
    roles["ctl-b"] = "offline"
    w.service.state_changed.emit()
    assert "CTL ctl-a · STANDBY ctl-b DOWN" in texts(w)


def test_a_failed_speech_engine_is_on_the_banner_and_the_sound_is_not(make_wall: Callable[..., Wall]) -> None:
    w = make_wall()
    w.service.speech_on = True  # an engine is attached (the wiring does this in the controller)
    w.service.state_changed.emit()
    assert "VOICE FAILED" not in texts(w)
    w.service.set_voice(False, "speech engine 'piper' is not installed")
    assert "VOICE FAILED" in texts(w) and "SOUND DEVICE FAILED" not in texts(w)  # the tones go on
    w.service.set_voice(True)
    assert "VOICE FAILED" not in texts(w)
