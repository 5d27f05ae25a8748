"""A display node's keys are commands to the controller (with the token and the node as origin); Up/Down move the
node's own selection through the rows it shows."""

from __future__ import annotations

import json
from dataclasses import fields

from tests.support.wall import ROOT
from wallctl.core.alarms.engine import AlarmEngine
from wallctl.core.alarms.event import Event
from wallctl.core.alarms.flood import FloodPolicy
from wallctl.core.clock import ManualClock
from wallctl.core.config.settings import HotkeyConfig
from wallctl.core.severity import Severity
from wallctl.core.view.rows import RankedFeed
from wallctl.core.wall.hotkeys import mode_hotkeys, normalize_hotkey
from wallctl.core.wall.presets import load_layouts
from wallctl.core.wire.keys import NodeKeys
from wallctl.core.wire.mirror import WallMirror
from wallctl.core.wire.view import encode_rows


def node() -> tuple[NodeKeys, WallMirror, list[dict[str, object]], dict[str, str]]:
    reserved = {f.name: f.default for f in fields(HotkeyConfig)}
    layouts = load_layouts(ROOT / "layouts", reserved_hotkeys=reserved, kpi_series=["cold_aisle_temp", "payments_tps"])
    clock = ManualClock(1.8e9)
    mirror = WallMirror(clock, layouts, (), FloodPolicy(), maps=["estate"])
    engine = AlarmEngine(clock)
    engine.ingest(Event("a", "t", Severity.MINOR, clock.now()))
    engine.ingest(Event("b", "t", Severity.CRITICAL, clock.now()))
    engine.ingest(Event("c", "t", Severity.MAJOR, clock.now()))
    engine.ack(("b", "t"))
    body = encode_rows(RankedFeed(engine).rows(), seq=1, now=clock.now(), list_name="x")
    mirror.apply_view("lists/x", json.loads(json.dumps({**body, "epoch": 1.0})))
    sent: list[dict[str, object]] = []
    keys = NodeKeys(mirror, "left", lambda p: sent.append(json.loads(p)), clock, token="s3cret", actor="duty")
    return keys, mirror, sent, reserved


def test_keys_are_commands_with_the_node_as_origin() -> None:
    keys, mirror, sent, reserved = node()
    actions = keys.actions(mirror.layouts, reserved, silence_s=120, shelve_s=3600, local={})
    actions[normalize_hotkey(reserved["ack"])]()  # no selection: the first unacknowledged row shown
    briefing = mode_hotkeys(mirror.layouts.modes.values(), reserved)["briefing"]
    actions[briefing]()
    actions[normalize_hotkey(reserved["silence"])]()
    assert [(c["action"], c.get("source"), c.get("mode"), c.get("seconds")) for c in sent] == [
        ("ack", "c", None, None),  # b (critical) is acknowledged: c (major) is the first unacknowledged row
        ("mode", None, "briefing", None),
        ("silence", None, None, 120),
    ]
    assert all(c["origin"] == "display/left" and c["token"] == "s3cret" and c["actor"] == "duty" for c in sent)
    assert all(c["time"] == 1.8e9 and str(c["request_id"]).startswith("left-") for c in sent)
    assert len({c["request_id"] for c in sent}) == 3


def test_up_and_down_move_the_node_selection_and_ack_follows_it() -> None:
    keys, mirror, sent, reserved = node()
    actions = keys.actions(mirror.layouts, reserved, silence_s=120, shelve_s=3600, local={})
    down, up = normalize_hotkey(reserved["next_alarm"]), normalize_hotkey(reserved["previous_alarm"])
    shown = keys.rows()
    assert len(shown) == 3
    actions[down]()
    assert mirror.selected == shown[0]
    actions[down]()
    actions[down]()
    actions[down]()  # wraps around
    assert mirror.selected == shown[0]
    actions[up]()
    assert mirror.selected == shown[-1]
    actions[normalize_hotkey(reserved["ack"])]()
    assert sent[-1]["source"] == shown[-1][0]  # the selected row, not the first unacknowledged one
