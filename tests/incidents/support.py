"""The controller's outreach over a service with a manual clock: a loop whose timers never fire by themselves (the
test calls ``step``) and a sender that records what would go out and answers as told."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.wall import write_config
from wallctl.controller.build import build_core
from wallctl.controller.journal import Journal
from wallctl.controller.outbox import Outbox
from wallctl.controller.outreach import Outcome, Outreach
from wallctl.controller.service import WallService
from wallctl.core.clock import ManualClock
from wallctl.core.config.settings import load_config


class Handle:
    def cancel(self) -> None:
        pass


class ManualLoop:
    def call_soon(self, fn: Callable[[], None]) -> None:
        fn()

    def call_later(self, seconds: float, fn: Callable[[], None]) -> Handle:
        return Handle()

    def watch(self, sock: Any, on_read: Callable[[], None], on_write: Callable[[], None]) -> None: ...

    def want_write(self, sock: Any, want: bool) -> None: ...

    def unwatch(self, sock: Any) -> None: ...

    def is_main_thread(self) -> bool:
        return True


class Recorder:
    """Answers at once: ``fail`` set, every send fails (a server down); ``ref`` is the ticket a reply carries."""

    can_poll = False

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.fail: str | None = None
        self.ref: dict[str, Any] | None = None

    def send(self, kind: str, body: dict[str, Any], done: Callable[[Outcome], None]) -> None:
        if self.fail:
            done(Outcome(False, self.fail))
            return
        self.sent.append((kind, body))
        done(Outcome(True, ref=self.ref if kind == "incident" else None))

    def poll(self, incident: dict[str, Any], done: Callable[[Outcome], None]) -> None:
        done(Outcome(True))

    def close(self) -> None:
        pass

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [b for k, b in self.sent if k == kind]


class Rig:
    def __init__(
        self,
        tmp_path: Path,
        extra: str,
        clock: ManualClock | None = None,
        layouts: Path | None = None,
        active: Callable[[], bool] = lambda: True,
    ) -> None:
        self.clock = clock or ManualClock()
        self.cfg = load_config(write_config(tmp_path, extra=extra, layouts=layouts))
        core = build_core(self.cfg, clock=self.clock, sink=_Sink())
        self.service: WallService = core.service
        self.journal: Journal | None = core.journal
        self.service.set_link("connected")
        self.outbox = Outbox()
        if self.journal is not None:
            self.journal.attach(self.outbox)
        self.sender = Recorder()
        m = self.cfg.model
        self.outreach = Outreach(
            self.service,
            self.outbox,
            self.sender,
            ManualLoop(),
            incidents=m.incidents,
            escalation=m.escalation,
            active=active,
        )

    def run(self, seconds: float, step: float = 1.0) -> None:
        """Let ``seconds`` pass, stepping the outreach each ``step`` and flushing the journal like the runtime."""
        left = seconds
        while True:
            self.service.tick()
            self.outreach.step()
            if self.journal is not None:
                self.journal.flush()
            if left <= 0:
                return
            self.clock.advance(min(step, left))
            left -= step

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()


class _Sink:
    def play(self, sound: object, volume: float) -> None:
        pass

    def stop(self) -> None:
        pass
