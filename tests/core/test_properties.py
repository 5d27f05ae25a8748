"""Property-based: random event and operator sequences never break the engine's bookkeeping, and the journal
always reproduces the live picture."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wallctl.controller.journal import Journal
from wallctl.core.alarms.alarm import ACTIVE_STATES, STANDING_STATES, AlarmState
from wallctl.core.alarms.engine import AlarmEngine, OperatorError
from wallctl.core.alarms.event import Event
from wallctl.core.clock import ManualClock
from wallctl.core.severity import Severity

SOURCES = ["a", "b", "c"]
TYPES = ["down", "cpu"]
step = st.one_of(
    st.tuples(
        st.just("event"),
        st.sampled_from(SOURCES),
        st.sampled_from(TYPES),
        st.sampled_from(list(Severity)),
        st.booleans(),
    ),
    st.tuples(st.just("ack"), st.sampled_from(SOURCES), st.sampled_from(TYPES)),
    st.tuples(st.just("shelve"), st.sampled_from(SOURCES), st.sampled_from(TYPES), st.integers(1, 300)),
    st.tuples(st.just("unshelve"), st.sampled_from(SOURCES), st.sampled_from(TYPES)),
    st.tuples(st.just("oos"), st.sampled_from(SOURCES), st.sampled_from(TYPES), st.booleans()),
    st.tuples(st.just("wait"), st.integers(1, 120)),
)


def recount(engine: AlarmEngine) -> tuple[int, int, int, int, dict[str, int], Severity | None]:
    states = Counter(a.state for a in engine)
    by_sev = Counter(a.severity.label for a in engine if a.state in ACTIVE_STATES)
    standing = [a.severity for a in engine if a.state in STANDING_STATES]
    return (
        sum(states[s] for s in ACTIVE_STATES),
        states[AlarmState.UNACK] + states[AlarmState.RTNUN],
        states[AlarmState.SHLVD],
        states[AlarmState.DSUPR] + states[AlarmState.OOSRV],
        dict(sorted(by_sev.items(), key=lambda kv: -Severity.parse(kv[0]))),
        max(standing, default=None),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=60))
def test_bookkeeping_and_journal_replay(steps: list[tuple]) -> None:  # type: ignore[type-arg]
    clock = ManualClock()
    with tempfile.TemporaryDirectory() as d:
        journal = Journal(Path(d) / "j.sqlite3")
        engine = AlarmEngine(clock)
        engine.changed.connect(lambda c: journal.mark(c.key, engine.get(c.key)))
        for s in steps:
            kind = s[0]
            try:
                if kind == "event":
                    _, src, typ, sev, retained = s
                    engine.ingest(Event(src, typ, sev, clock.now(), retained=retained))
                elif kind == "ack":
                    engine.ack((s[1], s[2]))
                elif kind == "shelve":
                    engine.shelve((s[1], s[2]), s[3])
                elif kind == "unshelve":
                    engine.unshelve((s[1], s[2]))
                elif kind == "oos":
                    engine.set_out_of_service((s[1], s[2]), s[3])
                else:
                    clock.advance(s[1])
                    engine.tick()
            except OperatorError:
                pass  # refused actions change nothing
            c = engine.counts()
            assert all(n >= 0 for n in (c.active, c.unacked, c.shelved, c.suppressed, *c.by_severity.values()))
            assert (c.active, c.unacked, c.shelved, c.suppressed, c.by_severity, c.highest) == recount(engine)
            assert all(a.state is not AlarmState.NORM for a in engine)  # normal alarms leave the table
        journal.flush()
        restored = AlarmEngine(clock)
        restored.restore(journal.load_alarms())
        journal.close()
        live = {a.key: (a.state, a.severity, a.count, a.cause, a.shelved_until) for a in engine}
        back = {a.key: (a.state, a.severity, a.count, a.cause, a.shelved_until) for a in restored}
        assert back == live
        assert restored.counts() == engine.counts()
