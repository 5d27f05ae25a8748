"""The outbound connectors: the incident webhook, Request Tracker, the SMS gateway and SMTP.

They run on an asyncio loop in a thread of their own (aiohttp for HTTP, smtplib in that loop's worker threads),
whatever loop the controller runs, so no request ever waits on the main loop; each result is handed back with
``post`` (the main loop's ``call_soon``). Every failure becomes an :class:`Outcome` with a readable reason: the
outbox retries it, the audit log and the diagnostics view show it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import smtplib
import ssl
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import aiohttp

from wallctl.adapters.rt import RequestTracker, RtError
from wallctl.controller.outreach import Outcome
from wallctl.core.incidents.config import EscalationConfig, IncidentsConfig, SmtpConfig

log = logging.getLogger("wallctl.outbound")


@dataclass(frozen=True)
class Secrets:
    """Read from the environment by the composition root (the config names the variables)."""

    rt_token: str | None = None
    smtp_password: str | None = None
    sms_token: str | None = None
    smtp_ca_file: str | None = None  # resolved against the config file's folder


class Outbound:
    """The controller's :class:`~wallctl.controller.outreach.Sender`."""

    def __init__(
        self,
        post: Callable[[Callable[[], None]], None],
        *,
        incidents: IncidentsConfig | None,
        escalation: EscalationConfig | None,
        secrets: Secrets,
    ) -> None:
        self.post = post
        self.incidents = incidents
        self.escalation = escalation
        self.secrets = secrets
        self.can_poll = incidents is not None and incidents.connector == "request_tracker"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="wallctl-outbound", daemon=True)
        self._started = False
        self._session: aiohttp.ClientSession | None = None
        self._rt: RequestTracker | None = None

    # ---------------------------------------------------------------- the Sender protocol (main thread)
    def send(self, kind: str, body: dict[str, Any], done: Callable[[Outcome], None]) -> None:
        handlers = {"incident": self._incident, "email": self._email, "sms": self._sms}
        handler = handlers.get(kind)
        if handler is None:
            done(Outcome(False, f"unknown outbox item kind {kind!r}"))
            return
        self._run(handler(body), done)

    def poll(self, incident: dict[str, Any], done: Callable[[Outcome], None]) -> None:
        self._run(self._poll(incident), done)

    def close(self) -> None:
        if not self._started:
            return
        if self._session is not None:
            asyncio.run_coroutine_threadsafe(self._session.close(), self._loop).result(timeout=2)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=2)

    def _run(self, coro: Awaitable[Outcome], done: Callable[[Outcome], None]) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

        async def guarded() -> Outcome:
            return await coro

        future = asyncio.run_coroutine_threadsafe(guarded(), self._loop)

        def finished(f: Future[Outcome]) -> None:
            exc = f.exception()
            if exc is not None:  # a bug in a connector: reported like a failed send, and retried
                log.error("outbound connector failed", exc_info=exc)
                outcome = Outcome(False, f"{type(exc).__name__}: {exc}")
            else:
                outcome = f.result()
            self.post(lambda: done(outcome))

        future.add_done_callback(finished)

    # ---------------------------------------------------------------- on the connectors' loop
    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _incident(self, body: dict[str, Any]) -> Outcome:
        cfg = self.incidents
        if cfg is None:
            return Outcome(False, "incidents are not configured any more (this item waits for a configuration)")
        try:
            if cfg.connector == "request_tracker":
                return Outcome(True, ref=await self._tracker().apply(body))
            return await self._webhook(cfg, body)
        except (aiohttp.ClientError, TimeoutError, RtError) as exc:
            return Outcome(False, _reason(cfg.url, exc))

    async def _webhook(self, cfg: IncidentsConfig, body: dict[str, Any]) -> Outcome:
        timeout = aiohttp.ClientTimeout(total=cfg.timeout_s)
        async with self._http().post(cfg.url, json=body, timeout=timeout) as resp:
            text = await resp.text()
            if not 200 <= resp.status < 300:
                return Outcome(False, f"{cfg.url} answered HTTP {resp.status}: {text[:200]}")
            return Outcome(True, ref=_ref_from_reply(text))

    def _tracker(self) -> RequestTracker:
        cfg = self.incidents
        assert cfg is not None and cfg.queue is not None
        if self._rt is None:
            self._rt = RequestTracker(self._http(), cfg.url, cfg.queue, self.secrets.rt_token or "", cfg.timeout_s)
        return self._rt

    async def _poll(self, incident: dict[str, Any]) -> Outcome:
        cfg = self.incidents
        ref = incident.get("ref") or {}
        if cfg is None or not self.can_poll or not ref.get("id"):
            return Outcome(True)
        try:
            return Outcome(True, ref=await self._tracker().read(str(ref["id"])))
        except (aiohttp.ClientError, TimeoutError, RtError) as exc:
            return Outcome(False, _reason(cfg.url, exc))

    async def _sms(self, body: dict[str, Any]) -> Outcome:
        cfg = self.escalation.sms if self.escalation is not None else None
        if cfg is None:
            return Outcome(False, "no SMS gateway is configured any more (escalation.sms)")
        template = cfg.template
        data = template.render({"number": str(body["number"]), "text": str(body["text"])})
        headers = {"Content-Type": template.content_type}
        if self.secrets.sms_token:
            headers["Authorization"] = f"Bearer {self.secrets.sms_token}"
        try:
            timeout = aiohttp.ClientTimeout(total=cfg.timeout_s)
            async with self._http().post(cfg.url, data=data.encode(), headers=headers, timeout=timeout) as resp:
                text = await resp.text()
                if not 200 <= resp.status < 300:
                    return Outcome(False, f"SMS gateway {cfg.url} answered HTTP {resp.status}: {text[:200]}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Outcome(False, _reason(cfg.url, exc))
        return Outcome(True)

    async def _email(self, body: dict[str, Any]) -> Outcome:
        cfg = self.escalation.smtp if self.escalation is not None else None
        if cfg is None:
            return Outcome(False, "no SMTP server is configured any more (escalation.smtp)")
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._deliver, cfg, body)
        except (smtplib.SMTPException, OSError) as exc:
            return Outcome(False, f"SMTP {cfg.host}:{cfg.port}: {type(exc).__name__}: {exc}")
        return Outcome(True)

    def _deliver(self, cfg: SmtpConfig, body: dict[str, Any]) -> None:
        """smtplib, in a worker thread of the connectors' loop."""
        msg = EmailMessage()
        msg["From"] = cfg.sender
        msg["To"] = ", ".join(body["to"])
        msg["Subject"] = body["subject"]
        msg["Date"] = formatdate(localtime=True)
        # the outbox key: a mail sent again after a crash is recognisably the same message
        msg["Message-ID"] = f"<{hashlib.sha1(str(body['message_id']).encode()).hexdigest()}@wallctl>"
        msg.set_content(body["text"])
        with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s) as smtp:
            smtp.ehlo()
            if cfg.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=self.secrets.smtp_ca_file))
                smtp.ehlo()
            if cfg.username is not None:
                smtp.login(cfg.username, self.secrets.smtp_password or "")
            smtp.send_message(msg)


def _ref_from_reply(text: str) -> dict[str, Any] | None:
    """A 2xx reply's ``{"id", "owner", "status"}``, if it has one."""
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        return None
    if not isinstance(data, dict) or not any(k in data for k in ("id", "owner", "status")):
        return None
    ident = data.get("id")
    return {"id": None if ident is None else str(ident), "owner": data.get("owner"), "status": data.get("status")}


def _reason(url: str, exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"{url}: no answer in time"
    return f"{url}: {type(exc).__name__}: {exc}"
