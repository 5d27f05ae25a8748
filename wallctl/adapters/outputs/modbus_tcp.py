"""Modbus TCP relay modules and signal towers (pymodbus): a coil per lamp switched on and off, or a holding register
written with the channel's payloads (a tower that flashes by itself takes a value for slow and fast)."""

from __future__ import annotations

import logging

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.pdu import ModbusPDU

from wallctl.adapters.outputs.device import OutputError
from wallctl.core.lights.config import Drive, OutputSpec

DEFAULT_PORT = 502


class ModbusTcpDriver:
    def __init__(self, spec: OutputSpec) -> None:
        self.spec = spec
        self.host = spec.host or ""
        self.port = spec.port or DEFAULT_PORT
        self._client: AsyncModbusTcpClient | None = None
        # pymodbus logs every unanswered request as an error of its own; the runner says it once, with the output
        logging.getLogger("pymodbus.logging").setLevel(logging.CRITICAL)

    def describe(self) -> str:
        return f"modbus_tcp {self.host}:{self.port} unit {self.spec.unit}"

    async def open(self) -> None:
        # retries and reconnection are the runner's (with back-off and an alarm), not pymodbus's own
        client = AsyncModbusTcpClient(
            self.host, port=self.port, timeout=self.spec.timeout_s, retries=0, reconnect_delay=0
        )
        if not await client.connect():
            client.close()
            raise OutputError(f"{self.describe()}: cannot connect")
        self._client = client

    async def write(self, channel: str, drive: Drive) -> None:
        ch = self.spec.channels[channel]
        client = self._connected()
        try:
            if ch.coil is not None:
                reply = await client.write_coil(ch.coil, drive != "off", device_id=self.spec.unit)
            else:
                value = int(self.spec.payload(channel, drive) or 0)
                reply = await client.write_register(ch.register or 0, value, device_id=self.spec.unit)
        except ModbusException as exc:
            raise OutputError(f"{self.describe()}: {exc}") from None
        self._check(reply, f"writing {channel}")

    async def probe(self) -> None:
        client = self._connected()
        ch = next(iter(self.spec.channels.values()))
        try:
            if ch.coil is not None:
                reply = await client.read_coils(ch.coil, count=1, device_id=self.spec.unit)
            else:
                reply = await client.read_holding_registers(ch.register or 0, count=1, device_id=self.spec.unit)
        except ModbusException as exc:
            raise OutputError(f"{self.describe()}: {exc}") from None
        self._check(reply, "reading")

    async def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _connected(self) -> AsyncModbusTcpClient:
        if self._client is None or not self._client.connected:
            raise OutputError(f"{self.describe()}: not connected")
        return self._client

    def _check(self, reply: ModbusPDU, doing: str) -> None:
        if reply.isError():
            raise OutputError(f"{self.describe()}: the device refused {doing} (exception code {reply.exception_code})")
