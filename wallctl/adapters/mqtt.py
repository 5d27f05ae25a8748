"""The MQTT edge: paho-mqtt in its own network thread, the core on the main thread, one queue between them.

- paho's thread only enqueues plain tuples and writes one byte to a wake-up pipe; it never touches the core or
  Qt. The main thread (Qt, via a socket notifier on the pipe) drains the queue.
- The queue is bounded; when it is full the network thread waits (TCP back-pressure up to the broker) rather than
  dropping: the broker keeps QoS 1 messages. A waiting thread is logged.
- QoS 1 messages are acknowledged manually, only after the journal flush that holds their effect has committed,
  so a kill -9 of the wall loses nothing and repeats nothing (redeliveries are dropped by event id).
- Persistent session: fixed client id, clean start off, session expiry from config, receive-maximum raised so the
  broker may keep many messages in flight while acknowledgements wait for the journal.
"""

from __future__ import annotations

import logging
import os
import queue
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from wallctl.core.config import MqttConfig

log = logging.getLogger("wallctl.mqtt")


@dataclass(frozen=True, slots=True)
class Inbound:
    """One received message, already free of paho types."""

    topic: str
    payload: bytes
    retained: bool
    qos: int
    mid: int
    received: float
    response_topic: str | None = None
    correlation: bytes | None = None


@dataclass(frozen=True, slots=True)
class LinkEvent:
    state: str  # connected, disconnected, connecting
    detail: str = ""
    session_present: bool = False


class MqttLink:
    QUEUE_MAX = 200_000

    def __init__(
        self,
        cfg: MqttConfig,
        *,
        client_id: str,
        state_prefix: str,
        password: str | None = None,
        extra_subscriptions: tuple[tuple[str, int], ...] = (),
    ) -> None:
        self.cfg = cfg
        self.state_prefix = state_prefix
        self.queue: queue.Queue[Inbound | LinkEvent] = queue.Queue(self.QUEUE_MAX)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._wake_pending = threading.Event()
        self.v5 = cfg.protocol == "5"
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=None if self.v5 else False,
            protocol=MQTTProtocolVersion.MQTTv5 if self.v5 else MQTTProtocolVersion.MQTTv311,
            manual_ack=True,
            reconnect_on_failure=False,  # we reconnect ourselves, to report why a connection fails
        )
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(100)
        if cfg.username:
            self.client.username_pw_set(cfg.username, password)
        if cfg.tls is not None:
            t = cfg.tls
            self.client.tls_set(
                ca_certs=t.ca_file, certfile=t.cert_file, keyfile=t.key_file, cert_reqs=ssl.CERT_REQUIRED
            )
            self.client.tls_insecure_set(not t.check_hostname)
        self.client.will_set(f"{state_prefix}/status", "offline", qos=1, retain=True)
        self.client.enable_logger(logging.getLogger("wallctl.mqtt.paho"))
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.subscriptions = [(s.filter, s.qos) for s in cfg.subscriptions] + list(extra_subscriptions)
        self.backpressure_waits = 0
        self.connected = False
        self.connected_once = False
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()
        self._pending: dict[str, tuple[str | bytes, int, bool, Properties | None]] = {}
        self._pending_lock = threading.Lock()
        self._started = False

    # ---------------------------------------------------------------- lifecycle
    @property
    def wake_fd(self) -> int:
        """Readable when messages are waiting; the main loop watches it (QSocketNotifier)."""
        return self._wake_r

    def start(self) -> None:
        self._started = True
        self._thread = threading.Thread(target=self._run, name="mqtt-network", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        """Connect, serve, and after any failure wait (doubling, bounded) and connect again, saying why."""
        cfg = self.cfg
        props = None
        if self.v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = cfg.session_expiry_s
            props.ReceiveMaximum = 65535
        delay = cfg.reconnect_min_s
        where = f"{cfg.host}:{cfg.port}"
        while self._started:
            self._post(LinkEvent("connecting", where))
            try:
                if self.v5:
                    self.client.connect(
                        cfg.host, cfg.port, keepalive=cfg.keepalive_s, clean_start=False, properties=props
                    )
                else:  # 3.1.1: the persistent session comes from clean_session=False given to the client
                    self.client.connect(cfg.host, cfg.port, keepalive=cfg.keepalive_s)
            except (OSError, ValueError) as exc:  # refused, unreachable, TLS failures (ssl.SSLError is an OSError)
                self._post(LinkEvent("disconnected", f"cannot connect to {where}: {exc}"))
            else:
                self.client.loop_forever(retry_first_connection=False)  # returns when the connection ends
                if self.connected_once:
                    delay = cfg.reconnect_min_s
            if not self._started:
                break
            self._stop_event.wait(delay)
            delay = min(delay * 2, cfg.reconnect_max_s)

    def stop(self, timeout: float = 1.5) -> None:
        if not self._started:
            return
        try:
            if self.connected:
                info = self.client.publish(f"{self.state_prefix}/status", "offline", qos=1, retain=True)
                info.wait_for_publish(timeout=timeout / 2)
        except (RuntimeError, ValueError) as exc:
            log.info("could not publish offline status: %s", exc)
        self._started = False
        self._stop_event.set()
        self.client.disconnect()
        if self._thread is not None:
            self._thread.join(timeout)
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    # ---------------------------------------------------------------- main-thread API
    def drain(self, limit: int = 5000) -> list[Inbound | LinkEvent]:
        """Take up to ``limit`` waiting items (main thread)."""
        self._wake_pending.clear()
        try:
            while True:
                os.read(self._wake_r, 4096)
        except (BlockingIOError, OSError):
            pass
        out: list[Inbound | LinkEvent] = []
        get = self.queue.get_nowait
        try:
            for _ in range(limit):
                out.append(get())
        except queue.Empty:
            pass
        if not self.queue.empty():
            self._wake()
        return out

    def ack(self, mids: list[tuple[int, int]]) -> None:
        for mid, qos in mids:
            if qos > 0:
                self.client.ack(mid, qos)

    def publish(
        self,
        topic: str,
        payload: str | bytes,
        *,
        qos: int = 0,
        retain: bool = False,
        properties: Properties | None = None,
    ) -> None:
        self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)

    def reply(self, topic: str | None, correlation: bytes | None, payload: str) -> None:
        if not topic:
            return
        props = None
        if self.v5 and correlation is not None:
            props = Properties(PacketTypes.PUBLISH)
            props.CorrelationData = correlation
        self.publish(topic, payload, qos=1, properties=props)

    # ---------------------------------------------------------------- network thread
    def _post(self, item: Inbound | LinkEvent) -> None:
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            self.backpressure_waits += 1
            if self.backpressure_waits % 1000 == 1:
                log.warning("ingest queue full (%d): holding the network thread (back-pressure)", self.QUEUE_MAX)
            while self._started:
                try:
                    self.queue.put(item, timeout=0.5)
                    break
                except queue.Full:
                    continue
        self._wake()

    def _wake(self) -> None:
        if not self._wake_pending.is_set():
            self._wake_pending.set()
            try:
                os.write(self._wake_w, b"\x01")
            except (BlockingIOError, OSError):
                pass

    def _on_connect(self, client: paho.Client, _ud: Any, flags: Any, reason: Any, _props: Any) -> None:
        if getattr(reason, "is_failure", False):
            self._post(LinkEvent("disconnected", f"broker refused the connection: {reason}"))
            client.disconnect()
            return
        session_present = bool(getattr(flags, "session_present", False))
        client.publish(f"{self.state_prefix}/status", "online", qos=1, retain=True)
        with self._pending_lock:
            self.connected = self.connected_once = True
            pending, self._pending = self._pending, {}
        for topic, (payload, qos, retain, props) in pending.items():
            client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        subs: list[Any]
        if self.v5:
            # retainHandling=1: retained messages only for a new subscription, not again on every reconnect
            subs = [(f, SubscribeOptions(qos=q, retainHandling=1)) for f, q in self.subscriptions]
        else:
            subs = list(self.subscriptions)
        client.subscribe(subs)
        self._post(LinkEvent("connected", f"{self.cfg.host}:{self.cfg.port}", session_present))

    def _on_disconnect(self, _c: paho.Client, _ud: Any, _flags: Any, reason: Any, _props: Any) -> None:
        with self._pending_lock:
            self.connected = False
        self._post(LinkEvent("disconnected", str(reason)))

    def _on_message(self, _c: paho.Client, _ud: Any, msg: paho.MQTTMessage) -> None:
        response_topic = correlation = None
        props = getattr(msg, "properties", None)
        if props is not None:
            response_topic = getattr(props, "ResponseTopic", None)
            correlation = getattr(props, "CorrelationData", None)
        self._post(
            Inbound(
                msg.topic, msg.payload, bool(msg.retain), msg.qos, msg.mid, time.time(), response_topic, correlation
            )
        )


Waker = Callable[[], None]
