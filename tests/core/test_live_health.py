"""The alarm-health tile's figures, live: the last 10 minutes against EEMUA 191's lines, the last hour's mean, the
bad actors of the day; bounded, and the same on a display node as in the controller (the wire round trip)."""

from __future__ import annotations

from pathlib import Path

from wallctl.core.measures import live
from wallctl.core.measures.live import LiveHealth
from wallctl.core.wire.view import decode_health, encode_health

T0 = 1_800_000_000.0


def test_the_load_now_against_the_eemua_lines() -> None:
    h = LiveHealth()
    assert h.figures(T0).level == "acceptable" and h.figures(T0).total_24h == 0
    h.note(T0, ("a", "x"))
    assert h.figures(T0 + 1).level == "acceptable"
    h.note(T0 + 2, ("b", "y"))
    assert h.figures(T0 + 3).level == "manageable"
    for i in range(9):
        h.note(T0 + 10 + i, ("c", "z"))
    f = h.figures(T0 + 60)
    assert f.last_10min == 11 and f.level == "flood"
    assert f.top[0] == ("c", "z", 9) and {t[:2] for t in f.top} == {("c", "z"), ("a", "x"), ("b", "y")}
    later = h.figures(T0 + 11 * 60)  # ten minutes on: the load is gone, the day still remembers
    assert later.last_10min == 0 and later.level == "acceptable"
    assert later.mean_10min_hour == round(11 / 6, 2) and later.total_24h == 11
    assert h.figures(T0 + 86_400 + 120).total_24h == 0 and h.figures(T0 + 86_400 + 120).top == ()


def test_a_flood_beyond_the_memory_forgets_its_oldest(monkeypatch: object) -> None:
    live.MAX_ENTRIES, saved = 100, live.MAX_ENTRIES
    try:
        h = LiveHealth()
        for i in range(250):
            h.note(T0 + i * 0.01, (f"s{i}", "t"))
        f = h.figures(T0 + 3)
        assert f.total_24h == 100 and f.top[0][0] in {f"s{i}" for i in range(150, 250)}
        assert f.last_10min == 250  # the rate still counts every one
    finally:
        live.MAX_ENTRIES = saved


def test_the_figures_cross_the_wire_unchanged() -> None:
    h = LiveHealth()
    for i in range(4):
        h.note(T0 + i, ("br05-rtr", "node_down"))
    f = h.figures(T0 + 5)
    assert decode_health(encode_health(f, seq=3, now=T0 + 5)) == f


def test_the_day_survives_a_restart(tmp_path: Path) -> None:
    from tests.support.wall import write_config
    from wallctl.controller.build import build_core
    from wallctl.core.alarms.event import Event
    from wallctl.core.clock import ManualClock
    from wallctl.core.config.settings import load_config
    from wallctl.core.severity import Severity

    cfg = load_config(write_config(tmp_path))
    clock = ManualClock(T0)
    core = build_core(cfg, clock=clock)
    for i in range(3):
        core.service.ingest(Event(f"br0{i + 1}-rtr", "node_down", Severity.CRITICAL, clock.now(), category="network"))
    assert core.journal is not None
    core.journal.flush()
    core.journal.close()
    clock.advance(600)
    again = build_core(cfg, clock=clock)  # the same journal: the tile still knows today's annunciations
    f = again.service.health.figures(clock.now())
    assert f.total_24h == 3 and {t[0] for t in f.top} == {"br01-rtr", "br02-rtr", "br03-rtr"}
    assert again.journal is not None
    again.journal.close()


def test_the_bad_actors_are_the_most_frequent_as_annunciations_come_and_age_out() -> None:
    """The top list is kept by count buckets (no pass over every key): the same counts as a plain count of the
    day's annunciations, at every step, as they come and as the oldest leave the 24 h window."""
    import random
    from collections import Counter

    rnd = random.Random(7)
    h = LiveHealth(top=4)
    noted: list[tuple[float, tuple[str, str]]] = []
    for i in range(3000):
        t = T0 + i * 60.0  # two days of one annunciation a minute: the first day ages out
        key = (f"s{int(rnd.paretovariate(1.2)) % 40}", "down")
        h.note(t, key)
        noted.append((t, key))
        if i % 97 == 0:
            f = h.figures(t)
            day = Counter(k for when, k in noted if when >= t - live.DAY_S)
            expected = sorted(day.values(), reverse=True)[:4]
            assert [n for _, _, n in f.top] == expected
            assert all(day[(s, ty)] == n for s, ty, n in f.top)
