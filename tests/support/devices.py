"""The devices outputs drive, real and local: a Modbus TCP stack light (pymodbus's own server, watched from outside
by polling its coils every 20 ms, as TESTING.md's recipe does), a device that accepts the connection and never
answers, an HTTP signal tower (aiohttp) and an MQTT client recording Tasmota-style commands."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import warnings
from typing import Any

import paho.mqtt.client as paho
from aiohttp import web
from paho.mqtt.enums import CallbackAPIVersion
from pymodbus.exceptions import ModbusException

from tests.support.bridges import wait_for
from tests.support.mosquitto import free_port
from tests.support.outside import HttpServer

POLL_S = 0.02


# the rules of the contract's example: what every test of the outputs drives the devices with
CONTRACT_LIGHTS = """
lights:
  - {when: {priority: high, state: UNACK}, red: fast, buzzer: horn}
  - {when: {priority: high}, red: steady}
  - {when: {priority: [medium, low]}, amber: steady}
  - {when: untrusted, blue: fast}
  - {when: calm, green: steady}
"""


class ModbusTower:
    """A stack light on Modbus TCP: 16 coils and 16 holding registers (block address 1 is protocol address 0)."""

    def __init__(self, port: int | None = None) -> None:
        """``port``: a tower that went away comes back where it was."""
        from pymodbus.client import ModbusTcpClient

        self.port = port or free_port()
        self._loop = asyncio.new_event_loop()
        self._server: Any = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        self.client = ModbusTcpClient("127.0.0.1", port=self.port, timeout=1)
        self.samples: list[tuple[float, list[bool]]] = []  # (monotonic time, coils 0-7), every POLL_S
        self._lock = threading.Lock()
        self._io = threading.Lock()  # one request at a time on the watching client
        self._watching = True
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    async def _start(self) -> None:
        from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
        from pymodbus.server import ModbusTcpServer

        with warnings.catch_warnings():  # 3.16 announces the datastore's replacement in 4.0
            warnings.simplefilter("ignore")
            ctx = ModbusServerContext(
                devices=ModbusDeviceContext(
                    co=ModbusSequentialDataBlock(1, [False] * 16), hr=ModbusSequentialDataBlock(1, [0] * 16)
                ),
                single=True,
            )
        self._server = ModbusTcpServer(ctx, address=("127.0.0.1", self.port))
        self._serving = asyncio.ensure_future(self._server.serve_forever())
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                await asyncio.sleep(0.02)

    def _watch(self) -> None:
        while self._watching:
            try:
                with self._io:
                    bits = list(self.client.read_coils(0, count=8).bits[:8])
            except ModbusException:  # the watcher keeps watching; a gap shows as no sample
                bits = []
            if len(bits) < 8:
                time.sleep(POLL_S)
                continue
            with self._lock:
                self.samples.append((time.monotonic(), bits))
            time.sleep(POLL_S)

    def coils(self) -> list[bool]:
        with self._lock:
            return list(self.samples[-1][1]) if self.samples else []

    def registers(self, count: int = 8) -> list[int]:
        with self._io:
            return list(self.client.read_holding_registers(0, count=count).registers)

    def set_coil(self, coil: int, value: bool) -> None:
        """What a power cut or a hand on the tower's buttons would do behind the wall's back."""
        with self._io:
            self.client.write_coil(coil, value)

    def wait_coils(self, expected: dict[int, bool], timeout: float = 5, what: str = "") -> None:
        wait_for(lambda: _holds(self.coils(), expected), timeout, what or f"coils {expected}, seen {self.coils()}")

    def rises_per_s(self, coil: int, seconds: float) -> tuple[float, int]:
        """Rises of ``coil`` per second over the last ``seconds`` of samples (waits for them), and its transitions."""
        start = time.monotonic()
        wait_for(lambda: time.monotonic() - start >= seconds, seconds + 1, "samples")
        with self._lock:
            window = [(t, bits[coil]) for t, bits in self.samples if t >= start]
        rises = [t for (t, v), (_, before) in zip(window[1:], window, strict=False) if v and not before]
        changes = sum(v != before for (_, v), (_, before) in zip(window[1:], window, strict=False))
        if len(rises) < 2:
            return 0.0, changes
        return (len(rises) - 1) / (rises[-1] - rises[0]), changes

    def steady(self, coil: int, seconds: float) -> bool:
        """The coil held one value for ``seconds`` of samples."""
        start = time.monotonic()
        wait_for(lambda: time.monotonic() - start >= seconds, seconds + 1, "samples")
        with self._lock:
            values = {bits[coil] for t, bits in self.samples if t >= start}
        return len(values) == 1

    def close(self) -> None:
        self._watching = False
        self._watcher.join(2)
        self.client.close()

        async def stop() -> None:
            await self._server.shutdown()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


def _holds(coils: list[bool], expected: dict[int, bool]) -> bool:
    return bool(coils) and all(coils[i] == v for i, v in expected.items())


class MuteDevice:
    """Accepts TCP connections and never answers (a hung device, a half-dead gateway)."""

    def __init__(self) -> None:
        self.port = free_port()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._server.settimeout(0.2)
        self.accepted: list[socket.socket] = []
        self._running = True
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while self._running:
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self._running = False
        self._thread.join(2)
        for c in self.accepted:
            c.close()
        self._server.close()


class HttpTower(HttpServer):
    """A networked signal tower: records every request, any method (time, method, path with query, body)."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[float, str, str, str]] = []

    async def _record(self, request: web.Request) -> web.Response:
        body = await request.text()
        with self.lock:
            self.log.append((time.monotonic(), request.method, request.path_qs, body))
        return web.Response(text="ok")

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._record)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port, reuse_address=True).start()

    def seen(self) -> list[tuple[float, str, str, str]]:
        with self.lock:
            return list(self.log)


class CommandRecorder:
    """A real MQTT client on the broker the relays listen on, recording what is sent to them (``cmnd/#``)."""

    def __init__(self, port: int, filter_: str = "cmnd/#") -> None:
        self.lock = threading.Lock()
        self.log: list[tuple[float, str, str]] = []
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"relay-recorder-{time.monotonic_ns()}")
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(filter_, qos=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        wait_for(self.client.is_connected, 5, "the recorder connected")

    def _on_message(self, _c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        with self.lock:
            self.log.append((time.monotonic(), msg.topic, msg.payload.decode()))

    def seen(self, topic: str | None = None) -> list[tuple[float, str, str]]:
        with self.lock:
            return [e for e in self.log if topic is None or e[1] == topic]

    def last(self, topic: str) -> str | None:
        entries = self.seen(topic)
        return entries[-1][2] if entries else None

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
