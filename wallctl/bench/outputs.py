"""Outputs (issue 24): from an alarm to the stack light's buzzer coil written (a real pymodbus server on loopback
stamps each write as it arrives), next to the same alarm's first audio sample handed to the device, in the same run
and the same controller. The buzzer follows the horn, so its write is the annunciator's change reaching the
device; both figures start at the event's publication."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
import warnings
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from wallctl.bench.audio import null_alsa
from wallctl.bench.mosquitto import Mosquitto, free_port
from wallctl.bench.result import Result, latency_pair
from wallctl.bench.wall import BenchWall

BUZZER = 4
SECTION = """
outputs:
  - name: bench-tower
    driver: modbus_tcp
    host: 127.0.0.1
    port: {port}
    channels: {{red: {{coil: 0}}, amber: {{coil: 1}}, green: {{coil: 2}}, blue: {{coil: 3}}, buzzer: {{coil: 4}}}}
lights:
  - {{when: {{priority: high, state: UNACK}}, red: fast, buzzer: horn}}
  - {{when: {{priority: high}}, red: steady}}
  - {{when: {{priority: [medium, low]}}, amber: steady}}
  - {{when: untrusted, blue: fast}}
  - {{when: calm, green: steady}}
"""


class StampedTower:
    """A Modbus TCP stack light that notes when each coil write arrives (epoch seconds, as the controller's)."""

    def __init__(self) -> None:
        from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
        from pymodbus.server import ModbusTcpServer

        self.port = free_port()
        self.lock = threading.Lock()
        self.writes: list[tuple[float, int, bool]] = []
        logging.getLogger("pymodbus.logging").setLevel(logging.ERROR)  # 3.16 announces the datastore's successor
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            coils = ModbusSequentialDataBlock(1, [False] * 16)  # type: ignore[no-untyped-call]
            context = ModbusServerContext(devices=ModbusDeviceContext(co=coils), single=True)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="bench-tower", daemon=True)
        self.thread.start()

        async def serve() -> ModbusTcpServer:  # the server takes the loop it is made on
            server = ModbusTcpServer(context, address=("127.0.0.1", self.port), trace_pdu=self._trace)
            await server.serve_forever(background=True)
            return server

        self.server = asyncio.run_coroutine_threadsafe(serve(), self.loop).result(10)

    def _trace(self, sending: bool, pdu: Any) -> Any:
        if not sending and type(pdu).__name__ == "WriteSingleCoilRequest":
            with self.lock:
                self.writes.append((time.time(), int(pdu.address), bool(pdu.bits[0])))
        return pdu

    def first(self, coil: int, value: bool, after: float, timeout: float) -> float:
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                hit = next((t for t, c, v in self.writes if t >= after and c == coil and v == value), None)
            if hit is not None:
                return hit
            time.sleep(0.002)
        raise TimeoutError(f"coil {coil} was not written {value} within {timeout:g} s")

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop).result(10)  # type: ignore[no-untyped-call]
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


class _Sounded:
    """The controller's ``bench/sounded`` reports (WALLCTL_BENCH) and whether it is connected."""

    def __init__(self, port: int, prefix: str) -> None:
        self.lock = threading.Lock()
        self.sounded: list[float] = []
        self.connected = False
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-outputs-{uuid.uuid4().hex[:6]}")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe([(f"{prefix}/bench/sounded", 0), (f"{prefix}/state", 0)])
        self.client.loop_start()

    def _on_message(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        body = json.loads(msg.payload)
        with self.lock:
            if msg.topic.endswith("/state"):
                self.connected = body.get("broker") == "connected"
            else:
                self.sounded.append(float(body["at"]))

    def first(self, after: float, timeout: float) -> float:
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                hit = next((t for t in self.sounded if t >= after), None)
            if hit is not None:
                return hit
            time.sleep(0.002)
        raise TimeoutError("no sound")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def measure(broker: Mosquitto, n: int) -> tuple[list[float], list[float]]:
    tower = StampedTower()
    wall = BenchWall(broker.port, wall_id=f"out{uuid.uuid4().hex[:6]}")  # its config and folder; no process
    with wall.config.open("a") as f:
        f.write(SECTION.format(port=tower.port))
    watch = _Sounded(broker.port, wall.prefix)
    log = (wall.dir / "controller.log").open("ab")
    env = {**os.environ, "WALLCTL_BENCH": "1", "ALSA_CONFIG_PATH": null_alsa()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "wallctl", "controller", "--config", str(wall.config), "--broker",
         f"127.0.0.1:{broker.port}"],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    lights: list[float] = []
    sounds: list[float] = []
    try:
        deadline = time.time() + 60
        while not watch.connected and time.time() < deadline:
            time.sleep(0.02)
        tower.first(2, True, 0.0, 10)  # calm: green written, the tower is in use
        for i in range(n):
            t0 = time.time()
            body = {"source": f"out-{i}", "type": "node_down", "severity": "critical", "category": "network"}
            watch.client.publish(f"noc/events/network/out-{i}", json.dumps(body), qos=1)
            try:
                lights.append(tower.first(BUZZER, True, t0, 5) - t0)
                sounds.append(watch.first(t0, 5) - t0)
            except TimeoutError:  # counted as a timeout-long sample: the figure shows it, the suite goes on
                lights.append(5.0)
                sounds.append(5.0)
            t_ack = time.time()
            watch.client.publish(f"{wall.prefix}/cmd", json.dumps({"action": "ack_all"}), qos=1)
            try:
                tower.first(BUZZER, False, t_ack, 5)  # quiet again before the next one
            except TimeoutError:
                pass
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
        watch.close()
        tower.close()
    return lights, sounds


def bench_outputs(broker: Mosquitto, *, quick: bool) -> list[Result]:
    lights, sounds = measure(broker, 10 if quick else 40)
    return latency_pair(
        "outputs: event -> the stack light's buzzer coil written",
        lights,
        sounds,
        "event -> first audio sample of the same alarm",
        goal_p50_ms=100,
        goal_p99_ms=100,
    )
