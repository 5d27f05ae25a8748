"""paho made faster where the wall's ingest pays for it. paho keeps the connection, the session, subscriptions,
publishing, keep-alive and every packet but one kind; the wall reads that kind itself.

- :class:`RecvBuffer` reads up to 64 KiB per system call, and decodes the plain PUBLISH packets that carry
  nearly all of the wall's traffic (QoS 0 or 1, no MQTT 5 properties) straight from it; paho reads everything
  else from the same bytes. paho's path for such a packet cost ~18 us of the controller's ~61 us per event.
- :func:`queue_pubacks` sends a flush's acknowledgements as one write instead of one system call each.
- :func:`install` replaces paho's MQTT 5 PUBLISH decoder for the packets paho still reads: paho builds a
  ``Properties`` object for every one, and its constructor resets 27 attributes through ``__setattr__`` (~10 us);
  a packet whose property length is zero gets ``properties=None`` instead (what paho gives for MQTT 3.1.1). paho
  looks the decoder up on its module at each call, so replacing it there is enough.

Each hook checks that the paho it meets has what it relies on, and leaves paho's own code in place otherwise.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable
from typing import Any, Literal

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


PUBACK = 0x40
_PUBACK = struct.Struct("!BBH")

# why RecvBuffer.scan stopped
Stop = Literal["paho", "drained", "budget", "gone"]
PAHO: Stop = "paho"  # paho must read next: a packet that is not a plain PUBLISH, or the end of the stream
DRAINED: Stop = "drained"  # nothing complete is left and the socket has nothing more now
BUDGET: Stop = "budget"  # the time budget ran out with bytes perhaps still waiting
GONE: Stop = "gone"  # the connection was dropped while a message was being handled

LOOK_AHEAD_BYTES = 4 << 20  # a backlog read ahead for urgent messages: 2 s of a 10,000 events/s flood
LOOK_AHEAD_CHUNK = 1 << 20
LOOK_AHEAD_MIN = 16 << 10  # less than this unread (~100 events, a few ms of work) is no backlog
LOOK_AHEAD_MAX_HITS = 32  # more markers than this in what was read ahead: an urgent flood, kept in its order
# take(topic, payload, mid, earlier): True if the message was handled ahead of its turn
Take = Callable[[str, bytes, int, Callable[[bytes], bool]], bool]


class RecvBuffer:
    """One ``recv`` of up to 64 KiB serves many packets, and plain PUBLISH packets are read without paho.

    paho reads a packet in three or more system calls (its command byte, each byte of its length, then the rest),
    and the link asked ``select`` whether more had come after each packet: during a 10,000 events/s flood those
    calls were 17 % of the controller's time. paho's Python path for a PUBLISH (its packet state machine, an
    ``MQTTMessage``, topic matching, callback locks) was another 30 %. :meth:`scan` decodes the packets that carry
    the wall's traffic (PUBLISH at QoS 0 or 1 with no MQTT 5 properties) straight from the buffer; anything else
    (CONNACK, SUBACK, PINGRESP, QoS 2, properties, a malformed packet) is left for paho, which reads it through
    :meth:`recv` from the same bytes. Installed per connection (``install_on``): bytes of an old connection never
    reach a new one."""

    CHUNK = 65536

    def __init__(self, recv: Callable[[int], bytes], *, v5: bool = True) -> None:
        self._recv = recv  # paho's own: it turns TLS's want-read into BlockingIOError
        self._buf = b""
        self._pos = 0
        self._base = 0  # where ``_buf`` starts in the connection's stream
        self._looked = 0  # the stream up to here was searched for urgent packets
        self._closed = False
        self._error: OSError | None = None  # what ended the stream, raised to paho (it reports the loss)
        self.fills = 0  # reads that brought bytes (paho's keep-alive is told only then)
        self.v5 = v5
        self.live = True  # False once the connection is dropped (``remove_from``)

    def recv(self, bufsize: int) -> bytes:
        if self._pos >= len(self._buf):
            if self._closed:
                if self._error is not None:
                    raise self._error
                return b""
            data = self._recv(self.CHUNK)  # BlockingIOError when nothing has come; b"" at the end of the stream
            if not data:
                return bytes(data)
            self._base += len(self._buf)
            self._buf, self._pos = bytes(data), 0
        out = self._buf[self._pos : self._pos + bufsize]
        self._pos += len(out)
        return out

    def pending(self) -> int:
        """Bytes read from the socket that have not been handled yet."""
        return len(self._buf) - self._pos

    def _fill(self, want: int) -> bool:
        """Append what the socket has (at least ``want`` bytes asked for); False if it has nothing now or is
        closed (paho then finds the end of the stream through :meth:`recv`)."""
        if self._closed:
            return False
        try:
            data = self._recv(max(self.CHUNK, want))
        except BlockingIOError:
            return False
        except OSError as exc:  # reset, TLS failure, socket gone: paho reads it and reports the loss
            self._closed, self._error = True, exc
            return False
        if not data:
            self._closed = True
            return False
        self.fills += 1
        self._keep(data)
        return True

    def _keep(self, data: bytes) -> None:
        """Append ``data`` to what is still unread, dropping what was read."""
        self._base += self._pos
        self._buf = self._buf[self._pos :] + data if self._pos < len(self._buf) else bytes(data)
        self._pos = 0

    def scan(self, deliver: Callable[[str, bytes, int, int, bool], None], deadline: float) -> Stop:
        """Hand every complete plain PUBLISH to ``deliver(topic, payload, qos, mid, retain)``, reading the socket
        as needed, until a packet for paho (or the end of the stream, which paho reports), nothing more now, the
        ``deadline`` (``time.perf_counter``) or the link dropped; returns which (``PAHO``, ``DRAINED``, ``BUDGET``,
        ``GONE``)."""
        clock = time.perf_counter
        v5 = self.v5
        while True:
            buf, pos = self._buf, self._pos  # read again each time: a handler may have read or dropped the link
            end = len(buf)
            want = 0
            if pos < end:
                head = buf[pos]
                if head & 0xF0 != 0x30 or head & 0x04:
                    return PAHO  # not a PUBLISH, or QoS 2 (or the malformed QoS 3 paho reports)
                at, length, mult, complete = pos + 1, 0, 1, False
                while at < end:  # MQTT's variable-length remaining length, at most 4 bytes
                    byte = buf[at]
                    at += 1
                    length += (byte & 0x7F) * mult
                    if byte < 0x80:
                        complete = True
                        break
                    mult *= 128
                    if mult > 0x200000:
                        return PAHO  # malformed: paho's error
                stop = at + length
                if complete and length > self.CHUNK:
                    return PAHO  # a large packet (the wall's setup): paho collects it without copying it again
                if complete and stop <= end:
                    if length < 2:
                        return PAHO
                    qos = (head >> 1) & 0x03
                    slen = (buf[at] << 8) | buf[at + 1]
                    p = at + 2 + slen
                    mid = 0
                    if qos:
                        if p + 2 > stop:
                            return PAHO
                        mid = (buf[p] << 8) | buf[p + 1]
                        p += 2
                    if v5:
                        if p >= stop or buf[p] != 0:
                            return PAHO  # properties (a reply topic, an alias): paho decodes them
                        p += 1
                    if slen == 0 or p > stop:
                        return PAHO
                    try:
                        topic = buf[at + 2 : at + 2 + slen].decode()
                    except UnicodeDecodeError:
                        return PAHO  # paho's own handling of an invalid topic
                    self._pos = stop
                    deliver(topic, buf[p:stop], qos, mid, bool(head & 0x01))
                    if not self.live:
                        return GONE
                    if clock() > deadline:
                        return BUDGET
                    continue
                want = stop - pos if complete else 0  # the rest of the packet, or of its length field
            if not self._fill(want):
                return PAHO if self._closed else DRAINED  # paho finds the end of the stream and reports it

    def look_ahead(self, markers: tuple[bytes, ...], take: Take) -> int:
        """Behind a backlog, find urgent messages before their turn: read what the socket holds (up to
        ``LOOK_AHEAD_BYTES`` buffered) and offer each QoS 1 PUBLISH without properties whose bytes hold one of
        ``markers`` to ``take(topic, payload, mid, earlier)``, where ``earlier(b)`` says whether bytes ``b`` occur
        in any packet before it. Each byte is searched once. Does nothing while less than ``LOOK_AHEAD_MIN`` is
        unread, nor over a stretch with more than ``LOOK_AHEAD_MAX_HITS`` markers. Returns how many were taken.

        Whoever reads a taken packet in its turn (the scan or paho) hands it on as usual: the broker uses its
        packet id for no other message until it is acknowledged, so the link knows it by that id and passes on
        only its acknowledgement, in the order the packets came. A 10,000 events/s flood kept a controller sharing
        two cores 100-500 ms behind: the critical event that switches the wall waited for every warning before it."""
        chunks, size = [], len(self._buf) - self._pos
        while size < LOOK_AHEAD_BYTES and not self._closed:
            try:
                data = self._recv(LOOK_AHEAD_CHUNK)
            except BlockingIOError:
                break
            except OSError as exc:  # paho reads it once the bytes before it are handled
                self._closed, self._error = True, exc
                break
            if not data:
                self._closed = True
                break
            self.fills += 1
            chunks.append(data)
            size += len(data)
        if chunks:
            self._keep(b"".join(chunks))
        if size < LOOK_AHEAD_MIN:
            return 0  # a few milliseconds of work: in their order
        buf, base, end = self._buf, self._base, len(self._buf)
        start = max(self._pos, self._looked - base)
        hits = sorted({h for m in markers for h in _finds(buf, m, start, end)})
        self._looked = base + end
        if len(hits) > LOOK_AHEAD_MAX_HITS:
            return 0  # a flood of urgent messages: none gains by going first, and each would cost a search
        walk, taken, offered = self._pos, 0, -1
        for hit in hits:
            while True:  # to the packet that holds the hit
                body, stop = _packet_span(buf, walk, end)
                if stop > end:
                    self._looked = base + walk  # not all here: searched again when the rest has come
                    return taken
                if stop > hit:
                    break
                walk = stop
            if walk == offered:
                continue  # a second marker in the packet offered already
            offered = walk
            candidate = _qos1_publish(buf, walk, body, stop, self.v5)
            if candidate is not None and take(*candidate, _finder(buf, self._pos, walk)):
                taken += 1
            if not self.live:
                break
        return taken


def _finder(buf: bytes, start: int, end: int) -> Callable[[bytes], bool]:
    """Whether some bytes occur in ``buf[start:end]`` (the packets before one taken ahead), without a copy."""
    return lambda b: buf.find(b, start, end) >= 0


def _finds(buf: bytes, marker: bytes, start: int, end: int) -> list[int]:
    """Every offset of ``marker`` in ``buf[start:end]``."""
    out, at = [], buf.find(marker, start, end)
    while at >= 0:
        out.append(at)
        at = buf.find(marker, at + 1, end)
    return out


def _packet_span(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """(where its body starts, where it ends) for the packet that starts at ``pos``; an end past ``end`` if the
    packet or its length field is not all here (or the field is malformed: paho reports that in its turn)."""
    at, length, mult = pos + 1, 0, 1
    while at < end:
        byte = buf[at]
        at += 1
        length += (byte & 0x7F) * mult
        if byte < 0x80:
            return at, at + length
        mult *= 128
        if mult > 0x200000:
            break
    return end, end + 1


def _qos1_publish(buf: bytes, pos: int, at: int, stop: int, v5: bool) -> tuple[str, bytes, int] | None:
    """(topic, payload, packet id) of the packet ``buf[pos:stop]`` (its body from ``at``) if it is a PUBLISH at QoS
    1, not retained (the picture, not news), without MQTT 5 properties; else None."""
    if buf[pos] & 0xF7 != 0x32:  # PUBLISH, QoS 1, retain off (the DUP flag either way)
        return None
    if at + 2 > stop:
        return None
    slen = (buf[at] << 8) | buf[at + 1]
    p = at + 2 + slen + 2
    if slen == 0 or p > stop:
        return None
    mid = (buf[p - 2] << 8) | buf[p - 1]
    if v5:
        if p >= stop or buf[p] != 0:
            return None
        p += 1
    try:
        topic = buf[at + 2 : at + 2 + slen].decode()
    except UnicodeDecodeError:
        return None
    return topic, buf[p:stop], mid


def install_on(client: Any, *, v5: bool = True) -> RecvBuffer | None:
    """Give ``client`` (a paho client, just connected) a fresh buffer in front of its socket reads; None if this
    paho reads differently (its own reads are then kept)."""
    original = getattr(type(client), "_sock_recv", None)
    if original is None or not isinstance(getattr(client, "_in_packet", None), dict):
        return None
    buffer = RecvBuffer(original.__get__(client), v5=v5)
    client._sock_recv = buffer.recv  # the instance's attribute shadows paho's method
    return buffer


def remove_from(client: Any, buffer: RecvBuffer | None = None) -> None:
    """paho's own reads again (the connection is gone: what the buffer held belonged to it)."""
    client.__dict__.pop("_sock_recv", None)
    if buffer is not None:
        buffer.live = False


def paho_between_packets(client: Any) -> bool:
    """paho is not part-way through reading a packet (:meth:`RecvBuffer.scan` may then read the next one)."""
    return bool(client._in_packet["command"] == 0)


def mark_received(client: Any) -> None:
    """Tell paho's keep-alive that bytes came (it notes that only for packets it reads itself)."""
    client._last_bytes_received = time.monotonic()


def queue_pubacks(client: Any, mids: list[int]) -> bool:
    """Queue the PUBACKs for ``mids`` as one write (paho writes each packet with a system call of its own); the
    bytes are those of paho's ``_send_puback``. False if this paho has no such queue (ack one by one then)."""
    queue = getattr(client, "_packet_queue", None)
    if queue is None:
        return False
    if mids:
        pack = _PUBACK.pack
        queue(PUBACK, b"".join([pack(PUBACK, 2, mid) for mid in mids]), 0, 0)
    return True
