"""A controller's own presence connection: its retained ``controllers/<id>`` entry, with ``offline`` as the will.

Kept apart from the event link on purpose. The event link's will is the wall's ``status`` (the contract's), and
its keep-alive is tuned for a loaded link; this one carries a single small message, pings every second and so is
declared dead by the broker within ~1.5 s of the PC leaving the network — the take-over clock. It also reads the
other controllers' entries (retained: a clean session gets them on every connect) and the wall's ``status``.
paho's network thread runs it; ``on_message`` is handed to the owner's loop by the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from wallctl.adapters.mqtt import apply_credentials
from wallctl.core.config.settings import MqttConfig

log = logging.getLogger("wallctl.presence")

KEEPALIVE_S = 1


class PresenceLink:
    def __init__(
        self,
        cfg: MqttConfig,
        *,
        client_id: str,
        topic: str,
        will: bytes,
        watch: list[str],
        on_message: Callable[[str, bytes], None],
        on_connected: Callable[[bool], None],
        password: str | None = None,
    ) -> None:
        self.cfg = cfg
        self.topic = topic
        self.watch = watch
        self.on_message_cb = on_message
        self.on_connected = on_connected
        version = MQTTProtocolVersion.MQTTv5 if cfg.protocol == "5" else MQTTProtocolVersion.MQTTv311
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=version)
        apply_credentials(self.client, cfg, password)
        self.client.will_set(topic, will, qos=1, retain=True)
        self.client.reconnect_delay_set(1, 2)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.body: bytes | None = None

    def start(self) -> None:
        self.client.connect_async(self.cfg.host, self.cfg.port, keepalive=KEEPALIVE_S)
        self.client.loop_start()

    def announce(self, body: bytes) -> None:
        """The current entry (sent again after a reconnect)."""
        self.body = body
        if self.client.is_connected():
            self.client.publish(self.topic, body, qos=1, retain=True)

    def stop(self, final: bytes | None = None) -> None:
        if final is not None and self.client.is_connected():
            self.client.publish(self.topic, final, qos=1, retain=True).wait_for_publish(1.0)
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: paho.Client, _ud: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("presence: the broker refused the connection: %s", reason)
            return
        if self.body is not None:
            client.publish(self.topic, self.body, qos=1, retain=True)
        client.subscribe([(t, 1) for t in self.watch])
        self.on_connected(True)

    def _on_disconnect(self, _c: paho.Client, _ud: Any, _flags: Any, _reason: Any, _props: Any) -> None:
        self.on_connected(False)

    def _on_message(self, _c: paho.Client, _ud: Any, msg: paho.MQTTMessage) -> None:
        self.on_message_cb(msg.topic, bytes(msg.payload))
