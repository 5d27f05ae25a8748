"""KPI series from MQTT (a number, or a field of a JSON payload), kept for the charts, with thresholds that raise
and clear alarms through the alarm engine like any other event (so they are journaled, sounded, and drive rules)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson

from wallctl.core.alarms.feeds import TopicRoutes
from wallctl.core.files.spec import spec
from wallctl.core.severity import Severity


@dataclass(frozen=True)
class KpiSpec:
    name: str = spec("KPI name, used by KPI tiles' 'series'")
    topic: str = spec("MQTT topic (filter) the values arrive on")
    field: str | None = spec(
        "JSON field holding the value (dots for nesting); absent: the payload is a number", default=None
    )
    unit: str = spec("shown on the chart", default="")
    warning_above: float | None = spec("a warning alarm above this", default=None)
    critical_above: float | None = spec("a critical alarm above this", default=None)
    warning_below: float | None = spec("a warning alarm below this", default=None)
    critical_below: float | None = spec("a critical alarm below this", default=None)
    source: str | None = spec("alarm source for threshold alarms; default the KPI name", default=None)
    category: str = spec("alarm category", default="application")
    history_s: float = spec("how much history the chart keeps", default=3600.0, minimum=10)


class KpiError(ValueError):
    pass


def extract_value(payload: bytes, field: str | None) -> float:
    """The number in a KPI message; raises :class:`KpiError` saying why there is none."""
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise KpiError("payload is not UTF-8") from None
    if field is None:
        try:
            value = float(text) if len(text) <= 64 else math.nan  # float() would take 5,000 digits
        except ValueError:
            raise KpiError(f"payload {text[:40]!r} is not a number") from None
        return _finite(value, f"payload {text[:40]!r}")
    try:
        obj: Any = orjson.loads(text)  # strict and bounded, as events are
    except orjson.JSONDecodeError as exc:
        raise KpiError(f"payload is not JSON: {exc}") from None
    for part in field.split("."):
        if not isinstance(obj, dict) or part not in obj:
            raise KpiError(f"field {field!r} is missing")
        obj = obj[part]
    if isinstance(obj, bool) or not isinstance(obj, int | float):
        raise KpiError(f"field {field!r} is {obj!r:.40}, not a number")
    return _finite(float(obj), f"field {field!r}")


def _finite(value: float, what: str) -> float:
    """A KPI sample is a measurement: NaN or an infinity would poison the chart's range and the thresholds."""
    if not math.isfinite(value):
        raise KpiError(f"{what} is not a finite number")
    return value


class KpiSeries:
    def __init__(self, spec_: KpiSpec) -> None:
        self.spec = spec_
        self.points: deque[tuple[float, float]] = deque()
        self.level = Severity.CLEARED

    def add(self, t: float, value: float) -> Severity | None:
        """Record a value; returns the new threshold level when it changed (CLEARED when back within limits)."""
        self.points.append((t, value))
        horizon = t - self.spec.history_s
        while self.points and self.points[0][0] < horizon:
            self.points.popleft()
        level = self.classify(value)
        if level != self.level:
            self.level = level
            return level
        return None

    def classify(self, v: float) -> Severity:
        s = self.spec
        if (s.critical_above is not None and v > s.critical_above) or (
            s.critical_below is not None and v < s.critical_below
        ):
            return Severity.CRITICAL
        if (s.warning_above is not None and v > s.warning_above) or (
            s.warning_below is not None and v < s.warning_below
        ):
            return Severity.WARNING
        return Severity.CLEARED


class KpiBoard:
    """All configured KPIs; routes a topic to its series."""

    def __init__(self, specs: tuple[KpiSpec, ...]) -> None:
        self.series = {s.name: KpiSeries(s) for s in specs}
        self._routes = TopicRoutes((k.spec.topic, name) for name, k in self.series.items())

    def for_topic(self, topic: str) -> list[KpiSeries]:
        return [self.series[name] for name in self._routes(topic)]

    @property
    def topics(self) -> list[str]:
        return sorted({k.spec.topic for k in self.series.values()})
