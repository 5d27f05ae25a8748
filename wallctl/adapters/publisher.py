"""A publisher that knows when the broker has a message: QoS 1, waited for until PUBACK.

The gateway answers a webhook's sender only after the broker acknowledged every event the request produced, so a
broker outage turns into the sender's own retries (Alertmanager, Grafana and Zabbix all retry) instead of a loss.
paho's network thread runs the link; callers block in :meth:`publish_all` (the gateway calls it off its event loop).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from wallctl.adapters.mqtt import apply_credentials
from wallctl.core.config.settings import MqttConfig

log = logging.getLogger("wallctl.publisher")


class Unavailable(RuntimeError):
    """The broker did not take the messages (not connected, or no PUBACK in time): the sender should retry."""


class AckedPublisher:
    def __init__(
        self,
        cfg: MqttConfig,
        *,
        client_id: str,
        password: str | None = None,
        status_topic: str | None = None,
    ) -> None:
        """``status_topic``: retained ``online``, and ``offline`` as the last will, like the wall's own."""
        self.cfg = cfg
        self.status_topic = status_topic
        version = MQTTProtocolVersion.MQTTv5 if cfg.protocol == "5" else MQTTProtocolVersion.MQTTv311
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=version)
        apply_credentials(self.client, cfg, password)
        self.client.reconnect_delay_set(max(1, int(cfg.reconnect_min_s)), max(1, int(cfg.reconnect_max_s)))
        if status_topic:
            self.client.will_set(status_topic, b"offline", qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self._up = threading.Event()

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    def start(self) -> None:
        """Connect in the background; paho keeps reconnecting with backoff while the broker is away."""
        self.client.connect_async(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive_s)
        self.client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        return self._up.wait(timeout)

    def stop(self) -> None:
        if self.status_topic and self.connected:
            self.client.publish(self.status_topic, b"offline", qos=1, retain=True).wait_for_publish(1.0)
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Fire and forget (status topics): QoS 1, not waited for."""
        self.client.publish(topic, payload, qos=1, retain=retain)

    def publish_all(self, messages: list[tuple[str, bytes]], timeout: float) -> None:
        """Publish each message with QoS 1 and return once the broker acknowledged all of them; raises
        :class:`Unavailable` when it is not connected or does not acknowledge within ``timeout``."""
        if not self.connected:
            raise Unavailable("the broker is not connected")
        infos = [self.client.publish(topic, payload, qos=1) for topic, payload in messages]
        deadline = time.monotonic() + timeout
        for info in infos:
            if info.rc != paho.MQTT_ERR_SUCCESS and not info.is_published():
                raise Unavailable(f"the broker link failed: {paho.error_string(info.rc)}")
            try:
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            except (RuntimeError, ValueError) as exc:  # paho: the message was dropped (queue full, disconnected)
                raise Unavailable(f"the broker did not take the message: {exc}") from None
            if not info.is_published():
                raise Unavailable(f"the broker did not acknowledge within {timeout:g} s")

    def _on_connect(self, client: paho.Client, _ud: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("the broker refused the connection: %s", reason)
            return
        log.info("connected to the broker at %s:%d", self.cfg.host, self.cfg.port)
        if self.status_topic:
            client.publish(self.status_topic, b"online", qos=1, retain=True)
        self._up.set()

    def _on_disconnect(self, _c: paho.Client, _ud: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if self._up.is_set():
            log.warning("lost the broker: %s", reason)
        self._up.clear()
