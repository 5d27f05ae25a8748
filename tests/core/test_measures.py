"""The alarm-system measures (issue 19) on a synthetic 30-day journal whose content is known: every figure is
checked against a value computed here from the scenario, not by the fold."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from wallctl.controller.journal import AuditEntry, Journal
from wallctl.controller.journal_read import JournalReader, measure_journal
from wallctl.core.measures.fold import MeasureFold
from wallctl.core.measures.records import HistoryRow, rfc3339

T0 = 1_800_000_000.0  # a multiple of 600 and 3600: the 10-minute and hour grids start here
DAY = 86_400.0
END = T0 + 30 * DAY
FLOOD1 = T0 + 5 * DAY + 10 * 3600 + 1800  # day 5, 10:30
FLOOD2 = T0 + 20 * DAY + 3 * 3600 + 1800  # day 20, 03:30
FLAP = T0 + 10 * DAY + 12 * 3600 + 1800  # day 10, 12:30
OOS_AT = T0 + 17 * DAY + 2 * 3600  # out of service from here to the end: 309 h


@dataclass
class Occ:
    source: str
    type: str
    start: float
    priority: str | None
    ack_after: float | None = None
    clear_after: float | None = None
    kind: str = "raise"


def scenario() -> tuple[list[Occ], list[tuple[Any, ...]]]:
    """The occurrences (what the figures are computed from here) and the extra rows (shelve, suppress...)."""
    occ: list[Occ] = []
    for d in range(30):
        for h in range(24):
            prio, ack = ("high", 30.0) if h == 0 else ("medium", 60.0) if h in (1, 2, 3) else ("low", 120.0)
            occ.append(Occ(f"host{h % 5}", "cpu", T0 + d * DAY + h * 3600 + 60, prio, ack, 300.0))
    for base, name, prio in ((FLOOD1, "flood-src", "medium"), (FLOOD2, "storm", "high")):
        for i in range(40):  # 40 alarms 5 s apart, all acknowledged at base + 900, cleared at base + 1000
            occ.append(Occ(f"{name}{i:02d}", "link_down", base + 5 * i, prio, 900.0 - 5 * i, 1000.0 - 5 * i))
    for i in range(5):  # chattering: in and out of alarm every 5 s; only the last occurrence acknowledged
        occ.append(
            Occ("flappy", "port", FLAP + 10 * i, "low", 65.0 if i == 4 else None, 5.0, "raise" if i == 0 else "realarm")
        )
    occ.append(Occ("stuck", "fan", T0 + 2 * DAY + 30, "medium", 600.0, None))  # stale from day 3 to the end
    occ.append(Occ("stuck2", "fan", T0 + 12 * DAY + 40, "high", 100.0, 2 * DAY))  # stale during day 13
    occ.append(Occ("noisy", "temp", T0 + 15 * DAY + 6 * 3600 + 10, "low", 3660.0, 4020.0))  # shelved for an hour
    occ.append(Occ("maint", "disk", T0 + 16 * DAY + 9 * 3600 + 10, None, 7300.0, 7400.0))  # suppressed, silent
    occ.append(Occ("oos", "x", OOS_AT - 100, "low", None, None))  # out of service, never back
    noisy, maint = occ[-3].start, occ[-2].start
    extra = [
        (noisy + 20, "noisy", "temp", "shelve", 3, None, None),
        (noisy + 3620, "noisy", "temp", "unshelve", 3, None, None),
        (maint, "maint", "disk", "suppress", 3, None, None),
        (maint + 7200, "maint", "disk", "unsuppress", 3, None, None),
        (OOS_AT, "oos", "x", "out_of_service", 3, None, None),
    ]
    return occ, extra


def rows_of(occ: list[Occ], extra: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    rows = list(extra)
    for o in occ:
        rows.append((o.start, o.source, o.type, o.kind, 3, o.priority, "north"))
        if o.ack_after is not None:
            rows.append((o.start + o.ack_after, o.source, o.type, "ack", 3, None, "north"))
        if o.clear_after is not None:
            rows.append((o.start + o.clear_after, o.source, o.type, "clear", 0, None, "north"))
    return sorted(rows, key=lambda r: r[0])


def nearest_rank(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("measures") / "journal.sqlite3"
    occ, extra = scenario()
    j = Journal(path)
    j.record(rows_of(occ, extra))
    for t, origin, action, ok in [
        (FLOOD1, "system", "flood_start", True),
        (FLOOD2, "system", "flood_start", True),
        (T0 + DAY, "hotkey", "ack", True),
        (T0 + 2 * DAY, "hotkey", "ack", True),
        (T0 + 3 * DAY, "hotkey", "ack", True),
        (T0 + 4 * DAY, "mqtt", "shelve", True),
        (T0 + 5 * DAY, "cli", "silence", False),
        (END + 10, "hotkey", "ack", True),  # after the range: not counted
    ]:
        j.audit(AuditEntry(t, origin, "desk", action, {}, ok, None if ok else "refused"))
    j.flush()
    j.close()
    with JournalReader(path) as reader:
        return measure_journal(reader, T0, END)


def test_the_contract_fields_are_there(report: dict[str, Any]) -> None:
    contract = {"from", "to", "alarms", "rate_per_10min", "intervals_over_10_pct", "floods", "top10", "top10_share",
                "chattering", "stale_max", "priority", "time_to_ack_s", "never_acked"}  # fmt: skip
    assert contract <= set(report)
    assert set(report["rate_per_10min"]) >= {"mean", "max"}
    assert set(report["floods"][0]) >= {"start", "end", "peak_per_10min", "alarms"}
    assert set(report["top10"][0]) >= {"source", "type", "count", "share"}
    assert set(report["chattering"][0]) >= {"source", "type", "transitions"}
    assert set(report["priority"]) >= {"high", "medium", "low"}
    assert set(report["time_to_ack_s"]) >= {"median", "p90"}
    assert (report["from"], report["to"]) == (rfc3339(T0), rfc3339(END))


def test_rates_and_intervals(report: dict[str, Any]) -> None:
    occ, _ = scenario()
    sounded = [o for o in occ if o.priority is not None]
    assert report["alarms"] == len(sounded) == 809
    assert report["raised"] == len(occ) == 810
    assert report["rate_per_10min"]["mean"] == round(len(sounded) / (30 * 144), 3)
    assert report["rate_per_hour"]["mean"] == round(len(sounded) / (30 * 24), 3)
    per10 = Counter(int((o.start - T0) // 600) for o in sounded)
    perh = Counter(int((o.start - T0) // 3600) for o in sounded)
    assert report["rate_per_10min"]["max"] == max(per10.values()) == 40
    assert report["rate_per_hour"]["max"] == max(perh.values()) == 41
    assert report["intervals_over_10_pct"] == round(100 * 2 / (30 * 144), 3)
    assert sum(report["rate_series"]["alarms"]) == 809 and len(report["rate_series"]["alarms"]) == 30 * 24


def test_floods_start_end_peak_and_first_out(report: dict[str, Any]) -> None:
    # detected at the 11th alarm (window of 11 from the first); ends when the 36th leaves the window: 4 remain
    assert report["flood_count"] == 2
    for flood, base, name in zip(report["floods"], (FLOOD1, FLOOD2), ("flood-src", "storm"), strict=True):
        assert flood["start"] == rfc3339(base)
        assert flood["end"] == rfc3339(base + 5 * 35 + 600)
        assert flood["peak_per_10min"] == 40 and flood["alarms"] == 40 and not flood["ongoing"]
        assert [a["source"] for a in flood["first_out"]] == [f"{name}{i:02d}" for i in range(11)]
    assert report["time_in_flood_pct"] == round(100 * 2 * 775 / (30 * DAY), 3)


def test_top10_and_its_share(report: dict[str, Any]) -> None:
    occ, _ = scenario()
    counts = Counter((o.source, o.type) for o in occ if o.priority is not None)
    expected = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert [(t["source"], t["type"], t["count"]) for t in report["top10"]] == [(s, ty, c) for (s, ty), c in expected]
    assert [t["count"] for t in report["top10"][:6]] == [150, 150, 150, 150, 120, 5]
    assert report["top10"][0]["share"] == round(150 / 809, 4)
    assert report["top10_share"] == round(sum(c for _, c in expected) / 809, 4)


def test_chattering_and_fleeting(report: dict[str, Any]) -> None:
    # 10 transitions 5 s apart: episodes of 3 at 0-10 s, 15-25 s, 30-40 s; the 45 s one is alone
    assert report["chattering"] == [{"source": "flappy", "type": "port", "transitions": 10, "episodes": 3}]
    assert report["chattering_by_source"] == {"flappy": 1}
    assert report["fleeting"] == [{"source": "flappy", "type": "port", "count": 5}]
    assert report["fleeting_count"] == 5


def test_stale_and_standing(report: dict[str, Any]) -> None:
    # stuck (from day 3) and stuck2 (during day 13), later stuck and oos (from day 18): never more than 2 at once
    assert report["stale_max"] == 2
    # the second flood: its 40 alarms, plus stuck and oos still in alarm
    assert report["standing"]["max"] == 42
    series = report["standing"]["series"]
    assert len(series) == 30 * 24 and series[0]["time"] == rfc3339(T0)
    assert series[3 * 24]["standing"] == 1  # day 3, 00:00: only stuck


def test_priority_shares(report: dict[str, Any]) -> None:
    occ, _ = scenario()
    counts = Counter(o.priority for o in occ if o.priority is not None)
    assert report["priority_counts"] == {
        "high": counts["high"],
        "medium": counts["medium"],
        "low": counts["low"],
        "cue": 0,
    }
    assert report["priority"]["high"] == round(counts["high"] / 809, 4)
    assert report["priority"]["low"] == round(counts["low"] / 809, 4)


def test_time_to_ack_and_clear_per_priority(report: dict[str, Any]) -> None:
    occ, _ = scenario()
    sounded = [o for o in occ if o.priority is not None]
    acks = [o.ack_after for o in sounded if o.ack_after is not None]
    clears = [o.clear_after for o in sounded if o.clear_after is not None]
    tta, ttc = report["time_to_ack_s"], report["time_to_clear_s"]
    assert (tta["median"], tta["p90"], tta["count"]) == (nearest_rank(acks, 0.5), nearest_rank(acks, 0.9), len(acks))
    assert (ttc["median"], ttc["p90"]) == (nearest_rank(clears, 0.5), nearest_rank(clears, 0.9))
    for prio in ("high", "medium", "low"):
        mine = [o.ack_after for o in sounded if o.priority == prio and o.ack_after is not None]
        assert tta["by_priority"][prio]["median"] == nearest_rank(mine, 0.5), prio
        assert tta["by_priority"][prio]["p90"] == nearest_rank(mine, 0.9), prio
    assert ttc["max"] == 2 * DAY
    # flappy's first four occurrences and oos were never acknowledged
    assert report["never_acked"] == 5


def test_shelved_suppressed_out_of_service_and_actions(report: dict[str, Any]) -> None:
    assert report["shelved"]["count"] == 1 and report["shelved"]["duration_s"]["median"] == 3600
    assert report["suppressed"]["count"] == 1 and report["suppressed"]["duration_s"]["median"] == 7200
    oos = report["out_of_service"]
    assert (oos["count"], oos["still"], oos["duration_s"]["max"]) == (1, 1, END - OOS_AT)
    acts = report["actions"]
    assert acts["by_origin"] == {"cli": 1, "hotkey": 3, "mqtt": 1, "system": 2}
    assert acts["by_action"]["system"] == {"flood_start": 2} and acts["failed"] == 1


def test_verdicts_sit_next_to_their_targets(report: dict[str, Any]) -> None:
    by = {v["measure"]: v for v in report["verdicts"]}
    assert by["average alarm rate per 10 minutes"]["met"] is True  # 809 in 30 days: 0.19 per 10 minutes
    assert by["most alarms in one 10-minute interval"]["met"] is False
    assert by["10-minute intervals above 10 alarms"]["met"] is True  # 0.05 %
    assert by["top 10 alarms' share of all alarms"]["met"] is False
    assert by["stale alarms at any time"]["met"] is True
    assert by["chattering alarms"]["met"] is False
    assert by["time to acknowledge (median / p90)"]["met"] is None


def test_rows_before_the_range_set_the_starting_picture() -> None:
    occ, extra = scenario()
    fold = MeasureFold(T0 + 4 * DAY, T0 + 6 * DAY)
    fold.feed(HistoryRow(*r) for r in rows_of(occ, extra))
    fold.finish()
    assert fold.stale_max == 1  # stuck, raised on day 2, is stale all along
    assert fold.alarms == 2 * 24 + 40  # two days of background and the first flood; stuck is not counted again
    assert fold.floods.count == 1


def test_the_fold_keeps_state_per_alarm_not_per_row() -> None:
    fold = MeasureFold(T0, T0 + DAY)
    for i in range(50_000):
        t = T0 + i * 1.5
        key = f"n{i % 100}"
        fold.add(HistoryRow(t, key, "t", "raise" if i % 2 == 0 else "clear", 3, "low" if i % 2 == 0 else None, None))
    fold.finish()
    assert fold.keys == 100
    assert len(fold.floods._times) <= 600  # the window only
    assert len(fold._stale_queue) <= 25_000  # one entry per alarm raised within the last 24 h
    assert sum(len(d._counts) for d in fold.ttc.values()) < 10
