"""The gateway's webhook routes (aiohttp): one route per tool, each answered only once the broker has the events.

Replies follow the contract: ``200 {"accepted": n}`` after the broker acknowledged every event; ``400 {"error"}``
for a body the profile rejects; ``401`` without the configured bearer token; ``413`` above the size limit; ``503``
when the broker is unreachable, so the sender's own retries cover the outage.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from wallctl.adapters.publisher import AckedPublisher, Unavailable
from wallctl.gateway.intake import NATIVE, Intake, Rejected

# path -> profile (``events`` is wallctl's own JSON); nagios and icinga share the notification format
ROUTES = {
    "/alertmanager": "alertmanager",
    "/grafana": "grafana",
    "/zabbix": "zabbix",
    "/icinga": "icinga",
    "/nagios": "nagios",
    "/snmptrap": "snmptrap",
    "/events": NATIVE,
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


class Webhooks:
    def __init__(
        self, intake: Intake, publisher: AckedPublisher, *, token: str | None, max_body: int, timeout_s: float
    ) -> None:
        self.intake = intake
        self.publisher = publisher
        self.token = token
        self.max_body = max_body
        self.timeout_s = timeout_s

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.max_body, middlewares=[self._auth])
        for path, route in ROUTES.items():
            app.router.add_post(path, self._post(route))
        app.router.add_get("/healthz", self._health)
        return app

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.token is not None and request.path != "/healthz":
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
                self.intake.rejected["unauthorized"] += 1
                return _error(401, "missing or wrong bearer token", **{"WWW-Authenticate": 'Bearer realm="wallctl"'})
        return await handler(request)

    def _post(self, route: str) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                self.intake.rejected["too_large"] += 1
                return _error(413, f"the body is larger than the gateway's limit of {self.max_body} bytes")
            try:
                out = self.intake.convert(route, body, peer=request.remote)
            except Rejected as exc:
                return _error(400, exc.detail)
            return await self.publish(out)

        return handle

    async def publish(self, out: list[Any]) -> web.Response:
        if not out:  # e.g. an Icinga ACKNOWLEDGEMENT: understood, nothing for the wall
            return web.json_response({"accepted": 0})
        messages = [(o.topic, o.payload) for o in out]
        try:
            await asyncio.get_running_loop().run_in_executor(None, self.publisher.publish_all, messages, self.timeout_s)
        except Unavailable as exc:
            return _error(503, f"the broker did not take the events ({exc}); retry later", **{"Retry-After": "5"})
        self.intake.published(len(out))
        return web.json_response({"accepted": len(out)})

    async def _health(self, _request: web.Request) -> web.Response:
        body = {"broker": "connected" if self.publisher.connected else "down", **self.intake.status()}
        return web.json_response(body, status=200 if self.publisher.connected else 503)
