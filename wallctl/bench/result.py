"""One benchmark figure, its baseline from the same run, and the goal it is judged by."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Result:
    name: str
    value: float
    unit: str
    baseline: float | None
    baseline_name: str
    goal: str
    ratio_goal: float | None = None  # value/baseline must be at least this (higher is better) ...
    max_goal: float | None = None  # ... or value must be at most this (lower is better)

    @property
    def ratio(self) -> float | None:
        return None if not self.baseline else self.value / self.baseline

    @property
    def met(self) -> bool | None:
        if self.ratio_goal is not None and self.ratio is not None:
            return self.ratio >= self.ratio_goal
        if self.max_goal is not None:
            return self.value <= self.max_goal
        return None
