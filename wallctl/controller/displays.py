"""The display nodes the wall expects (``node:`` of its monitors), watched through their retained presence on
``<prefix>/displays/<node>``: one that is offline (it said so, or the broker sent its last will, also retained from
before the controller started) is a major alarm (source ``display/<node>``, type ``display_offline``), cleared when
it is back. A node that never announced itself is not assumed dead: a controller may run without displays."""

from __future__ import annotations

import json
import logging

from wallctl.controller.service import WallService
from wallctl.core.severity import Severity

log = logging.getLogger("wallctl.displays")


class DisplayWatch:
    def __init__(self, service: WallService, prefix: str) -> None:
        self.service = service
        self.prefix = f"{prefix}/displays/"
        self.online: dict[str, bool] = {}
        self.alarmed: set[str] = set()

    @property
    def expected(self) -> list[str]:
        return self.service.layouts.wall.nodes()

    def is_presence(self, topic: str) -> bool:
        return topic.startswith(self.prefix)

    def on_presence(self, topic: str, payload: bytes) -> None:
        node = topic[len(self.prefix) :]
        try:
            body = json.loads(payload)
            online = isinstance(body, dict) and body.get("status") == "online"
        except ValueError:
            online = payload.strip() == b"online"
        if self.online.get(node) != online:
            log.info("display node %s %s", node, "online" if online else "offline")
        self.online[node] = online
        self.check()

    def check(self) -> None:
        """On presence and when the layouts change: raise or clear each expected node's alarm."""
        for node in self.expected:
            state = self.online.get(node)
            if state is False and node not in self.alarmed:
                self.alarmed.add(node)
                self.service.raise_internal(
                    f"display/{node}",
                    "display_offline",
                    Severity.MAJOR,
                    f"display node {node} is offline: its monitors show nothing (or an old picture)",
                )
            elif state is True and node in self.alarmed:
                self.alarmed.discard(node)
                self.service.raise_internal(
                    f"display/{node}", "display_offline", Severity.CLEARED, f"display node {node} is back"
                )
