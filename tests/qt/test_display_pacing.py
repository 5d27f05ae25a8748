"""A display node's handling of the wire during a flood: states that keep the decision and views wait for their
batch (the latest of each), a state with another decision is applied at once, after what waited, in order."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from tests.support.wall import ROOT, write_config
from wallctl.controller.link import Inbound
from wallctl.core.alarms.flood import FloodPolicy
from wallctl.core.clock import SystemClock
from wallctl.core.wall.presets import load_layouts
from wallctl.core.wire.mirror import WallMirror
from wallctl.display_app import DisplayApp, DisplayOptions


def state(seq: int, mode: str = "normal") -> dict[str, Any]:
    return {"epoch": 1.0, "seq": seq, "mode": mode, "mode_since": 1_800_000_000.0, "events": seq}


def health(seq: int, total: int) -> dict[str, Any]:
    return {"epoch": 1.0, "seq": seq, "last_10min": 1, "mean_10min_hour": 1.0, "total_24h": total, "top": [],
            "level": "ok"}  # fmt: skip


def test_a_flood_s_views_wait_for_their_batch_and_a_switch_takes_them_first(
    qapp: QApplication, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A message of the wrong shape among them costs itself only, not the rest of its batch nor the switch."""
    app = DisplayApp(DisplayOptions(config=write_config(tmp_path)))
    app.mirror = WallMirror(SystemClock(), load_layouts(ROOT / "layouts"), (), FloodPolicy(), maps=["estate"])
    app._paced = QTimer()
    app._paced.setSingleShot(True)
    app._paced.timeout.connect(app._apply_paced)
    scheduled: list[str] = []  # the switch's timing is tested with the windows; here only that it is asked for
    app._schedule_decision = lambda *, immediately=False: scheduled.append(app.mirror.decision.mode)  # type: ignore[method-assign]
    seen: list[tuple[int, int]] = []  # (state seq, 24 h total) at each picture change, in the order applied
    app.mirror.state_changed.connect(
        lambda: seen.append((int((app.mirror.state or {}).get("seq", 0)), app.mirror.health().total_24h))
    )

    def send(tail: str, body: dict[str, Any]) -> None:
        topic = f"{app.prefix}/{tail}"
        app._on_message(Inbound(topic, json.dumps(body).encode(), True, 0, 0, 0.0, None, None, False))

    send("state", state(1))
    assert seen == [(1, 0)] and scheduled == ["normal"]  # the first state: at once
    app._pacer.note_paint(0.05)  # its frame cost 50 ms: the next batch waits 200 ms
    send("state", state(2))
    send("view/health", health(1, 10))
    send("view/health", health(2, 20))  # newer, same topic: only this one is read and applied
    send("view/map/estate", {"epoch": 1.0, "seq": 1, "nodes": [], "links": []})  # of the wrong shape
    send("state", state(3))
    assert seen == [(1, 0)] and app._paced.isActive()
    with caplog.at_level(logging.WARNING, logger="wallctl.display"):
        send("state", state(4, "incident"))  # another decision: what waited first, then it, at once
    assert seen == [(1, 0), (3, 0), (3, 20), (4, 20)] and scheduled == ["normal", "incident"]
    assert any(f"cannot read {app.prefix}/view/map/estate" in r.getMessage() for r in caplog.records)
    assert not app._paced.isActive() and not app._pacer.pending
    app._pacer.note_paint(0.001)
    send("view/health", health(3, 30))  # a cheap frame since: the next view waits 4 ms, on the timer
    assert seen[-1] == (4, 20)
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.start(2000)
    while seen[-1] != (4, 30) and deadline.isActive():
        qapp.processEvents()
    assert seen[-1] == (4, 30)
