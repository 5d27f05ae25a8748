"""The fold's tallies as the report's figures, each measure next to its target and a verdict.

Targets are EEMUA 191's and ISA-18.2's (IEC 62682) published lines; a measure neither document gives a number for
(time to acknowledge, shelving) is reported as informative, with no verdict rather than an invented one. Shares are
fractions (0..1); fields ending in ``_pct`` are percentages.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from wallctl.core.measures.durations import Durations
from wallctl.core.measures.fold import AlarmKey, MeasureFold
from wallctl.core.measures.records import rfc3339

PRIORITY_TARGET = {"high": 0.05, "medium": 0.15, "low": 0.80}  # ISA-18.2 / EEMUA 191 annunciated distribution


@dataclass(frozen=True, slots=True)
class Targets:
    rate_10min_acceptable: float = 1.0  # EEMUA 191: very likely to be acceptable
    rate_10min_manageable: float = 2.0  # EEMUA 191: manageable
    flood_per_10min: int = 10  # above: a flood
    intervals_over_pct: float = 1.0
    time_in_flood_pct: float = 1.0
    top10_share: float = 0.05  # the top 10 together: 1 % to 5 % of the load at most
    stale_max: int = 5  # fewer than 5 at any time
    standing_mean: float = 10.0  # EEMUA 191: fewer than 10 standing alarms
    priority_tolerance: float = 0.10  # each share within 10 points of 80/15/5


def _r(v: float | None, nd: int = 3) -> float | None:
    return None if v is None else round(v, nd)


def rate_level(per_10min: float, t: Targets = Targets()) -> str:
    """EEMUA 191's words for an average rate per 10 minutes."""
    if per_10min <= t.rate_10min_acceptable:
        return "acceptable"
    if per_10min <= t.rate_10min_manageable:
        return "manageable"
    if per_10min <= t.flood_per_10min:
        return "over-demanding"
    return "flood"


def _ranked(counter: Counter[AlarmKey], limit: int) -> list[tuple[AlarmKey, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def _by_source(keys: Counter[AlarmKey], limit: int) -> dict[str, int]:
    per: Counter[str] = Counter()
    for (source, _type), n in keys.items():
        per[source] += n
    return dict(sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:limit])


def _times(into: dict[str, Durations]) -> dict[str, Any]:
    overall = into.get("all", Durations()).summary()
    by = {p: into[p].summary() for p in ("high", "medium", "low", "cue") if p in into}
    return {**overall, "by_priority": by}


def _series(counts: Counter[int], step: int, n: int) -> list[int]:
    return (
        [counts.get(i, 0) for i in range(n)]
        if step == 1
        else [sum(counts.get(i * step + j, 0) for j in range(step)) for i in range(n)]
    )


def figures(fold: MeasureFold, targets: Targets = Targets()) -> dict[str, Any]:
    """The report's JSON (the contract's fields and the rest); ``fold.finish()`` must have run."""
    start, end, n = fold.start, fold.end, fold.alarms
    duration = end - start
    n10, nh = math.ceil(duration / 600.0), math.ceil(duration / 3600.0)
    mean10, meanh = n * 600.0 / duration, n * 3600.0 / duration
    max10, maxh = max(fold.per_10min.values(), default=0), max(fold.per_hour.values(), default=0)
    over = sum(1 for c in fold.per_10min.values() if c > targets.flood_per_10min)
    over_pct = 100.0 * over / n10
    flood_pct = 100.0 * fold.floods.time_in_flood / duration
    limit = fold.policy.list_limit
    top = _ranked(fold.top, 10)
    top10 = [{"source": s, "type": t, "count": c, "share": _r(c / n, 4)} for (s, t), c in top]
    top10_share = sum(c for _, c in top) / n if n else 0.0
    chatterers = Counter({key: fold.transitions[key] for key in fold.chatter_episodes})
    chattering = [
        {"source": s, "type": t, "transitions": c, "episodes": fold.chatter_episodes[s, t]}
        for (s, t), c in _ranked(chatterers, limit)
    ]
    fleeting = [{"source": s, "type": t, "count": c} for (s, t), c in _ranked(fold.fleeting, limit)]
    shares = {p: (_r(fold.by_priority.get(p, 0) / n, 4) if n else None) for p in (*PRIORITY_TARGET, "cue")}
    samples = [v for _, v in fold.standing_series]
    standing_mean = sum(samples) / len(samples) if samples else 0.0
    hour_step = 1 if nh <= 24 * 45 else 24
    out: dict[str, Any] = {
        "from": rfc3339(start),
        "to": rfc3339(end),
        "alarms": n,
        "raised": fold.raised,
        "rate_per_10min": {"mean": _r(mean10), "max": max10, "level": rate_level(mean10, targets)},
        "rate_per_hour": {"mean": _r(meanh), "max": maxh},
        "intervals_over_10_pct": _r(over_pct),
        "floods": [f.to_json(end) for f in fold.floods.floods],
        "flood_count": fold.floods.count,
        "time_in_flood_pct": _r(flood_pct),
        "top10": top10,
        "top10_share": _r(top10_share, 4),
        "chattering": chattering,
        "chattering_count": len(fold.chatter_episodes),
        "chattering_by_source": _by_source(Counter(dict.fromkeys(fold.chatter_episodes, 1)), limit),
        "fleeting": fleeting,
        "fleeting_count": sum(fold.fleeting.values()),
        "fleeting_by_source": _by_source(fold.fleeting, limit),
        "stale_max": fold.stale_max,
        "standing": {
            "max": fold.standing_max,
            "mean": _r(standing_mean),
            "sample_s": fold.sample_s,
            "series": [{"time": rfc3339(t), "standing": v} for t, v in fold.standing_series],
            "stale_series": [v for _, v in fold.stale_series],
        },
        "priority": shares,
        "priority_counts": {p: fold.by_priority.get(p, 0) for p in (*PRIORITY_TARGET, "cue")},
        "time_to_ack_s": _times(fold.tta),
        "time_to_clear_s": _times(fold.ttc),
        "never_acked": fold.never_acked,
        "shelved": fold.shelved.to_json(),
        "suppressed": fold.suppressed.to_json(),
        "out_of_service": fold.out_of_service.to_json(),
        "actions": _actions(fold),
        "rate_series": {"step_s": 3600 * hour_step, "alarms": _series(fold.per_hour, hour_step, -(-nh // hour_step))},
        "history_rows": fold.rows,
        "alarm_keys": fold.keys,
    }
    out["verdicts"] = verdicts(out, targets)
    return out


def _actions(fold: MeasureFold) -> dict[str, Any]:
    by_origin: Counter[str] = Counter()
    by_action: dict[str, dict[str, int]] = {}
    for (origin, action), c in sorted(fold.actions.items()):
        by_origin[origin] += c
        by_action.setdefault(origin, {})[action] = c
    return {"by_origin": dict(sorted(by_origin.items())), "by_action": by_action, "failed": fold.failed_actions}


def _verdict(measure: str, value: Any, target: str, met: bool | None, meaning: str) -> dict[str, Any]:
    return {"measure": measure, "value": value, "target": target, "met": met, "meaning": meaning}


def verdicts(f: dict[str, Any], t: Targets = Targets()) -> list[dict[str, Any]]:
    """Each measure with its target and met (True/False), or None where no standard gives a line."""
    mean10 = f["rate_per_10min"]["mean"]
    shares = f["priority"]
    prio_met = (
        None
        if f["alarms"] == 0
        else all(abs((shares[p] or 0.0) - goal) <= t.priority_tolerance for p, goal in PRIORITY_TARGET.items())
    )
    prio_value = " / ".join(f"{round(100 * (shares[p] or 0))} %" for p in ("low", "medium", "high"))
    tta = f["time_to_ack_s"]
    return [
        _verdict(
            "average alarm rate per 10 minutes",
            mean10,
            f"<= {t.rate_10min_acceptable:g} (acceptable), <= {t.rate_10min_manageable:g} (manageable)",
            mean10 <= t.rate_10min_acceptable,
            "EEMUA 191: what one operator can handle in normal operation",
        ),
        _verdict(
            "average alarm rate per hour",
            f["rate_per_hour"]["mean"],
            f"<= {6 * t.rate_10min_acceptable:g}",
            f["rate_per_hour"]["mean"] <= 6 * t.rate_10min_acceptable,
            "the same line per hour",
        ),
        _verdict(
            "most alarms in one 10-minute interval",
            f["rate_per_10min"]["max"],
            f"<= {t.flood_per_10min}",
            f["rate_per_10min"]["max"] <= t.flood_per_10min,
            "above 10 the operator is in a flood",
        ),
        _verdict(
            "10-minute intervals above 10 alarms",
            f"{f['intervals_over_10_pct']} %",
            f"< {t.intervals_over_pct:g} %",
            f["intervals_over_10_pct"] < t.intervals_over_pct,
            "ISA-18.2: share of time an operator cannot keep up",
        ),
        _verdict(
            "time in flood",
            f"{f['time_in_flood_pct']} %",
            f"< {t.time_in_flood_pct:g} %",
            f["time_in_flood_pct"] < t.time_in_flood_pct,
            "floods start above 10 per 10 minutes and end below 5",
        ),
        _verdict(
            "top 10 alarms' share of all alarms",
            f"{round(100 * f['top10_share'], 2)} %",
            f"1-{100 * t.top10_share:g} %",
            f["top10_share"] <= t.top10_share,
            "a few bad actors making most of the noise are the first thing to fix",
        ),
        _verdict(
            "chattering alarms",
            f["chattering_count"],
            "0",
            f["chattering_count"] == 0,
            "3 or more transitions within 60 s",
        ),
        _verdict(
            "fleeting alarms", f["fleeting_count"], "0", f["fleeting_count"] == 0, "cleared before anyone could act"
        ),
        _verdict(
            "stale alarms at any time",
            f["stale_max"],
            f"< {t.stale_max}",
            f["stale_max"] < t.stale_max,
            "active for more than 24 h",
        ),
        _verdict(
            "standing alarms (mean)",
            f["standing"]["mean"],
            f"< {t.standing_mean:g}",
            f["standing"]["mean"] < t.standing_mean,
            "alarms in alarm at a time, acknowledged or not",
        ),
        _verdict(
            "priority distribution (low / medium / high)",
            prio_value,
            "80 % / 15 % / 5 %",
            prio_met,
            f"each within {round(100 * t.priority_tolerance)} points",
        ),
        _verdict(
            "time to acknowledge (median / p90)",
            f"{tta['median']} s / {tta['p90']} s",
            "informative",
            None,
            "no standard line; compare sites and months",
        ),
        _verdict(
            "annunciated alarms never acknowledged",
            f["never_acked"],
            "informative",
            None,
            "by the end of the range",
        ),
        _verdict(
            "alarms shelved",
            f["shelved"]["count"],
            "informative",
            None,
            "review what is shelved and for how long",
        ),
    ]
