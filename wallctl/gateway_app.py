"""The gateway's composition root: configuration, profile maps, the broker publisher, webhooks and syslog.

``wallctl gateway`` is for the tools that cannot publish MQTT themselves (Alertmanager, Grafana, Zabbix, Nagios and
Icinga, snmptrapd's traphandle, syslog senders). It converts what they send into wallctl's own events and publishes
them where the wall listens; it keeps no state of its own, so it can be restarted or run twice at will.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import ssl
from dataclasses import dataclass
from pathlib import Path

import orjson
from aiohttp import web

from wallctl.adapters.publisher import AckedPublisher
from wallctl.controller.build import load_maps, override_broker
from wallctl.core.clock import SystemClock
from wallctl.core.config.settings import load_config
from wallctl.gateway.http import Webhooks
from wallctl.gateway.intake import Intake
from wallctl.gateway.syslog import SyslogListener

log = logging.getLogger("wallctl.gateway")

STATUS_EVERY_S = 10.0


@dataclass
class GatewayOptions:
    config: Path
    broker: str | None = None
    http: str | None = None  # HOST:PORT over the config's
    syslog: str | None = None
    duration_s: float | None = None
    protocol: str | None = None


def _split(hostport: str) -> tuple[str, int]:
    host, _, port = hostport.rpartition(":")
    return host.strip("[]"), int(port)


class GatewayApp:
    def __init__(self, opts: GatewayOptions) -> None:
        self.opts = opts
        self.config = load_config(opts.config)
        override_broker(self.config, opts.broker, opts.protocol)
        self.token = self.config.gateway_token()  # TokenMissing before anything opens: a usage error
        self.maps = load_maps(self.config)
        g = self.config.model.gateway
        self.http = opts.http or g.http
        self.syslog_at = opts.syslog or g.syslog
        self.status_topic = f"{self.config.state_prefix}/gateway"
        self.publisher = AckedPublisher(
            self.config.model.mqtt,
            client_id=f"wallctl-gateway-{self.config.model.wall_id}",
            password=self.config.password(),
            status_topic=f"{self.status_topic}/status",
        )
        self.intake = Intake(self.maps, self.config.event_topic_base(), SystemClock())
        self.webhooks = Webhooks(
            self.intake, self.publisher, token=self.token, max_body=g.max_body_bytes, timeout_s=g.publish_timeout_s
        )

    def _ssl(self) -> ssl.SSLContext | None:
        tls = self.config.model.gateway.tls
        if tls is None:
            return None
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.config.resolve(tls.cert_file), self.config.resolve(tls.key_file))
        return ctx

    def run(self) -> int:
        return asyncio.run(self._main())

    async def _main(self) -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        self.publisher.start()
        runner: web.AppRunner | None = None
        syslog: SyslogListener | None = None
        try:
            if self.http:
                runner = web.AppRunner(self.webhooks.app(), access_log=None)
                await runner.setup()
                host, port = _split(self.http)
                await web.TCPSite(runner, host, port, ssl_context=self._ssl()).start()
                log.info("webhooks on %s://%s:%d", "https" if self._ssl() else "http", host, port)
            if self.syslog_at:
                syslog = SyslogListener(
                    self.intake, self.publisher, timeout_s=self.config.model.gateway.publish_timeout_s
                )
                await syslog.start(*_split(self.syslog_at))
        except OSError as exc:
            log.error("gateway not started: %s", exc)
            self.publisher.stop()
            return 1
        status = asyncio.create_task(self._publish_status())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), self.opts.duration_s)
        status.cancel()
        if syslog is not None:
            await syslog.stop()
        if runner is not None:
            await runner.cleanup()
        self.publisher.stop()
        return 0

    async def _publish_status(self) -> None:
        """Counts on ``<prefix>/gateway`` (retained), when they change and every STATUS_EVERY_S, so the wall's
        diagnostics and an integrator see what the gateway took and why it refused the rest."""
        last = None
        beat = 0.0
        while True:
            body = self.intake.status()
            if (body != last or beat >= STATUS_EVERY_S) and self.publisher.connected:
                self.publisher.publish(self.status_topic, orjson.dumps(body), retain=True)
                last, beat = body, 0.0
            await asyncio.sleep(1.0)
            beat += 1.0
