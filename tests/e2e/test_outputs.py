"""Beacons, stack lights and relays (issue 24) driven by a real controller process: a pymodbus server standing for a
Modbus TCP stack light (its coils watched from outside every 20 ms), Tasmota-style relays on the real broker, an
HTTP signal tower, a device that accepts the connection and never answers, and the broker stopped under the wall.
``wallctl outputs`` (the lamp test and ``--check``) as the command it is."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.alsa import AlsaCapture
from tests.support.bridges import wait_for
from tests.support.devices import CONTRACT_LIGHTS, CommandRecorder, HttpTower, ModbusTower, MuteDevice
from tests.support.mosquitto import Mosquitto
from tests.support.wall import ROOT, Observer, WallProcess, started, write_config

pytestmark = pytest.mark.e2e
NETWORK_HZ = 523.25
RED, AMBER, GREEN, BLUE, BUZZER = range(5)


def tower(name: str, port: int, timeout_s: float = 0.5) -> str:
    return f"""
  - name: {name}
    driver: modbus_tcp
    host: 127.0.0.1
    port: {port}
    timeout_s: {timeout_s}
    retry_min_s: 0.2
    retry_max_s: 1
    channels: {{red: {{coil: 0}}, amber: {{coil: 1}}, green: {{coil: 2}}, blue: {{coil: 3}}, buzzer: {{coil: 4}}}}"""


def config(tmp_path: Path, wall_id: str, port: int, *outputs: str) -> Path:
    return write_config(
        tmp_path, wall_id=wall_id, port=port, extra="outputs:" + "".join(outputs) + "\n" + CONTRACT_LIGHTS
    )


def controller(cfg: Path, env: dict[str, str] | None = None) -> WallProcess:
    return WallProcess(cfg, command="controller", args=() if env else ("--no-audio",), env=env).start()


def critical(obs: Observer, state: str = "critical") -> None:
    obs.event("network/br05-rtr", source="br05-rtr", type="node_down", severity=state, category="network")


def channels(obs: Observer, output: str) -> dict[str, str]:
    return dict(((obs.state or {}).get("outputs") or {}).get(output, {}).get("channels", {}))


@pytest.fixture
def stack() -> Iterator[ModbusTower]:
    t = ModbusTower()
    yield t
    t.close()


def test_a_modbus_stack_light_follows_the_annunciator(tmp_path: Path, mosquitto: Mosquitto, stack: ModbusTower) -> None:
    cfg = config(tmp_path, "outmb", mosquitto.port, tower("tower-1", stack.port))
    obs = Observer(mosquitto.port, "wallctl/outmb")
    ctl = controller(cfg)
    try:
        started(obs, ctl)
        stack.wait_coils({RED: False, AMBER: False, GREEN: True, BLUE: False, BUZZER: False}, 10, "calm: green only")
        obs.wait(lambda o: (o.state or {}).get("outputs", {}).get("tower-1", {}).get("status") == "ok", 5, "state")
        assert channels(obs, "tower-1") == {
            "red": "off", "amber": "off", "green": "steady", "blue": "off", "buzzer": "off"
        }  # fmt: skip

        critical(obs)
        stack.wait_coils({BUZZER: True, GREEN: False}, 5, "buzzer on the horn, green off")
        rate, changes = stack.rises_per_s(RED, 3.0)
        assert 1.4 <= rate <= 2.8 and abs(rate - 2.0) <= 0.25, (rate, changes)  # IEC 60073 fast, as configured
        obs.wait(lambda o: channels(o, "tower-1").get("red") == "fast", 5, "state says red fast")

        obs.command(action="silence", seconds=60)
        stack.wait_coils({BUZZER: False}, 5, "silence turns the buzzer off")
        rate, _ = stack.rises_per_s(RED, 1.6)
        assert rate > 1.4 and stack.coils()[GREEN] is False  # ... and leaves the lights

        obs.command(action="ack", source="br05-rtr", type="node_down")
        stack.wait_coils({RED: True, BUZZER: False}, 5, "acknowledged")
        assert stack.steady(RED, 1.2) and stack.coils()[RED] is True  # steady red, no flash

        critical(obs, "cleared")
        stack.wait_coils({RED: False, GREEN: True, BUZZER: False}, 5, "cleared: green is back")
        obs.wait(lambda o: channels(o, "tower-1").get("green") == "steady", 5, "state says green")
    finally:
        assert ctl.stop() == 0
        obs.close()
    assert stack.coils()[BLUE] is True and stack.coils()[GREEN] is False  # stopped: nobody watches, and it says so


def test_the_single_process_wall_drives_them_too(tmp_path: Path, mosquitto: Mosquitto, stack: ModbusTower) -> None:
    cfg = config(tmp_path, "outone", mosquitto.port, tower("tower-1", stack.port))
    obs = Observer(mosquitto.port, "wallctl/outone")
    wall = WallProcess(cfg, args=("--one-process", "--no-audio")).start()
    try:
        started(obs, wall, 30)
        stack.wait_coils({GREEN: True, RED: False}, 10, "calm")
        critical(obs)
        stack.wait_coils({BUZZER: True, GREEN: False}, 5, "the horn's buzzer")
        obs.wait(lambda o: channels(o, "tower-1").get("red") == "fast", 5, "state says red fast")
    finally:
        assert wall.stop() == 0
        obs.close()


def test_tasmota_relays_and_an_http_tower_get_their_commands(tmp_path: Path, mosquitto: Mosquitto) -> None:
    http = HttpTower().start()
    recorder = CommandRecorder(mosquitto.port)
    relay = """
  - name: relay-1
    driver: mqtt
    topic: cmnd/relay-1/POWER{index}
    channels: {red: {index: 1}, buzzer: {index: 2}, green: {index: 3}}"""
    tower_2 = f"""
  - name: tower-2
    driver: http
    method: PUT
    url: {http.url}/api/{{channel}}?state={{value}}
    body: '{{"output": "{{output}}", "pattern": "{{pattern}}"}}'
    payloads: {{fast: blink}}
    channels: {{red: {{}}, green: {{}}}}"""
    cfg = config(tmp_path, "outmq", mosquitto.port, relay, tower_2)
    obs = Observer(mosquitto.port, "wallctl/outmq")
    ctl = controller(cfg)
    try:
        started(obs, ctl)
        wait_for(lambda: recorder.last("cmnd/relay-1/POWER3") == "ON", 10, "green relay ON")
        assert recorder.last("cmnd/relay-1/POWER1") == "OFF" and recorder.last("cmnd/relay-1/POWER2") == "OFF"
        wait_for(lambda: any(p == "/api/green?state=on" for _, _, p, _ in http.seen()), 5, "the tower's green")
        _, method, _, body = next(r for r in http.seen() if r[2] == "/api/green?state=on")
        assert method == "PUT" and body == '{"output": "tower-2", "pattern": "steady"}'

        t0 = time.monotonic()
        critical(obs)
        wait_for(lambda: recorder.last("cmnd/relay-1/POWER2") == "ON", 5, "buzzer relay ON")
        wait_for(lambda: len([e for e in recorder.seen("cmnd/relay-1/POWER1") if e[0] > t0]) >= 6, 5, "flashing")
        red = [p for t, _, p in recorder.seen("cmnd/relay-1/POWER1") if t > t0]
        assert all(a != b for a, b in itertools.pairwise(red)), red  # ON, OFF, ON...: wallctl flashes it
        wait_for(lambda: any(p == "/api/red?state=blink" for _, _, p, _ in http.seen()), 5, "the tower's own flash")
        time.sleep(1.0)  # the tower flashes by itself: in a second of flashing, it was told once
        assert [p for t, _, p, _ in http.seen() if t > t0 and p.startswith("/api/red")] == ["/api/red?state=blink"]

        obs.command(action="ack", source="br05-rtr", type="node_down")
        wait_for(lambda: any(p == "/api/red?state=on" for _, _, p, _ in http.seen()), 5, "steady red on the tower")
        wait_for(lambda: recorder.last("cmnd/relay-1/POWER2") == "OFF", 5, "buzzer relay OFF")
        t_ack = time.monotonic()
        wait_for(lambda: recorder.last("cmnd/relay-1/POWER1") == "ON", 5, "red relay ON")
        time.sleep(0.8)
        assert [p for t, _, p in recorder.seen("cmnd/relay-1/POWER1") if t > t_ack + 0.1] == []  # steady now
    finally:
        assert ctl.stop() == 0
        obs.close()
        recorder.close()
        http.close()


def test_the_broker_lost_is_the_untrusted_pattern_and_back_is_the_true_one(tmp_path: Path, stack: ModbusTower) -> None:
    broker = Mosquitto().start()
    cfg = config(tmp_path, "outbk", broker.port, tower("tower-1", stack.port))
    cfg.write_text(cfg.read_text().replace("link_grace_s: 2", "link_grace_s: 60"))  # no broker alarm in the way
    obs = Observer(broker.port, "wallctl/outbk")
    ctl = controller(cfg)
    try:
        started(obs, ctl)
        stack.wait_coils({GREEN: True, BLUE: False}, 10, "calm")
        t0 = time.monotonic()
        broker.stop()
        stack.wait_coils({GREEN: False, BLUE: True}, 3, "the untrusted pattern within 3 s")
        assert time.monotonic() - t0 < 3.0
        rate, _ = stack.rises_per_s(BLUE, 1.6)
        assert rate >= 1.4, rate  # blue fast
        broker.start()
        stack.wait_coils({GREEN: True, BLUE: False}, 15, "calm again once the broker is back")
        assert stack.steady(BLUE, 1.0)
    finally:
        assert ctl.stop() == 0
        obs.close()
        broker.stop()


def test_a_device_that_never_answers_is_an_alarm_and_the_horn_is_not_late(
    tmp_path: Path, mosquitto: Mosquitto, stack: ModbusTower, alsa: AlsaCapture
) -> None:
    mute = MuteDevice()
    cfg = config(tmp_path, "outmute", mosquitto.port, tower("mute-1", mute.port, 1.0), tower("tower-1", stack.port))
    obs = Observer(mosquitto.port, "wallctl/outmute")
    ctl = controller(cfg, alsa.env)
    try:
        started(obs, ctl)
        obs.wait(lambda o: o.alarm("output/mute-1", "output_failed") is not None, 10, "output_failed listed")
        alarm = obs.alarm("output/mute-1", "output_failed") or {}
        assert (
            alarm["severity"] == "major"
            and "does not answer" in alarm["text"]
            and "no answer within 1 s" in alarm["text"]
        )
        obs.wait(lambda o: o.state["outputs"]["mute-1"]["status"] == "failed", 5, "failed in state")
        assert obs.state is not None and obs.state["outputs"]["tower-1"]["status"] == "ok"
        stack.wait_coils({AMBER: True, GREEN: False}, 5, "the other tower shows the wall's own alarm")
        obs.command(action="ack_all")
        obs.wait(lambda o: o.state["alarms"]["unacked"] == 0, 5, "quiet")

        assert len(mute.accepted) >= 1  # connected, and hanging on a write now or soon
        alsa.clear()
        t0 = time.time()
        critical(obs)
        wait_for(lambda: any(abs(c.fundamental() - NETWORK_HZ) < 8 for c in alsa.captures()), 10, "the horn")
        first = min(c.started for c in alsa.captures() if abs(c.fundamental() - NETWORK_HZ) < 8)
        assert first - t0 < 0.5, f"the critical sounded {first - t0:.3f} s after it was sent"
        stack.wait_coils({RED: True, BUZZER: True}, 3, "and the tower that answers follows")
        assert obs.state["outputs"]["mute-1"]["status"] == "failed"
        t_stop = time.monotonic()
        assert ctl.stop() == 0 and time.monotonic() - t_stop < 2.0  # SIGTERM: within 2 s, hung device or not
    finally:
        ctl.stop()
        obs.close()
        mute.close()


def wallctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wallctl", "outputs", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_wallctl_outputs_check_and_lamp_test(tmp_path: Path, stack: ModbusTower) -> None:
    good = config(tmp_path, "outcheck", 1883, tower("tower-1", stack.port))
    res = wallctl("--config", str(good), "--check")
    assert res.returncode == 0, res.stderr
    assert "tower-1: ok" in res.stdout and "1 of 1 outputs answer" in res.stdout
    assert stack.coils()[:5] == [False] * 5  # --check switched nothing

    res = wallctl("--config", str(good), "--step", "0.3")
    assert res.returncode == 0, res.stderr
    for name in ("red", "amber", "green", "blue", "buzzer"):
        assert f"tower-1 {name}: fast" in res.stdout
    lit = {i for _, bits in stack.samples for i in range(5) if bits[i]}
    assert lit == {0, 1, 2, 3, 4}  # every lamp was seen on
    stack.wait_coils(dict.fromkeys(range(5), False), 2, "all off after the lamp test")

    mute = MuteDevice()
    try:
        both = tmp_path / "both"
        both.mkdir()
        cfg = config(both, "outcheck", 1883, tower("tower-1", stack.port), tower("mute-1", mute.port, 0.5))
        res = wallctl("--config", str(cfg), "--check")
        assert res.returncode == 1, res.stdout
        assert (
            "tower-1: ok" in res.stdout and "mute-1: FAILED:" in res.stdout and "no answer within 0.5 s" in res.stdout
        )
        res = wallctl("--config", str(cfg), "--step", "0.3")  # the walk: the mute one is not walked on and on
        assert res.returncode == 1 and "mute-1: FAILED:" in res.stdout
        after = res.stdout.split("mute-1: FAILED:", 1)[1]
        assert "mute-1 " not in after.split("\n", 1)[1]  # no pattern named for it once it failed
        assert res.stdout.count("mute-1 ") <= 3  # of its 15 steps
    finally:
        mute.close()

    bad = tmp_path / "bad"
    bad.mkdir()
    cfg = config(bad, "outcheck", 1883, tower("tower-1", stack.port).replace("coil: 4", "coil: four"))
    res = wallctl("--config", str(cfg), "--check")
    assert res.returncode == 1
    assert "outputs[0].channels.buzzer.coil: expected an integer, got 'four'" in res.stderr
    assert f"{cfg}:" in res.stderr and "wallctl: outputs not started" in res.stderr
