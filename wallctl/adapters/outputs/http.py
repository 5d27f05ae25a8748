"""Networked signal towers driven over HTTP: one request per change, its method, URL and body from templates
(``{output}``, ``{channel}``, ``{index}``, ``{value}``, ``{pattern}``). A 2xx or 3xx reply is a write done."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import aiohttp

from wallctl.adapters.outputs.device import OutputError
from wallctl.core.files.template import Template
from wallctl.core.lights.config import REQUEST_FIELDS, Drive, OutputSpec


class HttpDriver:
    def __init__(self, spec: OutputSpec, *, password: str | None, token: str | None) -> None:
        self.spec = spec
        self.url = Template(spec.url or "", REQUEST_FIELDS)
        self.body = Template(spec.body, REQUEST_FIELDS) if spec.body is not None else None
        self.headers = dict(spec.headers)
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.auth = aiohttp.BasicAuth(spec.username, password or "") if spec.username else None
        self._session: aiohttp.ClientSession | None = None

    def describe(self) -> str:
        parts = urlsplit(self.spec.url or "")
        return f"http {parts.scheme}://{parts.netloc}"

    async def open(self) -> None:
        # the runner bounds every call; aiohttp's own limit is the same, so a hung request is dropped, not queued
        timeout = aiohttp.ClientTimeout(total=self.spec.timeout_s)
        self._session = aiohttp.ClientSession(timeout=timeout, auth=self.auth, headers=self.headers)

    async def write(self, channel: str, drive: Drive) -> None:
        ch = self.spec.channels[channel]
        values = {
            "output": self.spec.name,
            "channel": channel,
            "index": "" if ch.index is None else str(ch.index),
            "value": str(self.spec.payload(channel, drive)),
            "pattern": drive,
        }
        url = self.url.render({k: quote(v, safe="") for k, v in values.items()})
        headers = {}
        data = None
        if self.body is not None:
            data = self.body.render(values).encode()
            headers["Content-Type"] = self.body.content_type
        await self._request(self.spec.method, url, data, headers, ok_below=400)

    async def probe(self) -> None:
        """GET ``check_url``, or a HEAD of the URL's root where any answer at all will do (nothing is switched)."""
        if self.spec.check_url:
            await self._request("GET", self.spec.check_url, None, {}, ok_below=400)
        else:
            parts = urlsplit(self.spec.url or "")
            await self._request("HEAD", f"{parts.scheme}://{parts.netloc}/", None, {}, ok_below=600)

    async def _request(self, method: str, url: str, data: bytes | None, headers: dict[str, str], ok_below: int) -> None:
        if self._session is None:
            raise OutputError(f"{self.describe()}: not open")
        try:
            async with self._session.request(method, url, data=data, headers=headers) as reply:
                await reply.read()
                if reply.status >= ok_below:
                    raise OutputError(f"{self.describe()}: {method} {url} answered {reply.status} {reply.reason}")
        except aiohttp.ClientError as exc:
            raise OutputError(f"{self.describe()}: {method} {url}: {exc or type(exc).__name__}") from None

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
