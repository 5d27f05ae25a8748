"""The fast MQTT 5 PUBLISH decoder gives exactly what paho's own decoder gives, and leaves packets with
properties (a command's response topic, say) to paho."""

from __future__ import annotations

import struct

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
