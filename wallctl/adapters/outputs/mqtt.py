"""Relays that take MQTT commands (Tasmota's ``cmnd/<dev>/POWER1 ON``, Shelly's ``shellies/<id>/relay/0/command
on``): a QoS 1 publish per change on a client of the output's own, never the controller's event link (a relay's
slow broker must not hold up events). A write counts once the broker has acknowledged it; what the relay did with
it the broker does not say."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from wallctl.adapters.mqtt import apply_credentials
from wallctl.adapters.outputs.device import OutputError
from wallctl.core.config.settings import MqttConfig
from wallctl.core.files.template import Template
from wallctl.core.lights.config import TOPIC_FIELDS, Drive, OutputSpec

KEEPALIVE_S = 15


class MqttDriver:
    def __init__(self, spec: OutputSpec, wall_broker: MqttConfig, password: str | None) -> None:
        """Without ``host`` the relays listen on the wall's own broker, reached with the wall's credentials."""
        self.spec = spec
        self.broker = wall_broker if spec.host is None else None
        self.host = spec.host or wall_broker.host
        self.port = spec.port or (wall_broker.port if spec.host is None else 1883)
        self.password = password
        self.topic = Template(spec.topic or "", TOPIC_FIELDS)
        self._client: paho.Client | None = None
        self._lock = threading.Lock()
        self._pending: dict[int, asyncio.Future[None]] = {}
        self._acked: set[int] = set()

    def describe(self) -> str:
        return f"mqtt {self.host}:{self.port}"

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        connected: asyncio.Future[Any] = loop.create_future()
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"wallctl-output-{self.spec.name}-{os.getpid()}")
        if self.broker is not None:
            apply_credentials(client, self.broker, self.password)
        else:
            if self.spec.username:
                client.username_pw_set(self.spec.username, self.password)
            if self.spec.tls:
                client.tls_set()

        def settle(result: Any) -> None:
            if not connected.done():
                connected.set_result(result)

        def on_connect(_c: paho.Client, _u: Any, _f: Any, code: Any, _p: Any) -> None:
            loop.call_soon_threadsafe(settle, code)

        def on_disconnect(_c: paho.Client, _u: Any, _f: Any, code: Any, _p: Any) -> None:
            loop.call_soon_threadsafe(self._lost, code)

        def on_connect_fail(_c: paho.Client, _u: Any) -> None:
            loop.call_soon_threadsafe(settle, OutputError(f"{self.describe()}: cannot connect"))

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        client.on_connect_fail = on_connect_fail
        client.on_publish = lambda _c, _u, mid, _code, _p: self._acknowledged(loop, mid)
        self._client = client
        client.connect_async(self.host, self.port, keepalive=KEEPALIVE_S)
        client.loop_start()
        code = await connected
        if isinstance(code, OutputError):
            raise code
        if code.is_failure:
            raise OutputError(f"{self.describe()}: the broker refused the connection: {code}")

    async def write(self, channel: str, drive: Drive) -> None:
        client = self._client
        if client is None or not client.is_connected():
            raise OutputError(f"{self.describe()}: not connected")
        ch = self.spec.channels[channel]
        topic = self.topic.render(
            {"output": self.spec.name, "channel": channel, "index": "" if ch.index is None else str(ch.index)}
        )
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:  # the acknowledgement may come back before publish() returns
            info = client.publish(topic, str(self.spec.payload(channel, drive)), qos=1)
            if info.rc != paho.MQTT_ERR_SUCCESS:
                raise OutputError(f"{self.describe()}: publishing to {topic}: {paho.error_string(info.rc)}")
            if info.mid in self._acked:
                self._acked.discard(info.mid)
                return
            self._pending[info.mid] = done
        await done

    async def probe(self) -> None:
        """Connected is answered: the broker is there (what a relay does is not the broker's to say)."""
        if self._client is None or not self._client.is_connected():
            raise OutputError(f"{self.describe()}: not connected")

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            await asyncio.to_thread(client.loop_stop)  # joins paho's network thread
        self._lost(None)

    def _acknowledged(self, loop: asyncio.AbstractEventLoop, mid: int) -> None:
        """paho's thread: a PUBACK."""
        with self._lock:
            done = self._pending.pop(mid, None)
            if done is None:
                self._acked.add(mid)
                return
        loop.call_soon_threadsafe(_resolve, done)

    def _lost(self, code: Any) -> None:
        """The runner's loop: the connection is gone; every write waiting for its acknowledgement fails."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._acked.clear()
        for done in pending.values():
            if not done.done():
                done.set_exception(OutputError(f"{self.describe()}: connection lost ({code})"))


def _resolve(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)
