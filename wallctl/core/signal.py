"""A minimal evented-model signal: views subscribe, and one failing subscriber never stops the others."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Generic, ParamSpec

P = ParamSpec("P")
log = logging.getLogger("wallctl.signal")

ErrorHook = Callable[[str, BaseException], None]


class Signal(Generic[P]):
    """Call every connected callback; exceptions are logged and passed to ``error_hook`` (the wall shows them)."""

    error_hook: ErrorHook | None = None  # set once by the composition root

    def __init__(self, name: str) -> None:
        self.name = name
        self._slots: list[Callable[P, object]] = []

    def connect(self, slot: Callable[P, object]) -> Callable[P, object]:
        self._slots.append(slot)
        return slot

    def disconnect(self, slot: Callable[P, object]) -> None:
        self._slots.remove(slot)

    def emit(self, *args: P.args, **kwargs: P.kwargs) -> None:
        for slot in self._slots:
            try:
                slot(*args, **kwargs)
            except Exception as exc:  # isolation is the point: log, report, go on
                where = getattr(slot, "__qualname__", repr(slot))
                log.exception("Exception in %s when handling %s", where, self.name)
                hook = Signal.error_hook
                if hook is not None:
                    hook(f"{where} failed on {self.name}", exc)

    def __len__(self) -> int:
        return len(self._slots)


class Subscriptions:
    """The connections a view made, so that it can undo them all when it goes (no callbacks into dead views)."""

    def __init__(self) -> None:
        self._items: list[tuple[Signal[Any], Callable[..., object]]] = []

    def add(self, signal: Signal[Any], slot: Callable[..., object]) -> None:
        signal.connect(slot)
        self._items.append((signal, slot))

    def disconnect_all(self) -> None:
        for signal, slot in self._items:
            if slot in signal._slots:
                signal.disconnect(slot)
        self._items.clear()
