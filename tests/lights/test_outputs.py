"""The controller's outputs component over a real service, a real runner and a real Modbus TCP tower: who drives the
outputs under hot standby, the alarm of a failing output, the state's ``outputs`` and what is left at shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bridges import wait_for
from tests.support.devices import CONTRACT_LIGHTS, ModbusTower
from tests.support.wall import write_config
from wallctl.adapters.outputs.device import DeviceRunner
from wallctl.adapters.outputs.modbus_tcp import ModbusTcpDriver
from wallctl.controller.build import build_core
from wallctl.controller.loop import AsyncioLoop
from wallctl.controller.outputs import Outputs, priority_of
from wallctl.controller.payloads import state_payload
from wallctl.controller.service import WallService
from wallctl.core.alarms.event import Event
from wallctl.core.clock import ManualClock
from wallctl.core.config.settings import load_config
from wallctl.core.lights.policy import LightBoard
from wallctl.core.severity import Severity
from wallctl.core.sound.annunciator import NullSink

RED, AMBER, GREEN, BLUE, BUZZER = range(5)


class Rig:
    def __init__(self, tmp_path: Path, tower: ModbusTower) -> None:
        section = f"""
outputs:
  - name: tower-1
    driver: modbus_tcp
    host: 127.0.0.1
    port: {tower.port}
    timeout_s: 0.3
    channels: {{red: {{coil: 0}}, amber: {{coil: 1}}, green: {{coil: 2}}, blue: {{coil: 3}}, buzzer: {{coil: 4}}}}
{CONTRACT_LIGHTS}"""
        cfg = load_config(write_config(tmp_path, extra=section))
        self.clock = ManualClock()
        self.service: WallService = build_core(cfg, clock=self.clock, sink=NullSink()).service
        self.service.set_link("connected")
        self.loop = AsyncioLoop()
        self.active = self.held = True
        board = LightBoard(cfg.model.lights, priority_of(self.service.annunciator.soundmap))
        self.runner = DeviceRunner(ModbusTcpDriver(cfg.model.outputs[0]), self.report).start()
        self.outputs = Outputs(
            self.service, board, [self.runner], self.loop, active=lambda: self.active, controller_ok=lambda: self.held
        )
        self.outputs.start()

    def report(self, ok: bool, error: str | None) -> None:
        self.loop.call_soon(lambda: self.outputs.on_status("tower-1", ok, error))

    def turn(self) -> None:
        """Let the controller's loop run what was handed to it."""
        self.loop.loop.run_until_complete(asyncio.sleep(0.05))

    def critical(self, severity: Severity = Severity.CRITICAL) -> None:
        self.service.ingest(Event("br05-rtr", "node_down", severity, self.clock.now(), category="network"))
        self.service.notify()
        self.turn()


@pytest.fixture
def tower() -> Iterator[ModbusTower]:
    t = ModbusTower()
    yield t
    t.close()


@pytest.fixture
def rig(tmp_path: Path, tower: ModbusTower) -> Iterator[Rig]:
    r = Rig(tmp_path, tower)
    yield r
    r.runner.close()
    r.runner.wait_closed(2)
    r.loop.close()


def test_the_state_says_what_each_channel_shows(rig: Rig, tower: ModbusTower) -> None:
    rig.turn()
    tower.wait_coils({GREEN: True, RED: False})
    assert state_payload(rig.service, 1)["outputs"] == {
        "tower-1": {"status": "ok", "channels": {"red": "off", "amber": "off", "green": "steady", "blue": "off",
                                                 "buzzer": "off"}}
    }  # fmt: skip
    rig.critical()
    assert state_payload(rig.service, 2)["outputs"]["tower-1"]["channels"]["red"] == "fast"
    tower.wait_coils({BUZZER: True, GREEN: False})


def test_a_standby_controller_writes_nothing_and_the_one_taking_over_writes_everything(
    rig: Rig, tower: ModbusTower
) -> None:
    rig.turn()
    tower.wait_coils({GREEN: True})
    rig.active = False  # another controller took the wall
    rig.service.state_changed.emit()
    rig.turn()
    tower.set_coil(GREEN, False)  # ... and its tower says something else now
    rig.critical()
    assert tower.steady(BUZZER, 0.6) and tower.coils()[BUZZER] is False  # not this one's to say
    rig.active = True  # the wall is this one's again: the whole picture, at once
    rig.service.state_changed.emit()
    rig.turn()
    tower.wait_coils({BUZZER: True, GREEN: False}, what="taken over")


def test_with_no_controller_holding_the_wall_a_standby_shows_it_cannot_be_trusted(rig: Rig, tower: ModbusTower) -> None:
    rig.active, rig.held = False, False
    rig.service.state_changed.emit()
    rig.turn()
    tower.wait_coils({BLUE: True, GREEN: False}, what="untrusted, from the standby")


def test_a_failing_output_is_an_alarm_of_the_wall_until_it_answers(rig: Rig) -> None:
    rig.outputs.on_status("tower-1", False, "modbus_tcp 127.0.0.1:1 unit 1: no answer within 0.3 s (writing red)")
    alarm = rig.service.engine.get(("output/tower-1", "output_failed"))
    assert alarm is not None and alarm.severity is Severity.MAJOR and "no answer within 0.3 s" in alarm.text
    assert state_payload(rig.service, 1)["outputs"]["tower-1"]["status"] == "failed"
    assert any("output tower-1 failed" in e for e in rig.service.diagnostics.device_errors)
    rig.outputs.on_status("tower-1", True)
    alarm = rig.service.engine.get(("output/tower-1", "output_failed"))
    assert alarm is None or alarm.severity is Severity.CLEARED
    assert state_payload(rig.service, 2)["outputs"]["tower-1"]["status"] == "ok"


def test_at_shutdown_the_outputs_say_nobody_is_watching(rig: Rig, tower: ModbusTower) -> None:
    rig.critical()
    tower.wait_coils({BUZZER: True})
    rig.outputs.stop()
    wait_for(lambda: not rig.runner._thread.is_alive(), 2, "the runner stopped")
    tower.wait_coils({BLUE: True, BUZZER: False, RED: True})  # untrusted, red made steady, the buzzer quiet
    assert tower.steady(RED, 0.6) and tower.steady(BLUE, 0.1)
