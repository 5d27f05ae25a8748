"""Request Tracker through its REST 2 API: one ticket per incident, its later transitions as comments.

The incident's key is stored in a ticket custom field (``AlarmKey``, created on first use and applied to the
queue), and an ``open`` first looks for a ticket with that key: an open retried after RT did create the ticket
(the reply lost, the wall restarted) finds it instead of opening a second one. Updates and the resolve find the
ticket the same way, so nothing but the key needs to be remembered.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp

CF_NAME = "AlarmKey"


class RtError(Exception):
    """RT answered, but not what was asked for (a status or a body that says why)."""


class RequestTracker:
    def __init__(self, session: aiohttp.ClientSession, url: str, queue: str, token: str, timeout_s: float) -> None:
        self.session = session
        self.base = url.rstrip("/") + "/REST/2.0"
        self.queue = queue
        self.headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._cf_ready = False
        self._tickets: dict[str, str] = {}  # incident key -> ticket id

    async def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send one incident action (the contract's webhook JSON); returns the ticket's id, owner and status."""
        await self._ensure_cf()
        key, action = str(body["key"]), body["action"]
        ticket = self._tickets.get(key) or await self._find(key)
        if ticket is None:
            ticket = await self._create(body)
        self._tickets[key] = ticket
        if action != "open":
            await self._call(
                "POST", f"/ticket/{ticket}/comment", {"Content": _comment(body), "ContentType": "text/plain"}
            )
        if action == "resolve":
            await self._call("PUT", f"/ticket/{ticket}", {"Status": "resolved"})
            self._tickets.pop(key, None)
        return await self.read(ticket)

    async def read(self, ticket: str) -> dict[str, Any]:
        data = await self._call("GET", f"/ticket/{ticket}")
        owner = data.get("Owner")
        name = owner.get("id") if isinstance(owner, dict) else owner
        return {"id": str(data.get("id", ticket)), "owner": name, "status": data.get("Status")}

    # ---------------------------------------------------------------- helpers
    async def _ensure_cf(self) -> None:
        if self._cf_ready:
            return
        found = await self._call("POST", "/customfields", [{"field": "Name", "value": CF_NAME}])
        if not found.get("total"):
            queue = await self._call("GET", f"/queue/{quote(self.queue, safe='')}")
            spec = {"Name": CF_NAME, "Type": "Freeform", "MaxValues": 1, "LookupType": "RT::Queue-RT::Ticket",
                    "Queue": queue.get("id"), "Description": "wallctl incident key"}  # fmt: skip
            await self._call("POST", "/customfield", spec)
        self._cf_ready = True

    async def _find(self, key: str) -> str | None:
        query = "'CF.{%s}'='%s'" % (CF_NAME, key.replace("\\", "\\\\").replace("'", "\\'"))  # noqa: UP031
        found = await self._call("GET", f"/tickets?query={quote(query, safe='')}")
        items = found.get("items") or []
        return str(items[0]["id"]) if items else None

    async def _create(self, body: dict[str, Any]) -> str:
        alarm = body["alarm"]
        subject = f"{alarm['source']}: {alarm['text'] or alarm['type']}"[:200]
        ticket = {
            "Queue": self.queue,
            "Subject": subject,
            "Content": _comment(body),
            "ContentType": "text/plain",
            "CustomFields": {CF_NAME: body["key"]},
        }
        created = await self._call("POST", "/ticket", ticket)
        if "id" not in created:
            raise RtError(f"RT created no ticket: {created}")
        return str(created["id"])

    async def _call(self, method: str, path: str, payload: Any = None) -> dict[str, Any]:
        async with self.session.request(
            method, self.base + path, json=payload, headers=self.headers, timeout=self.timeout
        ) as resp:
            text = await resp.text()
            if not 200 <= resp.status < 300:
                raise RtError(f"{method} {path} answered HTTP {resp.status}: {text[:200]}")
            try:
                data = await resp.json(content_type=None)
            except ValueError:
                data = None
        if isinstance(data, list):  # PUT answers a list of messages
            return {"messages": data}
        return data if isinstance(data, dict) else {}


def _comment(body: dict[str, Any]) -> str:
    a = body["alarm"]
    lines = [
        f"{body['action']}: {a['severity']} {a['source']} {a['type']} ({a['state']})",
        a.get("text") or "",
    ]
    if a.get("site"):
        lines.append(f"site: {a['site']}")
    consequences = body.get("consequences") or []
    if consequences:
        lines.append(f"consequences ({len(consequences)}):")
        lines += [f"  {s} {t}" for s, t in consequences]
    lines.append(f"wallctl incident {body['key']}")
    return "\n".join(lines)
