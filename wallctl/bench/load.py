"""Load generation and bare-paho baselines for the benchmarks; run as a separate process so the publisher does
not share the interpreter (and its GIL) with what is measured."""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import threading
import time

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

ID_DIGITS = 10  # an event's id is "<prefix>-<number>", its number this wide: every packet of a load has one size


class Packets:
    """Event ``i`` of a load as an MQTT 3.1.1 PUBLISH: ``sources`` sources in turn, each round at the next of
    ``sevs`` (a change per event). Built from a template per (source, severity) with the id's digits written in,
    ~1.5 us a packet where building each from its JSON took ~8 us: a paced flood builds its packets as it goes."""

    def __init__(self, qos: int, prefix: str, sources: int, sevs: tuple[str, ...]) -> None:
        self.qos, self.sources, self.cycle = qos, sources, sources * len(sevs)
        mark = "#" * ID_DIGITS
        self._parts: list[tuple[bytes, bytes, bytes]] = []
        for k in range(self.cycle):
            src = f"{prefix}{k % sources:05d}"
            body = {
                "source": src,
                "type": "cpu_high",
                "severity": sevs[k // sources],
                "category": "system",
                "id": f"{prefix}-{mark}",
            }
            before, after = json.dumps(body).encode().split(mark.encode())
            topic = _str(f"noc/events/system/{src}")
            size = len(topic) + (2 if qos else 0) + len(before) + ID_DIGITS + len(after)
            head = _header(0x30 | (qos << 1), size) + topic
            self._parts.append((head, before, after))

    def __getitem__(self, i: int) -> bytes:
        head, before, after = self._parts[i % self.cycle]
        mid = (i % 65535 + 1).to_bytes(2, "big") if self.qos else b""
        return b"".join((head, mid, before, b"%0*d" % (ID_DIGITS, i), after))


def _header(kind: int, size: int) -> bytes:
    """A packet's fixed header: its type and flags, then MQTT's variable-length remaining-length field."""
    n, length = size, bytearray([kind])
    while True:
        n, digit = n // 128, n % 128
        length.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(length)


def _packet(kind: int, body: bytes) -> bytes:
    return _header(kind, len(body)) + body


def _str(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(raw)) + raw


def publish(
    port: int,
    n: int,
    qos: int,
    prefix: str = "b",
    rate: float = 0.0,
    sources: int = 1000,
    sevs: tuple[str, ...] = ("warning", "minor", "major", "critical"),
) -> float:
    """Publish n events (as fast as possible, or at ``rate`` per second); returns the time the first went out.

    The load generator writes MQTT 3.1.1 packets to a plain socket: on a two-core machine a paho publisher took 80 %
    of a core at 10,000 events/s, CPU the wall under test then did not get (and it capped the "as fast as possible"
    rate below what a bare subscriber can take). As fast as possible, the packets are built before the first goes
    out; at a paced rate, each 5 ms batch is built when its turn comes (~2 % of a core at 10,000/s), so a flood can
    last as long as the measurement under it needs (it is killed then), whatever its ``n``. PUBACKs are read by a
    thread and only counted."""
    packet = Packets(qos, prefix, sources, sevs)
    built = [] if rate else [packet[i] for i in range(n)]
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    connect = _str("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 60) + _str(f"bench-pub-{prefix}-{time.time_ns()}")
    sock.sendall(_packet(0x10, connect))
    connack = sock.recv(4)
    if len(connack) < 4 or connack[0] != 0x20 or connack[3] != 0:
        raise RuntimeError(f"the broker refused the bench publisher: {connack!r}")
    acked = [0]
    done = threading.Event()

    def read_acks() -> None:  # PUBACKs are 4 bytes each; nothing else arrives on this connection
        got = 0
        while got < 4 * n:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += len(chunk)
            acked[0] = got // 4
        done.set()

    reader = threading.Thread(target=read_acks, daemon=True)
    if qos:
        reader.start()
    chunk = max(1, int(rate / 200)) if rate else 200  # paced sends go out every 5 ms
    t0 = time.time()
    for i in range(0, n, chunk):
        while qos and i - acked[0] > 30_000:  # MQTT packet ids are 16-bit: never reuse one still in flight
            time.sleep(0.001)
        batch = built[i : i + chunk] if built else [packet[j] for j in range(i, min(n, i + chunk))]
        sock.sendall(b"".join(batch))
        if rate:
            delay = t0 + (i + chunk) / rate - time.time()
            if delay > 0:
                time.sleep(delay)
    if qos:
        done.wait(120)
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()
    return t0


FLOOD_MAX_S = 3600  # a paced flood's length, at most: it is stopped when what is measured under it is done
# A flood this machine cannot take leaves a backlog when it is stopped; the wall has worked it off once its event
# count has not moved for this long (its loop stalls up to ~1 s behind a backlog: a shorter quiet left seconds of it
# in front of the next section's first measurement, an audio p99 of 3.4 s)
DRAIN_QUIET_S = 2.0


def start_flood(port: int, rate: int, sources: int = 1000) -> subprocess.Popen[bytes]:
    """A flood of warnings and minors from ``sources`` sources at ``rate`` events/s (QoS 1), in a process of its
    own, until it is killed."""
    return subprocess.Popen(
        [sys.executable, "-m", "wallctl.bench.load", str(port), str(rate * FLOOD_MAX_S), "1", "flood", str(rate),
         str(sources), "warning,minor"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def stop_flood(flood: subprocess.Popen[bytes]) -> None:
    flood.kill()
    flood.wait()


def bare_subscriber(
    port: int, n: int, qos: int, ready: threading.Event, done: threading.Event, protocol: str = "5"
) -> dict[str, float]:
    """The baseline: a paho subscriber that only counts what arrives (same protocol version as the wall)."""
    got = {"n": 0, "first": 0.0, "last": 0.0}

    def on_message(_c: paho.Client, _u: object, _m: paho.MQTTMessage) -> None:
        now = time.time()
        if got["n"] == 0:
            got["first"] = now
        got["n"] += 1
        got["last"] = now
        if got["n"] >= n:
            done.set()

    version = MQTTProtocolVersion.MQTTv5 if protocol == "5" else MQTTProtocolVersion.MQTTv311
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=version)
    c.on_message = on_message
    c.on_subscribe = lambda *_a: ready.set()
    c.connect("127.0.0.1", port)
    c.subscribe("noc/events/#", qos=qos)
    c.loop_start()
    t_cpu = time.process_time()
    done.wait(300)
    c.loop_stop()
    c.disconnect()
    got["cpu_s"] = time.process_time() - t_cpu  # the bench process is otherwise idle while it waits (the
    # publisher is a process of its own)
    return got


if __name__ == "__main__":
    port, n, qos = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    prefix = sys.argv[4] if len(sys.argv) > 4 else "b"
    rate = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    sources = int(sys.argv[6]) if len(sys.argv) > 6 else 1000
    sevs = tuple(sys.argv[7].split(",")) if len(sys.argv) > 7 else ("warning", "minor", "major", "critical")
    print(publish(port, n, qos, prefix, rate, sources, sevs), flush=True)
