"""The wire form of what display nodes draw (``<prefix>/view/...``, retained JSON): the rows of each list, the
summary picture, the worst state per map element, the KPI series. Encoders for the controller and decoders for
the display, side by side so that they cannot drift apart. Every message is bounded by what a wall draws."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from wallctl.core.alarms.alarm import AlarmState, Flag
from wallctl.core.alarms.engine import Counts
from wallctl.core.alarms.flood import FloodPolicy
from wallctl.core.alarms.match import AlarmMatch
from wallctl.core.kpi import KpiBoard, KpiSpec
from wallctl.core.measures.live import HealthFigures
from wallctl.core.severity import Severity
from wallctl.core.topology.state import ElementState, TopologyState
from wallctl.core.view.diagnostics import Diagnostics, Rejected
from wallctl.core.view.rows import AlarmRow, ListRows
from wallctl.core.wall.rules import Decision, Pin

VIEW_ROWS = 100  # rows sent per list: more than any list tile shows at a legible size
_STATES = {s.value: s for s in AlarmState}
_FLAGS = {f.value: f for f in Flag}


def list_id(sort: str, match: AlarmMatch | None, group_consequences: bool) -> str:
    """A list's name on the wire: the same for every tile that shows the same alarms in the same order."""
    digest = hashlib.sha1(repr((sort, match, group_consequences)).encode(), usedforsecurity=False)
    return digest.hexdigest()[:12]


# ------------------------------------------------------------------------------------------------------ list rows
def encode_rows(
    listed: ListRows,
    *,
    seq: int,
    now: float,
    list_name: str,
    incident_of: Callable[[Any], dict[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """``incident_of``: the ticket an alarm belongs to (``{"id", "owner", "status"}``), shown on its row."""
    return {
        "seq": seq,
        "time": round(now, 3),
        "list": list_name,
        "rows": [_row(a, depth, incident_of(a) if incident_of is not None else None) for a, depth in listed.rows],
        "total": listed.total,
        "hidden": dict(listed.hidden),
        "beyond": [[c, n] for c, n in listed.beyond],
    }


def _row(a: AlarmRow, depth: int, incident: dict[str, Any] | None = None) -> list[Any]:
    """Positional: a list of 100 rows goes out at every change of it. The last two (site, incident) are newer: a
    decoder takes rows without them."""
    return [
        a.source,
        a.type,
        int(a.severity),
        int(a.peak),
        a.state.value,
        a.count,
        round(a.first, 3),
        round(a.last, 3),
        a.text,
        a.category,
        sorted(f.value for f in a.flags),
        list(a.cause) if a.cause else None,
        depth,
        getattr(a, "site", None),
        incident,
    ]


@dataclass(frozen=True, slots=True)
class RowAlarm:
    """An alarm as a display node knows it: what its row draws (the attributes an :class:`Alarm` has)."""

    source: str
    type: str
    severity: Severity
    peak: Severity
    state: AlarmState
    count: int
    first: float
    last: float
    text: str
    category: str | None
    flags: frozenset[Flag]
    cause: tuple[str, str] | None
    site: str | None = None  # the branch site the alarm came from
    incident: dict[str, Any] | None = None  # the ticket it belongs to: {"id", "owner", "status"}

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.type)


@dataclass(frozen=True, slots=True)
class RemoteRows:
    seq: int
    rows: list[tuple[RowAlarm, int]]
    total: int
    hidden: dict[str, int]
    beyond: list[tuple[str, int]]

    def listed(self) -> ListRows:
        return ListRows(self.rows, self.total, self.hidden, self.beyond)


def decode_rows(body: dict[str, Any]) -> RemoteRows:
    rows = []
    for r in body["rows"]:
        src, typ, sev, peak, state, count, first, last, text, cat, flags, cause, depth = r[:13]
        site, incident = [*r[13:15], None, None][:2]
        rows.append(
            (
                RowAlarm(
                    src,
                    typ,
                    Severity(sev),
                    Severity(peak),
                    _STATES[state],
                    int(count),
                    float(first),
                    float(last),
                    str(text),
                    cat,
                    frozenset(_FLAGS[f] for f in flags if f in _FLAGS),
                    (cause[0], cause[1]) if cause else None,
                    str(site) if site else None,
                    dict(incident) if isinstance(incident, dict) else None,
                ),
                int(depth),
            )
        )
    return RemoteRows(
        int(body["seq"]),
        rows,
        int(body["total"]),
        {k: int(v) for k, v in body["hidden"].items()},
        [(str(c), int(n)) for c, n in body["beyond"]],
    )


# -------------------------------------------------------------------------------------------------------- picture
def encode_picture(
    counts: Counts,
    set_aside: dict[Severity, int],
    oldest_unacked: float | None,
    flood: bool,
    rate_per_minute: dict[int, int],
    *,
    seq: int,
    now: float,
) -> dict[str, Any]:
    """The summary numbers and the alarm-rate history (new alarms per minute, the last day at most)."""
    since = int(now // 60) - 24 * 60
    return {
        "seq": seq,
        "time": round(now, 3),
        "counts": {
            "active": counts.active,
            "unacked": counts.unacked,
            "shelved": counts.shelved,
            "suppressed": counts.suppressed,
            "by_severity": dict(counts.by_severity),
            "by_state": dict(counts.by_state),
            "highest": counts.highest.label if counts.highest is not None else None,
        },
        "set_aside": {s.label: n for s, n in set_aside.items() if n},
        "oldest_unacked": oldest_unacked,
        "flood": flood,
        "per_minute": [[m, n] for m, n in sorted(rate_per_minute.items()) if m >= since and n],
    }


@dataclass
class RemotePicture:
    seq: int = 0
    counts: Counts = field(default_factory=lambda: Counts(0, 0, 0, 0, {}, {}, None))
    set_aside: dict[Severity, int] = field(default_factory=dict)
    oldest_unacked: float | None = None
    flood: bool = False
    per_minute: dict[int, int] = field(default_factory=dict)


def decode_picture(body: dict[str, Any]) -> RemotePicture:
    c = body["counts"]
    highest = c.get("highest")
    return RemotePicture(
        int(body["seq"]),
        Counts(
            int(c["active"]),
            int(c["unacked"]),
            int(c["shelved"]),
            int(c["suppressed"]),
            {str(k): int(v) for k, v in c["by_severity"].items()},
            {str(k): int(v) for k, v in c["by_state"].items()},
            Severity.parse(highest) if highest else None,
        ),
        {Severity.parse(k): int(v) for k, v in body["set_aside"].items()},
        body.get("oldest_unacked"),
        bool(body["flood"]),
        {int(m): int(n) for m, n in body["per_minute"]},
    )


# ------------------------------------------------------------------------------------------------------------ map
def _element(st: ElementState) -> list[Any]:
    return [int(st.severity), st.unacked, st.consequence, st.count]


def encode_map(state: TopologyState, *, seq: int, now: float, name: str) -> dict[str, Any]:
    """Only the elements that are not normal: bounded by the size of the map, not by the number of alarms."""
    return {
        "seq": seq,
        "time": round(now, 3),
        "map": name,
        "nodes": {n: _element(st) for n, st in state.nodes.items()},
        "links": [[a, b, *_element(st)] for (a, b), st in state.links.items()],
    }


@dataclass(frozen=True, slots=True)
class RemoteMap:
    seq: int
    nodes: dict[str, ElementState]
    links: dict[tuple[str, str], ElementState]


def _state(v: Iterable[Any]) -> ElementState:
    sev, unacked, consequence, count = v
    return ElementState(Severity(sev), bool(unacked), bool(consequence), int(count))


def decode_map(body: dict[str, Any]) -> RemoteMap:
    return RemoteMap(
        int(body["seq"]),
        {str(n): _state(v) for n, v in body["nodes"].items()},
        {(str(a), str(b)): _state(rest) for a, b, *rest in body["links"]},
    )


# ------------------------------------------------------------------------------------------------------------ KPI
def encode_kpis(board: KpiBoard, *, seq: int, now: float, window_s: float = 3600.0) -> dict[str, Any]:
    """The points of each series in the last ``window_s`` (a chart's span), at most 2,000 per series."""
    out: dict[str, Any] = {}
    for name, series in board.series.items():
        pts = [(t, v) for t, v in series.points if t >= now - window_s and math.isfinite(v)]
        step = max(1, math.ceil(len(pts) / 2000))
        out[name] = {"level": series.level.label, "points": [[round(t, 3), v] for t, v in pts[::step]]}
    return {"seq": seq, "time": round(now, 3), "series": out}


def decode_kpis(body: dict[str, Any]) -> dict[str, list[tuple[float, float]]]:
    return {name: [(float(t), float(v)) for t, v in s["points"]] for name, s in body["series"].items()}


# -------------------------------------------------------------------------------------------------- diagnostics
def encode_health(h: HealthFigures, *, seq: int, now: float) -> dict[str, Any]:
    """``view/health``: the alarm-health tile's figures (a few numbers and the top five bad actors)."""
    return {
        "seq": seq,
        "time": round(now, 3),
        "last_10min": h.last_10min,
        "mean_10min_hour": h.mean_10min_hour,
        "total_24h": h.total_24h,
        "top": [list(t) for t in h.top],
        "level": h.level,
    }


def decode_health(body: dict[str, Any]) -> HealthFigures:
    return HealthFigures(
        int(body["last_10min"]),
        float(body["mean_10min_hour"]),
        int(body["total_24h"]),
        tuple((str(s), str(t), int(n)) for s, t, n in body["top"]),
        str(body["level"]),
    )


def encode_diagnostics(d: Diagnostics, *, seq: int, now: float) -> dict[str, Any]:
    return {
        "seq": seq,
        "time": round(now, 3),
        "rejected_by_reason": dict(d.rejected_by_reason),
        "recent_rejected": [[r.time, r.topic, r.reason, r.detail, r.preview] for r in d.recent_rejected],
        "config_errors": list(d.config_errors),
        "device_errors": list(d.device_errors),
        "exceptions": list(d.exceptions),
    }


def decode_diagnostics(body: dict[str, Any], into: Diagnostics) -> None:
    """Replace what ``into`` holds (the display's record, which its views already read)."""
    into.rejected_by_reason.clear()
    into.rejected_by_reason.update({str(k): int(v) for k, v in body["rejected_by_reason"].items()})
    into.recent_rejected.clear()
    into.recent_rejected.extend(
        Rejected(float(t), str(tp), str(r), str(d), str(p)) for t, tp, r, d, p in body["recent_rejected"]
    )
    into.config_errors[:] = [str(e) for e in body["config_errors"]]
    into.device_errors.clear()
    into.device_errors.extend(str(e) for e in body["device_errors"])
    into.exceptions.clear()
    into.exceptions.extend(str(e) for e in body["exceptions"])


# -------------------------------------------------------------------------------------------------------- decision
def decision_of_state(s: dict[str, Any]) -> Decision:
    """The controller's decision as its state payload carries it (mode, focus, pin, reason)."""
    focus = s.get("focus") or {}
    pin = s.get("pinned")
    return Decision(
        mode=str(s["mode"]),
        focus_region=focus.get("region"),
        focus_target=focus.get("target"),
        reason=str(s.get("reason") or "default"),
        rules_choice=str(s.get("rules_mode") or s["mode"]),
        pin=Pin(str(pin["mode"]), float(pin["until"]), str(pin.get("origin") or "operator")) if pin else None,
        since=float(s.get("mode_since") or s.get("time") or 0.0),
    )


# ----------------------------------------------------------------------------------------------------------- setup
@dataclass(frozen=True)
class Setup:
    """What a display node needs to build the wall's scene, so that it needs no file of the wall's configuration:
    the layout files (the same loading pipeline reads them), the topologies, the KPI and flood settings."""

    layouts: dict[str, str]  # path below the layouts folder -> text
    assets: dict[str, str]  # image files below the layouts folder -> base64
    topologies: dict[str, dict[str, str]]  # tile file ('' the configured one) -> {name, text, positions, source_key}
    kpis: list[KpiSpec]
    flood: FloodPolicy
    reserved_hotkeys: dict[str, str]
    severity_colors: dict[str, str]


def encode_setup(setup: Setup, *, seq: int, now: float) -> dict[str, Any]:
    return {
        "seq": seq,
        "time": round(now, 3),
        "layouts": setup.layouts,
        "assets": setup.assets,
        "topologies": setup.topologies,
        "kpis": [asdict(k) for k in setup.kpis],
        "flood": asdict(setup.flood),
        "reserved_hotkeys": setup.reserved_hotkeys,
        "severity_colors": setup.severity_colors,
    }


def decode_setup(body: dict[str, Any]) -> Setup:
    return Setup(
        {str(k): str(v) for k, v in body["layouts"].items()},
        {str(k): str(v) for k, v in body.get("assets", {}).items()},
        {str(k): {str(a): str(b) for a, b in v.items()} for k, v in body["topologies"].items()},
        [KpiSpec(**k) for k in body["kpis"]],
        FloodPolicy(**body["flood"]),
        {str(k): str(v) for k, v in body["reserved_hotkeys"].items()},
        {str(k): str(v) for k, v in body.get("severity_colors", {}).items()},
    )
