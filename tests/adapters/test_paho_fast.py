"""The fast MQTT 5 PUBLISH decoder gives exactly what paho's own decoder gives, and leaves packets with
properties (a command's response topic, say) to paho."""

from __future__ import annotations

import struct
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from paho.mqtt import _packet
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from wallctl.adapters import paho_fast

V5, V311 = MQTTProtocolVersion.MQTTv5, MQTTProtocolVersion.MQTTv311


def publish_packet(topic: bytes, payload: bytes, qos: int, mid: int, props: bytes = b"\x00") -> bytes:
    return struct.pack("!H", len(topic)) + topic + (struct.pack("!H", mid) if qos else b"") + props + payload


@pytest.fixture(scope="module")
def decoders() -> tuple[object, object]:
    assert paho_fast.install() is True
    fast = _packet.decode_publish
    assert getattr(fast, "wallctl_fast", False), "paho's decoder was not replaced"
    return fast, fast.original  # type: ignore[attr-defined]


@pytest.mark.parametrize("qos", [0, 1, 2])
@pytest.mark.parametrize("flags", [0, 0x01, 0x08, 0x09])
@pytest.mark.parametrize("payload", [b"", b"{}", b'{"source": "br05-rtr", "severity": "critical"}' * 50])
def test_same_result_as_paho_without_properties(decoders: tuple, qos: int, flags: int, payload: bytes) -> None:
    fast, original = decoders
    header = 0x30 | (qos << 1) | flags
    pkt = publish_packet(b"noc/events/network/br05-rtr", payload, qos, 0xBEEF if qos else 0)
    for data in (pkt, bytearray(pkt)):
        got, want = fast(header, data, V5), original(header, data, V5)
        assert got.properties is None and want.properties is not None
        assert got._replace(properties=None) == want._replace(properties=None)
        assert type(got.topic) is bytes and type(got.payload) is bytes


def test_packets_with_properties_and_mqtt311_go_to_paho(decoders: tuple) -> None:
    fast, original = decoders
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = "ops/replies/1"
    props.CorrelationData = b"c-1"
    pkt = publish_packet(b"wallctl/w/cmd", b'{"action": "ack_all"}', 1, 7, props.pack())
    got = fast(0x32, pkt, V5)
    assert got.properties.ResponseTopic == "ops/replies/1" and got.properties.CorrelationData == b"c-1"
    assert got.payload == b'{"action": "ack_all"}' and got.mid == 7
    v3 = publish_packet(b"noc/events/x", b"{}", 1, 9, props=b"")
    assert fast(0x32, v3, V311) == original(0x32, v3, V311)


def test_malformed_packets_are_still_refused(decoders: tuple) -> None:
    fast, _ = decoders
    with pytest.raises(_packet.MalformedPacket):
        fast(0x32, b"\x00\x10short", V5)  # topic length runs past the end: paho's own decoder says so


def test_the_receive_buffer_serves_paho_s_small_reads_from_one_system_call() -> None:
    """paho asks for 1 byte, 1 byte, then the rest of each packet; the socket is asked once for all of them, and
    says "nothing yet" (BlockingIOError) or "closed" (b"") only when the buffer is empty."""
    chunks: list[bytes | BaseException] = [b"\x30\x05hello\x30\x02hi", BlockingIOError(), b""]
    calls: list[int] = []

    def recv(n: int) -> bytes:
        calls.append(n)
        item = chunks.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    buf = paho_fast.RecvBuffer(recv)
    assert buf.pending() == 0
    got = [buf.recv(1), buf.recv(1), buf.recv(5), buf.recv(1), buf.recv(1), buf.recv(2)]
    assert got == [b"\x30", b"\x05", b"hello", b"\x30", b"\x02", b"hi"]
    assert calls == [paho_fast.RecvBuffer.CHUNK]  # one system call for two packets
    assert buf.pending() == 0
    with pytest.raises(BlockingIOError):
        buf.recv(1)
    assert buf.recv(1) == b""  # the end of the stream is paho's to see


def test_a_buffer_is_installed_per_connection_and_removed_with_it() -> None:
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="buffer-test")
    first = paho_fast.install_on(client)
    assert first is not None and client._sock_recv == first.recv
    second = paho_fast.install_on(client)  # a reconnection: a fresh buffer over paho's own read, not over the first
    assert second is not None and second._recv.__func__ is paho.Client._sock_recv  # type: ignore[attr-defined]
    paho_fast.remove_from(client)
    assert "_sock_recv" not in client.__dict__


def framed(head: int, body: bytes) -> bytes:
    n, length = len(body), bytearray()
    while True:
        n, digit = divmod(n, 128)
        length.append(digit | (0x80 if n else 0))
        if not n:
            return bytes([head]) + bytes(length) + body


def _stream() -> tuple[bytes, list[tuple[str, bytes, int, int, bool, str | None, bytes | None]]]:
    """Packets as a broker sends them to the wall, and what the link must hand on for each, in order: plain
    PUBLISH at QoS 0 and 1 (the buffer reads them), a retained one, a large one spanning many reads, a command
    with a reply topic (MQTT 5 properties: paho reads it), QoS 2 with its PUBREL and a PINGRESP (paho's too)."""
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = "ops/replies/1"
    props.CorrelationData = b"c-1"
    big = b'{"text": "' + b"x" * 200_000 + b'"}'
    parts = [
        (framed(0x30, publish_packet(b"noc/events/a", b'{"n": 0}', 0, 0)), ("noc/events/a", b'{"n": 0}', 0, 0, False)),
        (framed(0x32, publish_packet(b"noc/events/b", b'{"n": 1}', 1, 1)), ("noc/events/b", b'{"n": 1}', 1, 1, False)),
        (framed(0xD0, b""), None),  # PINGRESP
        (
            framed(0x32, publish_packet(b"wallctl/w/cmd", b'{"action": "ack_all"}', 1, 2, props.pack())),
            ("wallctl/w/cmd", b'{"action": "ack_all"}', 1, 2, False, "ops/replies/1", b"c-1"),
        ),
        (framed(0x33, publish_packet(b"wallctl/w/state", b"{}", 1, 3)), ("wallctl/w/state", b"{}", 1, 3, True)),
        (framed(0x32, publish_packet(b"noc/events/big", big, 1, 4)), ("noc/events/big", big, 1, 4, False)),
        (framed(0x34, publish_packet(b"noc/events/q2", b'{"n": 2}', 2, 5)), None),
        (framed(0x62, struct.pack("!H", 5)), ("noc/events/q2", b'{"n": 2}', 2, 5, False)),  # PUBREL: delivered
        (framed(0x30, publish_packet("noc/événements/é".encode(), b"", 0, 0)), ("noc/événements/é", b"", 0, 0, False)),
    ]
    data = b"".join(p for p, _ in parts)
    want = []
    for _, w in parts:
        if w is not None:
            want.append((*w, None, None) if len(w) == 5 else w)
    return data, want  # type: ignore[return-value]


class _Hooks:
    """A main loop that never calls back: each test drives the link's reads itself."""

    def watch(self, *_a: object) -> None: ...
    def want_write(self, *_a: object) -> None: ...
    def unwatch(self, *_a: object) -> None: ...
    def call_soon(self, fn: object) -> None: ...
    def call_later(self, _s: float, _fn: object) -> None: ...
    def is_main_thread(self) -> bool:
        return True


def _connected_link(on_message: Any, on_link: Any) -> tuple[Any, paho_fast.RecvBuffer, tuple[Any, Any]]:
    """A link as a connection leaves it, over a socket pair; what it reads comes from its buffer's ``_recv``."""
    import socket

    from wallctl.adapters.mqtt import MqttLink
    from wallctl.core.config.settings import MqttConfig

    link = MqttLink(
        MqttConfig(subscriptions=()), client_id="scan-test", state_prefix="wallctl/w", hooks=_Hooks(),
        on_message=on_message, on_link=on_link,
    )  # fmt: skip
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    link.client._sock = link._sock = ours
    link.connected = True
    buffer = paho_fast.install_on(link.client, v5=True)
    assert buffer is not None
    link._buffer = buffer
    return link, buffer, (ours, theirs)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64, 1000, 65536, 1 << 20])
def test_the_link_hands_on_every_message_whoever_reads_it(chunk: int) -> None:
    """The same stream cut at every size: each message reaches the handler once, in order, with its topic, payload,
    QoS, packet id, retain flag and (for paho's packets) reply topic; paho still sees its own packets (the PINGRESP
    clears its ping) and answers QoS 2 itself."""

    from wallctl.controller.link import Inbound

    data, want = _stream()
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    got: list[Inbound] = []

    link, buffer, (ours, theirs) = _connected_link(got.append, lambda _e: None)
    link.client._ping_t = 1.0  # a PINGREQ is out: paho's PINGRESP handler clears it
    ready = [True]

    def recv(n: int) -> bytes:  # one chunk per readiness; "nothing yet" in between
        if not ready[0] or not chunks:
            raise BlockingIOError
        ready[0] = False
        return chunks.pop(0)

    buffer._recv = recv
    for _ in range(len(data) // chunk + 50):
        ready[0] = True
        link._read_burst(wait=0.0)
        if not chunks and buffer.pending() == 0 and paho_fast.paho_between_packets(link.client):
            break
    assert [(m.topic, m.payload, m.qos, m.mid, m.retained, m.response_topic, m.correlation) for m in got] == want
    assert link.client._ping_t == 0
    theirs.settimeout(5)
    assert theirs.recv(64) == b"\x50\x02\x00\x05"  # paho's PUBREC (the PUBCOMP waits for the journal's ack)
    ours.close()
    theirs.close()


def test_scan_stops_at_the_deadline_and_when_the_link_drops() -> None:
    data = b"".join(framed(0x30, publish_packet(f"t/{i}".encode(), b"{}", 0, 0)) for i in range(5))
    buffer = paho_fast.RecvBuffer(lambda _n: data, v5=True)
    seen: list[str] = []
    assert buffer.scan(lambda t, *_a: seen.append(t), deadline=0.0) == paho_fast.BUDGET
    assert seen == ["t/0"] and buffer.pending() == len(data) * 4 // 5

    def drop(topic: str, *_a: object) -> None:
        seen.append(topic)
        if topic == "t/2":
            paho_fast.remove_from(SimpleNamespace(), buffer)

    assert buffer.scan(drop, deadline=float("inf")) == paho_fast.GONE
    assert seen == ["t/0", "t/1", "t/2"]


def test_acknowledgements_go_out_as_one_write_of_paho_s_own_bytes() -> None:
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="ack-test", protocol=V5, manual_ack=True)
    client.on_socket_register_write = lambda *_a: None  # queued, not written: there is no socket
    for mid in (1, 300, 65535):
        client.ack(mid, 1)
    theirs = b"".join(p["packet"] for p in client._out_packet)
    client._out_packet.clear()
    assert paho_fast.queue_pubacks(client, [1, 300, 65535]) is True
    assert [p["packet"] for p in client._out_packet] == [theirs]


@pytest.mark.parametrize("end", [b"", ConnectionResetError(104, "Connection reset by peer")], ids=["closed", "reset"])
def test_the_end_of_the_stream_is_paho_s_to_see_and_the_link_s_to_report(end: bytes | OSError) -> None:
    """A broker that closes the connection (a restart) or resets it behind a last message: the message is handled,
    and the link learns that it is down (it once kept reading an empty, closed buffer and never reconnected; a reset
    escaped the read as an exception)."""

    from wallctl.controller.link import Inbound, LinkEvent

    got: list[Inbound] = []
    events: list[LinkEvent] = []

    link, buffer, (_ours, theirs) = _connected_link(got.append, events.append)
    replies: list[bytes | OSError] = [framed(0x30, publish_packet(b"noc/events/last", b"{}", 0, 0)), end]

    def recv(_n: int) -> bytes:
        item = replies.pop(0)
        if isinstance(item, OSError):
            raise item
        return item

    buffer._recv = recv
    link._read_burst(wait=0.0)
    assert [m.topic for m in got] == ["noc/events/last"]
    assert not link.connected and [e.state for e in events] == ["disconnected"]
    assert link._buffer is None and not buffer.live
    theirs.close()


def _once(*reads: bytes) -> Callable[[int], bytes]:
    """A socket's reads: each of ``reads``, then nothing more for now."""
    left = list(reads)

    def recv(_n: int) -> bytes:
        if not left:
            raise BlockingIOError
        return left.pop(0)

    return recv


def _body(i: int) -> bytes:
    return b'{"n": %d, "text": "%s"}' % (i, b"x" * 400)  # a few hundred bytes, as a monitoring tool's events


def _backlog(n: int, urgent_at: int, urgent: bytes = b'{"severity": "critical"}') -> tuple[bytes, int]:
    """``n`` QoS 1 events as a broker queues them behind a flood; the one at ``urgent_at`` holds ``urgent``.
    Returns the stream and the offset of the urgent packet."""
    packets = [
        framed(0x32, publish_packet(f"t/{i}".encode(), urgent if i == urgent_at else _body(i), 1, i + 1))
        for i in range(n)
    ]
    return b"".join(packets), sum(len(p) for p in packets[:urgent_at])


def test_the_buffer_offers_urgent_messages_further_on_once_each() -> None:
    """Behind a backlog the buffer reads on and offers each QoS 1 message holding a marker, with a way to ask what
    came before it; past a packet of paho's too. Never a QoS 0 or retained one, nor one not all here yet; nothing
    while the backlog is a few milliseconds of work."""
    data, at = _backlog(200, 150)
    others = [
        framed(0xD0, b""),  # PINGRESP (paho's)
        framed(0x30, publish_packet(b"t/q0", b'{"severity": "critical"}', 0, 0)),
        framed(0x33, publish_packet(b"t/kept", b'{"severity": "critical"}', 1, 900)),  # retained
    ]
    partial = framed(0x32, publish_packet(b"t/late", b'{"severity": "critical"}', 1, 901))[:-3]
    buffer = paho_fast.RecvBuffer(_once(data[: at // 2], data[at // 2 :] + b"".join(others) + partial), v5=True)
    assert buffer.scan(lambda *_a: None, deadline=0.0) == paho_fast.BUDGET
    offered: list[tuple[str, bytes, int, bool, bool]] = []

    def take(topic: str, payload: bytes, mid: int, earlier: Callable[[bytes], bool]) -> bool:
        offered.append((topic, payload, mid, earlier(b'"n": 149,'), earlier(b'"n": 151,')))
        return True

    assert buffer.look_ahead((b"critical",), take) == 1
    assert offered == [("t/150", b'{"severity": "critical"}', 151, True, False)]
    assert buffer.look_ahead((b"critical",), take) == 0  # searched once: never offered twice
    small = paho_fast.RecvBuffer(_once(data[: paho_fast.LOOK_AHEAD_MIN // 2]), v5=True)
    assert small.look_ahead((b"t/",), lambda *_a: pytest.fail("no backlog, yet read ahead")) == 0
    flood = paho_fast.RecvBuffer(_once(data), v5=True)  # a marker in every message: an urgent flood
    assert flood.look_ahead((b"t/",), lambda *_a: pytest.fail("an urgent flood, yet reordered")) == 0


def test_a_message_taken_ahead_passes_on_only_its_acknowledgement_in_its_turn() -> None:
    """Whoever reads a taken message in its turn (the buffer, or paho for a packet over 64 KiB), the link hands on
    only its acknowledgement then: after those of the messages before it, before those after it."""
    data, _ = _backlog(120, 100)  # with the big one, within a socket pair's buffer (written before any read)
    big = framed(0x32, publish_packet(b"t/big", b'{"severity": "critical", "x": "' + b"x" * 70_000 + b'"}', 1, 999))
    tail = framed(0x32, publish_packet(b"t/after", _body(0), 1, 1000))
    log: list[tuple[str, object]] = []
    link, _buffer, (ours, theirs) = _connected_link(lambda m: log.append(("msg", m.topic)), lambda _e: None)
    link.urgent_markers = (b"critical",)
    link.take_ahead = lambda m, earlier: not earlier(b"br05") and not log.append(("ahead", m.topic))
    link.on_reached = lambda mid, qos: log.append(("ack", (mid, qos)))
    theirs.sendall(data + big + tail)
    for _ in range(500):
        link._read_burst(wait=0.05)
        if ("msg", "t/after") in log:
            break
    assert log[:2] == [("ahead", "t/100"), ("ahead", "t/big")]  # the first burst looked ahead before reading
    turns = [e for e in log[2:] if e[0] != "ahead"]
    want = [("msg", f"t/{i}") for i in range(100)] + [("ack", (101, 1))]
    want += [("msg", f"t/{i}") for i in range(101, 120)] + [("ack", (999, 1)), ("msg", "t/after")]
    assert turns == want
    ours.close()
    theirs.close()
