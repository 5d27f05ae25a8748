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
    failed: str = ""  # why a section measured nothing (its figures are missing): never met

    @property
    def ratio(self) -> float | None:
        return None if not self.baseline else self.value / self.baseline

    @property
    def met(self) -> bool | None:
        if self.failed:
            return False
        if self.ratio_goal is not None and self.ratio is not None:
            return self.ratio >= self.ratio_goal
        if self.max_goal is not None:
            return self.value <= self.max_goal
        return None


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency_pair(
    name: str,
    samples_s: list[float],
    baseline_s: list[float],
    baseline_name: str,
    goal_p50_ms: float,
    goal_p99_ms: float,
) -> list[Result]:
    """p50 and p99 of latencies measured in seconds, in ms, each next to the baseline's same percentile."""
    return [
        Result(
            f"{name}, p{round(q * 100)}",
            percentile(samples_s, q) * 1000,
            "ms",
            percentile(baseline_s, q) * 1000,
            baseline_name,
            f"< {goal:g} ms",
            max_goal=goal,
        )
        for q, goal in ((0.5, goal_p50_ms), (0.99, goal_p99_ms))
    ]
