"""A display node's operator keys, as commands to the controller: the node has no engine, so acknowledging,
silencing, pinning or switching is a message on ``<prefix>/cmd`` with the token and ``origin: display/<node>``
(the controller audits it so). Up/Down move this node's own selection through the rows it shows."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from wallctl.core.clock import Clock
from wallctl.core.wall.hotkeys import mode_hotkeys, normalize_hotkey
from wallctl.core.wall.presets import LayoutSet
from wallctl.core.wire.mirror import WallMirror
from wallctl.core.wire.strict import dumps_strict

AlarmKey = tuple[str, str]


class NodeKeys:
    def __init__(
        self,
        mirror: WallMirror,
        node: str,
        send: Callable[[str], None],
        clock: Clock,
        *,
        token: str | None = None,
        actor: str | None = None,
    ) -> None:
        """``send``: publishes one command payload on the wall's command topic."""
        self.mirror, self.node, self._send, self.clock = mirror, node, send, clock
        self.token, self.actor = token, actor

    def command(self, action: str, **args: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"action": action, **args, "origin": f"display/{self.node}"}
        body["time"] = round(self.clock.now(), 3)
        body["request_id"] = f"{self.node}-{uuid.uuid4().hex[:12]}"
        if self.actor:
            body["actor"] = self.actor
        if self.token:
            body["token"] = self.token
        self._send(dumps_strict(body))
        return body

    def rows(self) -> list[AlarmKey]:
        """The keys this node lists, in order (its first list with rows)."""
        for listed in self.mirror.lists.values():
            if listed.rows:
                return [a.key for a, _ in listed.rows]
        return []

    def target(self) -> AlarmKey | None:
        """What a bare ack or shelve key acts on: the selection, else the first unacknowledged row shown."""
        if self.mirror.selected is not None:
            return self.mirror.selected
        for listed in self.mirror.lists.values():
            for alarm, _ in listed.rows:
                if alarm.state.value in ("UNACK", "RTNUN"):
                    return alarm.key
        return None

    def step(self, by: int) -> AlarmKey | None:
        keys = self.rows()
        if not keys:
            self.mirror.selected = None
        else:
            here = keys.index(self.mirror.selected) if self.mirror.selected in keys else (-1 if by > 0 else 0)
            self.mirror.selected = keys[(here + by) % len(keys)]
        self.mirror.state_changed.emit()
        return self.mirror.selected

    def actions(
        self,
        layouts: LayoutSet,
        reserved: dict[str, str],
        *,
        silence_s: float,
        shelve_s: float,
        local: dict[str, Callable[[], None]],
    ) -> dict[str, Callable[[], None]]:
        """Normalised key -> action; ``local``: the node's own (diagnostics overlay, quit)."""

        def on_target(action: str, **extra: Any) -> Callable[[], None]:
            def go() -> None:
                key = self.target()
                if key is not None:
                    self.command(action, source=key[0], type=key[1], **extra)

            return go

        def run(action: str, **args: Any) -> Callable[[], None]:
            return lambda: _ignore(self.command(action, **args))

        actions: dict[str, Callable[[], None]] = {
            "ack": on_target("ack"),
            "ack_all": run("ack_all"),
            "silence": run("silence", seconds=silence_s),
            "shelve": on_target("shelve", seconds=shelve_s),
            "pin": lambda: _ignore(self.command("mode", mode=self.mirror.decision.mode)),
            "release": run("release"),
            "audio_test": run("audio_test"),
            "next_alarm": lambda: _ignore(self.step(1)),
            "previous_alarm": lambda: _ignore(self.step(-1)),
            **local,
        }
        out = {normalize_hotkey(reserved[name]): fn for name, fn in actions.items() if name in reserved}
        for mode, key in mode_hotkeys(layouts.modes.values(), reserved).items():
            out[key] = run("mode", mode=mode)
        return out


def _ignore(_result: object) -> None:
    pass
