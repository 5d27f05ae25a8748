"""What the wall tells about itself on its diagnostics view: rejected messages with their reasons, configuration
problems, device failures, exceptions caught on the way. Bounded: the recent ones only, and counts."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Rejected:
    time: float
    topic: str
    reason: str
    detail: str
    preview: str


@dataclass
class Diagnostics:
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    recent_rejected: deque[Rejected] = field(default_factory=lambda: deque(maxlen=50))
    config_errors: list[str] = field(default_factory=list)
    device_errors: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    exceptions: deque[str] = field(default_factory=lambda: deque(maxlen=20))

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected_by_reason.values())
