"""The MQTT edge: paho-mqtt driven from the application's own event loop, one thread for all Python work.

- paho's socket is watched by the main loop (``LoopHooks``: a QSocketNotifier in the wall), so messages are read,
  parsed and handled on the main thread, as fast as it can handle them (natural back-pressure: unread messages
  wait in the socket and at the broker). No second Python thread competes for the GIL, which matters: PySide
  releases the GIL around every Qt call, and a busy network thread made each paint call wait for it.
- Only the blocking part of connecting (TCP connect and TLS handshake) runs in a short-lived helper thread, so a
  slow or dead broker never freezes the wall; its outcome is handed back through ``LoopHooks.call_soon``.
- QoS 1 messages are acknowledged manually, only after the journal flush that holds their effect has committed,
  so a kill -9 of the wall loses nothing and repeats nothing (redeliveries are dropped by event id).
- Persistent session: fixed client id, clean start off, session expiry from config, receive-maximum raised so the
  broker may keep many messages in flight while acknowledgements wait for the journal. Reconnection with bounded
  exponential back-off, and every failure says why (refused, unreachable, certificate).
"""

from __future__ import annotations

import logging
import select
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from wallctl.adapters import paho_fast
from wallctl.controller.link import Inbound, LinkEvent, LoopHooks
from wallctl.core.config.settings import MqttConfig

log = logging.getLogger("wallctl.mqtt")

READ_BURST = 500  # reads per readiness notification before the loop gets a turn ...
READ_BUDGET_S = 0.025  # ... or this much time: a burst of costly events must not freeze the wall (it did for 2 s)
LOOK_AHEAD_GAP_S = 0.01  # a burst of reads this long after the last looks ahead first: events came meanwhile


SYNC_WAIT_S = 5.0


def no_delay(sock: Any) -> None:
    """Send each packet as it is written: with Nagle's algorithm on, a small packet written while the previous one
    waits for its acknowledgement is held until it comes, and the receiver delays acknowledgements by up to 40 ms.
    Paho leaves it on; the state or a reply written right after another message then arrived ~45 ms late."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):  # not a TCP socket (a Unix socket, a test's fake)
        pass


class MqttLink:
    def __init__(
        self,
        cfg: MqttConfig,
        *,
        client_id: str,
        state_prefix: str,
        hooks: LoopHooks,
        on_message: Callable[[Inbound], None],
        on_link: Callable[[LinkEvent], None],
        password: str | None = None,
        extra_subscriptions: tuple[tuple[str, int], ...] = (),
        subscriptions: tuple[tuple[str, int], ...] | None = None,
        presence: tuple[str, str, str] | None = None,
        persistent: bool = True,
    ) -> None:
        """``subscriptions`` replaces the configured ones (a display node follows the wall's topics, not events);
        ``presence`` is (topic, online payload, offline payload: the last will), default ``<prefix>/status``;
        ``persistent=False`` for a follower: a clean session, retained messages again on every (re)connect, no
        queued-command check (it takes no commands)."""
        self.cfg = cfg
        self.persistent = persistent
        self.presence = presence or (f"{state_prefix}/status", "online", "offline")
        self.state_prefix = state_prefix
        self.hooks = hooks
        self.on_message = on_message
        self.on_link = on_link
        self.v5 = cfg.protocol == "5"
        if self.v5:
            paho_fast.install()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=None if self.v5 else not persistent,
            protocol=MQTTProtocolVersion.MQTTv5 if self.v5 else MQTTProtocolVersion.MQTTv311,
            manual_ack=True,
            reconnect_on_failure=False,
        )
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(100)
        apply_credentials(self.client, cfg, password)
        self.client.will_set(self.presence[0], self.presence[2], qos=1, retain=True)
        # no paho logger: it logs twice per packet (3 us each under load); failures reach us as LinkEvents
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_socket_register_write = self._register_write
        self.client.on_socket_unregister_write = self._unregister_write
        if subscriptions is not None:
            self.subscriptions = list(subscriptions)
        else:
            self.subscriptions = [(s.filter, s.qos) for s in cfg.subscriptions] + list(extra_subscriptions)
        # A nonce sent to ourselves after subscribing arrives behind whatever the broker queued for us while we
        # were away: messages before it are marked ``queued`` (a command queued for minutes must not run now).
        self._sync_topic = f"{state_prefix}/sync"
        self._sync: bytes | None = None
        if persistent:
            self.subscriptions.append((self._sync_topic, 1))
        self.connected = False
        self.connected_once = False
        self._running = False
        self._connecting = False
        self._sock: Any = None
        self._buffer: paho_fast.RecvBuffer | None = None
        self._delay = cfg.reconnect_min_s
        self._pending: dict[str, tuple[str | bytes, int, bool, Properties | None]] = {}
        self.messages = 0
        self.gate: Callable[[str], bool] | None = None
        # behind a backlog, QoS 1 messages holding one of these bytes are offered to ``take_ahead`` before their
        # turn (True: handled; ``on_reached(mid, qos)`` then comes in its turn, for its acknowledgement)
        self.urgent_markers: tuple[bytes, ...] = ()
        self.take_ahead: Callable[[Inbound, Callable[[bytes], bool]], bool] | None = None
        self.on_reached: Callable[[int, int], None] = lambda _mid, _qos: None
        self._own_prefix = f"{state_prefix}/"
        self._read_at = 0.0  # when the last burst of reads ended
        self._ahead: set[int] = set()  # packet ids of QoS 1 messages handled ahead of their turn

    # ---------------------------------------------------------------- lifecycle (main thread)
    def start(self) -> None:
        self._running = True
        self._attempt()
        self._misc()

    def stop(self, timeout: float = 1.5) -> None:
        if not self._running:
            return
        if self.connected:
            try:
                info = self.client.publish(self.presence[0], self.presence[2], qos=1, retain=True)
                deadline = time.monotonic() + timeout
                while not info.is_published() and time.monotonic() < deadline and self._sock is not None:
                    self.client.loop_write()
                    self._read_burst(wait=0.05)
            except (RuntimeError, ValueError, OSError) as exc:
                log.info("could not publish offline status: %s", exc)
        self._running = False
        self.client.disconnect()
        self._drop_socket()

    def _attempt(self) -> None:
        """Connect in a helper thread (TCP and TLS may block); the socket is then served from the main loop."""
        if not self._running or self._connecting or self._sock is not None:
            return
        self._connecting = True
        cfg = self.cfg
        where = f"{cfg.host}:{cfg.port}"
        self.on_link(LinkEvent("connecting", where))

        def connect() -> None:
            error: str | None = None
            try:
                if self.v5:
                    props = _properties(PacketTypes.CONNECT)
                    props.SessionExpiryInterval = cfg.session_expiry_s if self.persistent else 0
                    props.ReceiveMaximum = 65535
                    self.client.connect(
                        cfg.host,
                        cfg.port,
                        keepalive=cfg.keepalive_s,
                        clean_start=not self.persistent,
                        properties=props,
                    )
                else:  # 3.1.1: the persistent session comes from clean_session=False given to the client
                    self.client.connect(cfg.host, cfg.port, keepalive=cfg.keepalive_s)
            except (OSError, ValueError) as exc:  # refused, unreachable, TLS failures (ssl.SSLError is an OSError)
                error = f"cannot connect to {where}: {exc}"
            self.hooks.call_soon(lambda: self._connect_done(error))

        threading.Thread(target=connect, name="mqtt-connect", daemon=True).start()

    def _connect_done(self, error: str | None) -> None:
        self._connecting = False
        if error is not None or self.client.socket() is None:
            self.on_link(LinkEvent("disconnected", error or "connection closed while connecting"))
            self._retry()
            return
        if not self._running:
            self.client.disconnect()
            return
        self._sock = self.client.socket()
        no_delay(self._sock)
        self._buffer = paho_fast.install_on(self.client, v5=self.v5)
        self.hooks.watch(self._sock, self._readable, self._writable)
        self.hooks.want_write(self._sock, self.client.want_write())
        self._readable()  # the CONNACK may already be waiting

    def _retry(self) -> None:
        if not self._running:
            return
        delay, self._delay = self._delay, min(self._delay * 2, self.cfg.reconnect_max_s)
        self.hooks.call_later(delay, self._attempt)

    def _drop_socket(self) -> None:
        self._ahead.clear()  # unacknowledged, they come again: the engine knows a repeated event id
        if self._sock is not None:
            self.hooks.unwatch(self._sock)
            self._sock = None
        if self._buffer is not None:
            paho_fast.remove_from(self.client, self._buffer)
            self._buffer = None

    def _misc(self) -> None:
        """paho's housekeeping: keep-alive pings and detecting a dead connection."""
        if not self._running:
            return
        if self._sock is not None:
            self.client.loop_misc()
            if self.client.socket() is None:
                self._lost("keep-alive timeout")
        self.hooks.call_later(1.0, self._misc)

    # ---------------------------------------------------------------- socket events (main thread)
    def _readable(self) -> None:
        self._read_burst(wait=0.0)

    def _read_burst(self, wait: float) -> None:
        sock = self._sock
        if sock is None:
            return
        started = time.perf_counter()
        deadline = started + READ_BUDGET_S
        if started - self._read_at > LOOK_AHEAD_GAP_S:  # the loop did other work (a flush, a list): a backlog?
            self._look_ahead()
        for i in range(READ_BURST):
            buffer = self._buffer
            if buffer is not None and paho_fast.paho_between_packets(self.client):
                fills = buffer.fills
                why = buffer.scan(self._deliver, deadline)  # plain PUBLISH packets, many per call
                if why == paho_fast.GONE:
                    return
                if buffer.fills != fills:
                    paho_fast.mark_received(self.client)
                if why == paho_fast.BUDGET:
                    self._look_ahead()  # behind: anything urgent further on?
                    self.hooks.call_later(0.0, self._readable)  # the loop's turn; bytes may be waiting already
                    break
                if why == paho_fast.DRAINED:
                    if wait <= 0 or not _has_data(sock, wait):
                        break  # the socket's readiness calls us back
                    continue
            elif i > 0 and (time.perf_counter() > deadline or not _has_data(sock, wait)):
                break
            rc = self.client.loop_read()  # packets for paho (it may read a few, PUBLISH among them)
            if self._sock is not sock:
                return  # a handler stopped the link, or it was lost and is reconnecting
            if self.client.socket() is None:
                self._lost(f"connection closed ({paho.error_string(rc)})")
                return
            if buffer is not None:
                if not paho_fast.paho_between_packets(self.client):
                    break  # paho is waiting for the rest of its packet: readiness calls us back
                if time.perf_counter() > deadline:
                    self.hooks.call_later(0.0, self._readable)
                    break
        else:
            if buffer is not None and buffer.pending() > 0:  # READ_BURST packets for paho; more are buffered
                self.hooks.call_later(0.0, self._readable)
        if self.client.want_write():
            self.client.loop_write()
        self._read_at = time.perf_counter()

    def _look_ahead(self) -> None:
        buffer = self._buffer
        if self.take_ahead is not None and buffer is not None and paho_fast.paho_between_packets(self.client):
            buffer.look_ahead(self.urgent_markers, self._take)

    def _take(self, topic: str, payload: bytes, mid: int, earlier: Callable[[bytes], bool]) -> bool:
        """A QoS 1 message read ahead of its turn, offered to ``take_ahead`` (never the wall's own topics). Taken,
        it is known by its packet id until its turn (the broker gives that id to no other message meanwhile)."""
        take_ahead = self.take_ahead
        if take_ahead is None or topic.startswith(self._own_prefix) or mid in self._ahead:
            return False
        inbound = Inbound(topic, payload, False, 1, mid, time.time(), None, None, self._sync is not None)
        try:
            taken = take_ahead(inbound, earlier)
        except Exception:  # left to its turn, where the handler's own guard records it
            log.exception("Exception when taking a message on %r ahead of its turn", topic)
            return False
        if taken:
            self._ahead.add(mid)
        return taken

    def _writable(self) -> None:
        if self._sock is None:
            return
        self.client.loop_write()
        if self.client.socket() is None:
            self._lost("connection closed while writing")
        else:
            self.hooks.want_write(self._sock, self.client.want_write())

    def _register_write(self, _c: paho.Client, _ud: Any, sock: Any) -> None:
        if self.hooks.is_main_thread():
            if self._sock is not None:
                self.hooks.want_write(sock, True)
        else:  # the connect helper queued CONNECT: the main loop picks it up once it watches the socket

            def resume_writing() -> None:
                if self._sock is not None:
                    self.hooks.want_write(self._sock, True)

            self.hooks.call_soon(resume_writing)

    def _unregister_write(self, _c: paho.Client, _ud: Any, sock: Any) -> None:
        if self.hooks.is_main_thread() and self._sock is not None:
            self.hooks.want_write(sock, False)

    def _lost(self, why: str) -> None:
        was = self.connected
        self.connected = False
        self._drop_socket()
        if was:
            self.on_link(LinkEvent("disconnected", why))
        self._retry()

    # ---------------------------------------------------------------- main-thread API
    def ack(self, mids: list[tuple[int, int]]) -> None:
        if not self.connected:
            return  # unacknowledged messages are redelivered by the broker after the reconnect
        if all(qos == 1 for _, qos in mids) and paho_fast.queue_pubacks(self.client, [mid for mid, _ in mids]):
            return  # one write for the lot
        for mid, qos in mids:
            if qos > 0:
                self.client.ack(mid, qos)

    def send_now(self) -> None:
        """Write what paho has queued now, not when the loop next finds the socket writable (a decision)."""
        if self._sock is not None and self.client.want_write():
            self._writable()

    def publish(
        self,
        topic: str,
        payload: str | bytes,
        *,
        qos: int = 0,
        retain: bool = False,
        properties: Properties | None = None,
    ) -> None:
        """Publish now when connected; otherwise keep the latest message per topic for the next connection.
        Nothing passes a closed ``gate`` (a standby controller computes the wall's topics but does not send them)."""
        if self.gate is not None and not self.gate(topic):
            return
        if not self.connected:
            self._pending[topic] = (payload, qos, retain, properties)
            return
        self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)

    def reply(self, topic: str | None, correlation: bytes | None, payload: str) -> None:
        if not topic:
            return
        props = None
        if self.v5 and correlation is not None:
            props = _properties(PacketTypes.PUBLISH)
            props.CorrelationData = correlation
        self.publish(topic, payload, qos=1, properties=props)

    # ---------------------------------------------------------------- paho callbacks (main thread)
    def _on_connect(self, client: paho.Client, _ud: Any, flags: Any, reason: Any, _props: Any) -> None:
        if getattr(reason, "is_failure", False):
            self.on_link(LinkEvent("disconnected", f"broker refused the connection: {reason}"))
            client.disconnect()
            return
        self.connected = self.connected_once = True
        self._delay = self.cfg.reconnect_min_s
        session_present = bool(getattr(flags, "session_present", False))
        client.publish(self.presence[0], self.presence[1], qos=1, retain=True)
        pending, self._pending = self._pending, {}
        for topic, (payload, qos, retain, props) in pending.items():
            client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        subs: list[Any]
        if self.v5:
            # retainHandling=1: retained messages only for a new subscription, not again on every reconnect
            # (a follower's picture is the retained messages: it takes them every time)
            handling = 1 if self.persistent else 0
            subs = [(f, SubscribeOptions(qos=q, retainHandling=handling)) for f, q in self.subscriptions]
        else:
            subs = list(self.subscriptions)
        client.subscribe(subs)
        if self.persistent:
            # after the subscription, so it reaches us behind whatever the broker queued for us while we were away
            sync = self._sync = uuid.uuid4().hex.encode()
            client.publish(self._sync_topic, sync, qos=1)
            self.hooks.call_later(SYNC_WAIT_S, lambda: self._sync_missing(sync))
        self.on_link(LinkEvent("connected", f"{self.cfg.host}:{self.cfg.port}", session_present))

    def _sync_missing(self, sync: bytes) -> None:
        """A broker whose ACL keeps our nonce from us must not make every later command look queued."""
        if self._sync == sync:
            self._sync = None
            log.warning(
                "our sync message on %s did not come back within %g s (does the broker's ACL allow this client to "
                "publish and subscribe to it?): commands queued while the wall was away can only be told by their "
                "'time' field",
                self._sync_topic,
                SYNC_WAIT_S,
            )

    def _on_disconnect(self, _c: paho.Client, _ud: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if self.connected:
            self.connected = False
            self.on_link(LinkEvent("disconnected", str(reason)))

    def _on_message(self, _c: paho.Client, _ud: Any, msg: paho.MQTTMessage) -> None:
        """A message paho read itself (one with MQTT 5 properties: a command with a reply topic, say)."""
        response_topic = correlation = None
        props = getattr(msg, "properties", None)
        if props is not None:
            response_topic = getattr(props, "ResponseTopic", None)
            correlation = getattr(props, "CorrelationData", None)
        payload = msg.payload  # typed bytes | bytearray; a received PUBLISH carries bytes (struct.unpack's)
        self._deliver(
            msg.topic,
            payload if isinstance(payload, bytes) else bytes(payload),
            msg.qos,
            msg.mid,
            bool(msg.retain),
            response_topic,
            correlation,
        )

    def _deliver(
        self,
        topic: str,
        payload: bytes,
        qos: int,
        mid: int,
        retain: bool,
        response_topic: str | None = None,
        correlation: bytes | None = None,
    ) -> None:
        """Every received message, read by paho or by the receive buffer, as an :class:`Inbound`."""
        self.messages += 1
        if self._ahead and qos == 1 and mid in self._ahead:  # handled ahead: only its acknowledgement was waiting
            self._ahead.discard(mid)
            self.on_reached(mid, qos)
            return
        if self._sync is not None and topic == self._sync_topic:
            if payload == self._sync:
                self._sync = None
            if qos > 0:
                self.ack([(mid, qos)])
            return
        inbound = Inbound(
            topic, payload, retain, qos, mid, time.time(), response_topic, correlation, self._sync is not None
        )
        try:
            self.on_message(inbound)
        except Exception:  # one bad message must not take the link down (Home Assistant's rule)
            log.exception("Exception in the message handler when handling msg on %r", topic)


def _properties(packet_type: int) -> Properties:
    """Empty MQTT 5 properties for one packet type."""
    return Properties(packet_type)  # type: ignore[no-untyped-call]  # paho's Properties.__init__ has no annotations


def _has_data(sock: Any, wait: float) -> bool:
    pending = getattr(sock, "pending", None)
    if pending is not None and pending() > 0:  # TLS: decrypted bytes waiting inside the SSL object
        return True
    try:
        readable, _, _ = select.select([sock], [], [], wait)
    except (OSError, ValueError):
        return False
    return bool(readable)


def read_retained(
    cfg: MqttConfig, topic: str, *, client_id: str, password: str | None = None, timeout_s: float = 5.0
) -> bytes | None:
    """The retained message on ``topic``, or None after ``timeout_s`` (a display node reads the wall's setup this
    way before its Qt application exists: the number of screens to open depends on it)."""
    got: list[bytes] = []
    done = threading.Event()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    apply_credentials(client, cfg, password)

    def on_connect(c: paho.Client, *_args: Any) -> None:
        c.subscribe(topic, qos=0)

    def on_message(_c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        if msg.payload:
            got.append(bytes(msg.payload))
            done.set()

    client.on_connect = on_connect
    client.on_message = on_message
    try:
        client.connect(cfg.host, cfg.port, keepalive=cfg.keepalive_s)
    except OSError as exc:
        log.warning("cannot reach the broker at %s:%d: %s", cfg.host, cfg.port, exc)
        return None
    client.loop_start()
    try:
        done.wait(timeout_s)
    finally:
        client.loop_stop()
        client.disconnect()
    return got[0] if got else None


def apply_credentials(client: paho.Client, cfg: MqttConfig, password: str | None) -> None:
    """Credentials and TLS as the config says (the link and a one-off read of a retained message alike)."""
    if cfg.username:
        client.username_pw_set(cfg.username, password)
    if cfg.tls is not None:
        t = cfg.tls
        client.tls_set(ca_certs=t.ca_file, certfile=t.cert_file, keyfile=t.key_file, cert_reqs=ssl.CERT_REQUIRED)
        client.tls_insecure_set(not t.check_hostname)
