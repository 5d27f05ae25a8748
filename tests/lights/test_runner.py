"""One output's runner against a real Modbus TCP device (pymodbus's server on loopback), watched from outside:
the flash rhythm wallctl makes, idempotent writes and re-assertion, a device that flashes by itself, a device that
never answers or drops its connection, a relay broker that is not there, and what is left showing at shutdown."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest

from tests.support.bridges import wait_for
from tests.support.devices import ModbusTower, MuteDevice
from tests.support.mosquitto import free_port
from wallctl.adapters.outputs.device import DeviceRunner
from wallctl.adapters.outputs.modbus_tcp import ModbusTcpDriver
from wallctl.adapters.outputs.mqtt import MqttDriver
from wallctl.core.config.settings import MqttConfig
from wallctl.core.lights.config import ChannelSpec, OutputSpec


def tower_spec(port: int, **kw: Any) -> OutputSpec:
    channels = {name: ChannelSpec(coil=i) for i, name in enumerate(("red", "amber", "green", "blue", "buzzer"))}
    spec = OutputSpec(name="tower-1", driver="modbus_tcp", host="127.0.0.1", port=port, channels=channels)
    return replace(spec, timeout_s=0.3, retry_min_s=0.2, retry_max_s=0.5, **kw)


class Reports:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[tuple[bool, str | None]] = []

    def __call__(self, ok: bool, error: str | None) -> None:
        with self.lock:
            self.seen.append((ok, error))

    def last(self) -> tuple[bool, str | None] | None:
        with self.lock:
            return self.seen[-1] if self.seen else None


@pytest.fixture
def tower() -> Iterator[ModbusTower]:
    t = ModbusTower()
    yield t
    t.close()


@contextmanager
def running(spec: OutputSpec, reports: Reports | None = None) -> Iterator[DeviceRunner]:
    runner = DeviceRunner(ModbusTcpDriver(spec), reports or Reports()).start()
    try:
        yield runner
    finally:
        runner.close()
        runner.wait_closed(2)


RED, AMBER, GREEN, BLUE, BUZZER = range(5)
OFF = {"red": "off", "amber": "off", "green": "off", "blue": "off", "buzzer": "off"}


def test_wallctl_flashes_at_the_configured_rate_with_a_one_to_one_pulse(tower: ModbusTower) -> None:
    with running(tower_spec(tower.port, fast_hz=2.0, slow_hz=0.6)) as runner:
        runner.drive({**OFF, "red": "fast", "blue": "slow", "green": "steady"})
        tower.wait_coils({0: True}, what="red on")
        rate, _ = tower.rises_per_s(0, 3.2)
        assert 1.8 <= rate <= 2.2, rate  # IEC 60073 fast (1.4-2.8 Hz), at the configured 2 Hz
        slow, changes = tower.rises_per_s(3, 3.5)
        assert changes >= 3 and (slow == 0.0 or 0.45 <= slow <= 0.75), (slow, changes)
        assert tower.steady(2, 0.5) and tower.coils()[2] is True  # steady stays steady


def test_writes_are_idempotent_and_everything_is_written_again_on_request(tower: ModbusTower) -> None:
    with running(tower_spec(tower.port, refresh_s=0)) as runner:
        runner.drive({**OFF, "green": "steady"})
        tower.wait_coils({2: True, 0: False}, what="green on")
        wait_for(lambda: runner.writes == 5, 2, "every channel written once")
        runner.drive({**OFF, "green": "steady"})  # the same again: nothing to write
        runner.drive({**OFF, "green": "steady", "amber": "steady"})
        tower.wait_coils({1: True}, what="amber on")
        wait_for(lambda: runner.writes == 6, 2, "only amber written")
        tower.set_coil(2, False)  # the tower was power-cycled behind our back
        tower.wait_coils({2: False})
        runner.reassert()
        tower.wait_coils({2: True, 1: True}, what="green re-asserted")
        wait_for(lambda: runner.writes == 11, 2, "all five written again")


def test_the_refresh_puts_back_what_a_device_lost(tower: ModbusTower) -> None:
    with running(tower_spec(tower.port, refresh_s=0.5)) as runner:
        runner.drive({**OFF, "green": "steady"})
        tower.wait_coils({2: True})
        tower.set_coil(2, False)
        tower.wait_coils({2: True}, timeout=2, what="green back by the refresh")


def test_a_register_tower_that_flashes_by_itself_is_written_once(tower: ModbusTower) -> None:
    channels = {"red": ChannelSpec(register=0, payloads={"off": 0, "steady": 1, "fast": 3})}
    spec = replace(tower_spec(tower.port), channels=channels)
    with running(spec) as runner:
        before = runner.writes
        runner.drive({"red": "fast"})
        # the runner counts a write once the device has answered it, a moment after the register shows it
        wait_for(lambda: tower.registers()[0] == 3 and runner.writes > before, 3, "the tower's own fast flash")
        writes = runner.writes
        wait_for(lambda: tower.registers()[0] == 3 and runner.writes == writes, 1.0, "no toggling")
        runner.drive({"red": "steady"})
        wait_for(lambda: tower.registers()[0] == 1, 3, "steady")


def test_a_device_that_never_answers_fails_once_and_is_retried_with_back_off() -> None:
    mute = MuteDevice()
    reports = Reports()
    try:
        with running(tower_spec(mute.port), reports) as runner:
            runner.drive({**OFF, "red": "fast"})
            wait_for(lambda: reports.last() is not None, 3, "a report")
            ok, error = reports.last() or (True, None)
            assert not ok and error is not None and "no answer within 0.3 s" in error, error
            wait_for(lambda: len(mute.accepted) >= 3, 5, "retries, with back-off")
            assert reports.seen == [(False, error)]  # said once, not once per retry
    finally:
        mute.close()


def test_a_device_that_comes_back_gets_its_pattern_and_is_said_to_answer_again() -> None:
    gone = ModbusTower()
    port = gone.port
    gone.close()  # nothing listens there now: connection refused
    reports = Reports()
    towers: list[ModbusTower] = []
    try:
        with running(tower_spec(port), reports) as runner:
            runner.drive({**OFF, "green": "steady"})
            wait_for(lambda: (reports.last() or (True, None))[0] is False, 3, "failed")
            towers.append(ModbusTower(port))
            wait_for(lambda: reports.last() == (True, None), 5, "recovered")
            towers[0].wait_coils({2: True}, what="green written once it is back")
            assert [ok for ok, _ in reports.seen] == [False, True]  # said once each way, not once per retry
    finally:
        for t in towers:
            t.close()


def test_at_close_a_flash_wallctl_made_is_left_steady(tower: ModbusTower) -> None:
    runner = DeviceRunner(ModbusTcpDriver(tower_spec(tower.port)), Reports()).start()
    runner.drive({**OFF, "blue": "fast"})
    tower.wait_coils({3: True})
    runner.close({**OFF, "blue": "fast"})
    runner.wait_closed(2)
    assert not runner._thread.is_alive()
    tower.wait_coils({3: True})
    assert tower.steady(3, 0.6) and tower.coils()[3] is True


def test_a_device_that_dropped_the_connection_gets_everything_again_without_an_alarm() -> None:
    first = ModbusTower()
    reports = Reports()
    towers = [first]
    try:
        with running(tower_spec(first.port, refresh_s=0), reports) as runner:
            runner.drive({**OFF, "green": "steady"})
            first.wait_coils({GREEN: True})
            wait_for(lambda: reports.last() == (True, None), 3, "answering")
            first.close()  # the device restarted: the connection is gone, its coils are cleared
            towers.append(ModbusTower(first.port))
            runner.drive({**OFF, "green": "steady", "amber": "steady"})
            towers[1].wait_coils({AMBER: True, GREEN: True}, what="everything written on the new connection")
            assert reports.seen == [(True, None)]
    finally:
        towers[-1].close()


def test_an_mqtt_relay_whose_broker_is_not_there_fails_with_the_reason() -> None:
    channels = {"red": ChannelSpec(index=1)}
    spec = OutputSpec(name="relay-1", driver="mqtt", topic="cmnd/relay-1/POWER{index}", channels=channels)
    spec = replace(spec, host="127.0.0.1", port=free_port(), timeout_s=1.0, retry_min_s=0.2, retry_max_s=0.5)
    reports = Reports()
    runner = DeviceRunner(MqttDriver(spec, MqttConfig(), None), reports).start()
    try:
        runner.drive({"red": "steady"})
        wait_for(lambda: reports.last() is not None, 3, "a report")
        assert reports.last() == (False, f"mqtt 127.0.0.1:{spec.port}: cannot connect")
    finally:
        runner.close()
        runner.wait_closed(2)
