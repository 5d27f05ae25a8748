"""The outside world of incidents and escalation, real and local: an SMTP server with STARTTLS and a login
(aiosmtpd), and an HTTP server (aiohttp) for the incident webhook and the SMS gateway that can go down and come
back on the same port."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from tests.support.rt import free_port

SMTP_USER, SMTP_PASSWORD = "wall", "s3cret"


def self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class MailServer:
    def __init__(self, directory: Path) -> None:
        import ssl

        self.cert, key = self_signed(directory)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, key)
        self.port = free_port()
        self.messages: list[Message] = []
        self.logins: list[str] = []
        self.tls_seen: list[bool] = []
        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port, tls_context=ctx, require_starttls=True,
            authenticator=self._auth, auth_require_tls=True,
        )  # fmt: skip

    def _auth(self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        )
        if ok:
            self.logins.append(SMTP_USER)
        return AuthResult(success=ok)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.tls_seen.append(session.ssl is not None)
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


class HttpServer:
    """Records every request (path, JSON or text body); ``reply`` is what a POST to /hooks answers."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[tuple[str, str, Any]] = []  # (path, content type, body)
        self.reply: dict[str, Any] = {"id": "INC-1001", "owner": "alice", "status": "open"}
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        text = await request.text()
        body: Any = json.loads(text) if request.content_type == "application/json" else text
        with self.lock:
            self.requests.append((request.path, request.content_type, body))
        if request.path == "/hooks":
            return web.json_response(self.reply)
        return web.Response(text="queued")

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def _stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    def start(self) -> HttpServer:
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def posts(self, path: str) -> list[Any]:
        with self.lock:
            return [b for p, _, b in self.requests if p == path]
