"""The gateway's syslog listener: UDP datagrams and TCP streams (RFC 6587: octet counting or one message per line).

Messages are queued and published in batches by one task, so a burst of datagrams costs one broker round trip per
batch, not one per line. While the broker is away the batch waits (syslog senders never retry) and the queue
fills; a full queue drops, and counts, rather than growing without bound.
"""

from __future__ import annotations

import asyncio
import logging

from wallctl.adapters.publisher import AckedPublisher, Unavailable
from wallctl.gateway.intake import Intake, Rejected

log = logging.getLogger("wallctl.gateway.syslog")

QUEUE_MAX = 10_000
BATCH_MAX = 500
MAX_FRAME = 64 * 1024
RETRY_S = 1.0


class SyslogListener:
    def __init__(self, intake: Intake, publisher: AckedPublisher, *, timeout_s: float) -> None:
        self.intake = intake
        self.publisher = publisher
        self.timeout_s = timeout_s
        self.queue: asyncio.Queue[tuple[bytes, str | None]] = asyncio.Queue(QUEUE_MAX)
        self._servers: list[asyncio.AbstractServer] = []
        self._transports: list[asyncio.BaseTransport] = []
        self._pump: asyncio.Task[None] | None = None

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Datagrams(self), local_addr=(host, port))
        self._transports.append(transport)
        self._servers.append(await asyncio.start_server(self._stream, host, port, limit=MAX_FRAME + 16))
        self._pump = asyncio.create_task(self._publish_batches())
        log.info("syslog on %s:%d (UDP and TCP)", host, port)

    async def stop(self) -> None:
        for t in self._transports:
            t.close()
        for s in self._servers:
            s.close()
        if self._pump is not None:
            self._pump.cancel()

    def offer(self, data: bytes, peer: str | None) -> None:
        try:
            self.queue.put_nowait((data, peer))
        except asyncio.QueueFull:
            self.intake.rejected["queue_full"] += 1

    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        host = peer[0] if peer else None
        try:
            while True:
                first = await reader.read(1)
                if not first:
                    break
                if first.isdigit():  # octet counting: "LEN SP MSG"
                    rest = await reader.readuntil(b" ")
                    size = int(first + rest[:-1])
                    if size > MAX_FRAME:
                        self.intake.rejected["too_large"] += 1
                        break
                    self.offer(await reader.readexactly(size), host)
                else:  # non-transparent framing: one message per line
                    line = first + await reader.readuntil(b"\n")
                    self.offer(line.rstrip(b"\r\n"), host)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, ConnectionError):
            pass  # a closed or garbled stream ends that connection only
        finally:
            writer.close()

    async def _publish_batches(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            items = [await self.queue.get()]
            while len(items) < BATCH_MAX and not self.queue.empty():
                items.append(self.queue.get_nowait())
            out = []
            for data, peer in items:
                try:
                    out += self.intake.convert("syslog", data, peer=peer)
                except Rejected:
                    pass  # counted by the intake, with its reason
            if not out:
                continue
            messages = [(o.topic, o.payload) for o in out]
            while True:  # syslog senders do not retry: hold the batch until the broker takes it
                try:
                    await loop.run_in_executor(None, self.publisher.publish_all, messages, self.timeout_s)
                    break
                except Unavailable as exc:
                    self.intake.last_error = f"syslog: {len(out)} events wait for the broker: {exc}"
                    log.warning("syslog: %d events wait for the broker: %s", len(out), exc)
                    await asyncio.sleep(RETRY_S)
            self.intake.published(len(out))


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, listener: SyslogListener) -> None:
        self.listener = listener

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.listener.offer(data, str(addr[0]) if addr else None)
