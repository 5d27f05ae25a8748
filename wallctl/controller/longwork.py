"""Operator actions over very many alarms, run in slices so the wall keeps drawing and answering meanwhile.

``ack_all`` on 200,000 alarms is seconds of work: done in one go it froze the room. The service queues it as a
:class:`Job`, runs one slice of at most SLICE_S per call of its ``work``, and answers the requester when it is done.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from wallctl.core.alarms.engine import AlarmEngine
from wallctl.core.alarms.event import AlarmKey
from wallctl.core.alarms.ranking import Backlog
from wallctl.core.wire.commands import Command


class Pending:
    """The outcome of an action that runs in slices comes later, through its ``on_done``."""

    def __repr__(self) -> str:
        return "PENDING"


PENDING = Pending()
BULK_INLINE = 2000  # alarms acknowledged at once; more are done in slices
SLICE_S = 0.04  # one slice of a long action: the main loop serves everything else between slices
JOB_NOTIFY_S = 0.5


@dataclass
class Job:
    steps: Iterator[None]
    cmd: Command
    origin: str
    actor: str | None
    on_done: Callable[[str | None], None] | None


def ack_in_slices(engine: AlarmEngine, keys: list[AlarmKey]) -> Iterator[None]:
    """Acknowledge ``keys`` 500 at a time (one bulk change each), yielding after SLICE_S of work; then drop
    what the acknowledgements left stale in the engine's indexes, as a slice of its own."""
    i, n = 0, len(keys)
    while i < n:
        deadline = time.perf_counter() + SLICE_S
        while i < n and time.perf_counter() < deadline:
            engine.ack_many(keys[i : i + 500])
            i += 500
        yield
    engine.compact_unacked()


def catch_up(backlog: Backlog) -> bool:
    """Place the rankings' bulk changes for one slice of SLICE_S; True while some remain."""
    deadline = time.perf_counter() + SLICE_S
    while backlog.step():
        if time.perf_counter() >= deadline:
            return True
    return False
