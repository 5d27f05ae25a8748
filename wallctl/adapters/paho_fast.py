"""paho made faster where the wall's ingest pays for it: a decoder for MQTT 5 PUBLISH packets that carry no
properties (nearly every event), and a receive buffer (:class:`RecvBuffer`) that reads many packets per system call.

paho builds a ``Properties`` object for every MQTT 5 PUBLISH, and its constructor resets 27 attributes through
``__setattr__``: ~10 us a packet, a tenth of the wall's whole cost per event. A packet whose property length is zero
gets ``properties=None`` instead (what paho gives for MQTT 3.1.1); anything else goes to paho's own decoder. paho
looks the decoder up on its module at each call, so replacing it there is enough; if a paho release moves it, the
patch is skipped and paho's decoder stays.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("wallctl.mqtt")

_installed = False


def install() -> bool:
    """Put the fast decoder in front of paho's (once per process); False if this paho has no such hook."""
    global _installed
    if _installed:
        return True
    try:
        from paho.mqtt import _packet
        from paho.mqtt.enums import MQTTProtocolVersion
    except ImportError:
        return False
    original = getattr(_packet, "decode_publish", None)
    packet_type = getattr(_packet, "PublishPacket", None)
    if original is None or packet_type is None or getattr(original, "wallctl_fast", False):
        return False
    v5 = MQTTProtocolVersion.MQTTv5

    def decode_publish(header: int, packet: bytes | bytearray, protocol: MQTTProtocolVersion) -> Any:
        if protocol == v5:
            qos = (header & 0x06) >> 1
            n = len(packet)
            if n >= 2:
                slen = (packet[0] << 8) | packet[1]
                at = 2 + slen + (2 if qos else 0)  # the property length follows the topic and packet id
                if at < n and packet[at] == 0 and slen > 0:
                    return packet_type(
                        dup=bool(header & 0x08),
                        qos=qos,
                        retain=bool(header & 0x01),
                        topic=bytes(packet[2 : 2 + slen]),
                        mid=((packet[at - 2] << 8) | packet[at - 1]) if qos else 0,
                        properties=None,
                        payload=bytes(packet[at + 1 :]),
                    )
        return original(header, packet, protocol)

    decode_publish.wallctl_fast = True  # type: ignore[attr-defined]
    decode_publish.original = original  # type: ignore[attr-defined]
    _packet.decode_publish = decode_publish
    _installed = True
    log.debug("fast MQTT 5 PUBLISH decoding installed")
    return True


class RecvBuffer:
    """One ``recv`` of up to 64 KiB serves many of paho's reads.

    paho reads a packet in three or more system calls (its command byte, each byte of its length, then the rest),
    and the link asked ``select`` whether more had come after each packet: during a 10,000 events/s flood those
    calls were 17 % of the controller's time. Installed per connection (``install_on``): bytes of an old connection
    never reach a new one."""

    CHUNK = 65536

    def __init__(self, recv: Any) -> None:
        self._recv = recv  # paho's own: it turns TLS's want-read into BlockingIOError
        self._buf = b""
        self._pos = 0

    def recv(self, bufsize: int) -> bytes:
        if self._pos >= len(self._buf):
            data = self._recv(self.CHUNK)  # BlockingIOError when nothing has come; b"" at the end of the stream
            if not data:
                return bytes(data)
            self._buf, self._pos = bytes(data), 0
        out = self._buf[self._pos : self._pos + bufsize]
        self._pos += len(out)
        return out

    def pending(self) -> int:
        """Bytes read from the socket that paho has not taken yet."""
        return len(self._buf) - self._pos


def install_on(client: Any) -> RecvBuffer | None:
    """Give ``client`` (a paho client, just connected) a fresh buffer in front of its socket reads; None if this
    paho reads differently (its own reads are then kept)."""
    original = getattr(type(client), "_sock_recv", None)
    if original is None:
        return None
    buffer = RecvBuffer(original.__get__(client))
    client._sock_recv = buffer.recv  # the instance's attribute shadows paho's method
    return buffer


def remove_from(client: Any) -> None:
    """paho's own reads again (the connection is gone: what the buffer held belonged to it)."""
    client.__dict__.pop("_sock_recv", None)
