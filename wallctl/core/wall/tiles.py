"""Options of each tile type, validated like every other part of a layout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from wallctl.core.alarms.match import AlarmMatch
from wallctl.core.files.spec import spec


@dataclass(frozen=True)
class TopologyOptions:
    file: str | None = spec("topology file; default the configured one", default=None)
    site: str | None = spec("show only this site (group)", default=None)
    labels: Literal["alarmed", "all", "none"] = spec("which nodes carry a label", default="alarmed")
    zoom_on_focus: bool = spec("zoom onto the focus target", default=True)


@dataclass(frozen=True)
class AlarmListOptions:
    filter: AlarmMatch | None = spec("show only matching alarms", default=None)
    sort: Literal["priority", "time", "state"] = spec("row order", default="priority")
    font_pt: int = spec("row font size", default=20, minimum=8, maximum=96)
    show_consequences: bool = spec("list consequences under their cause", default=True)


@dataclass(frozen=True)
class AlarmSummaryOptions:
    font_pt: int = spec("numbers font size", default=48, minimum=8, maximum=300)


@dataclass(frozen=True)
class AlarmRateOptions:
    hours: float = spec("history shown", default=4.0, minimum=0.25, maximum=72)


@dataclass(frozen=True)
class KpiOptions:
    series: tuple[str, ...] = spec("KPI names (from the config's kpis) to draw; default the first four", default=())
    minutes: float = spec("history shown", default=60.0, minimum=1)


@dataclass(frozen=True)
class ClockOptions:
    timezone: str | None = spec("IANA time zone; default local", default=None)
    seconds: bool = spec("show seconds", default=True)
    utc_line: bool = spec("add a UTC line", default=True)


@dataclass(frozen=True)
class BannerOptions:
    font_pt: int = spec("font size", default=22, minimum=8, maximum=120)


@dataclass(frozen=True)
class TextOptions:
    text: str = spec("the text", default="")
    font_pt: int = spec("font size", default=28, minimum=8, maximum=300)
    align: Literal["left", "center", "right"] = spec("alignment", default="center")


@dataclass(frozen=True)
class ImageOptions:
    path: str = spec("image file (PNG, JPEG, SVG), relative to the layouts directory")
    keep_aspect: bool = spec("letterbox instead of stretching", default=True)


@dataclass(frozen=True)
class DiagnosticsOptions:
    font_pt: int = spec("font size", default=16, minimum=8, maximum=96)


@dataclass(frozen=True)
class AlarmHealthOptions:
    top: int = spec("bad actors listed (the most frequent alarms of the last 24 h)", default=5, minimum=0, maximum=5)


TILE_OPTIONS: dict[str, type] = {
    "topology": TopologyOptions,
    "alarm_list": AlarmListOptions,
    "alarm_summary": AlarmSummaryOptions,
    "alarm_rate": AlarmRateOptions,
    "kpi": KpiOptions,
    "clock": ClockOptions,
    "banner": BannerOptions,
    "text": TextOptions,
    "image": ImageOptions,
    "diagnostics": DiagnosticsOptions,
    "alarm_health": AlarmHealthOptions,
}
