"""The controller's dispatcher under a very large picture: what it does between the slices of an ``ack_all`` and on
each tick, so that the action answers within a second and no collection of the heap freezes the room."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.incidents.support import ManualLoop
from tests.support.wall import write_config
from wallctl.controller import runtime as runtime_module
from wallctl.controller.build import build_core, inbox_policy
from wallctl.controller.link import Handle
from wallctl.controller.longwork import BULK_INLINE, PENDING
from wallctl.controller.runtime import Runtime
from wallctl.core.alarms.event import Event
from wallctl.core.clock import ManualClock
from wallctl.core.config.settings import load_config
from wallctl.core.severity import Severity
from wallctl.core.wire.commands import Command


def make(tmp_path: Path) -> Runtime:
    config = load_config(write_config(tmp_path))
    clock = ManualClock()
    core = build_core(config, clock=clock, journal_path=str(tmp_path / "journal.sqlite3"))
    for i in range(3 * BULK_INLINE):
        core.service.ingest(Event(f"n{i:05d}", "t", Severity.MAJOR, clock.now()))
    return Runtime(core.service, inbox_policy(config, None), state_prefix="wallctl/test", loop=ManualLoop())


def test_journal_flushes_wait_for_a_running_ack_all_then_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = make(tmp_path)
    s, journal = rt.service, rt.service.journal
    assert journal is not None
    while journal.pending:
        rt.flush()
    assert s.execute(Command("ack_all"), "test") is PENDING
    s.work()  # the first slice: some alarms acknowledged, their rows pending
    assert s.acting and journal.pending > 0
    flushes = journal.flushes
    monkeypatch.setattr(runtime_module, "FLUSH_HOLD_S", 3600.0)
    for _ in range(4):
        rt.on_tick()
    assert journal.flushes == flushes and journal.pending > 0  # put off: the action answers first
    monkeypatch.setattr(runtime_module, "FLUSH_HOLD_S", 0.0)  # held as long as allowed: written anyway
    rt.on_tick()
    rt.on_tick()
    assert s.acting and journal.flushes == flushes + 1
    while s.work():
        pass
    assert not s.acting
    for _ in range(2 * (3 * BULK_INLINE // 5000 + 2)):  # 5,000 rows per flush
        rt.on_tick()
    assert journal.pending == 0


def test_a_tick_collects_the_young_objects_that_piled_up(tmp_path: Path) -> None:
    """Replacing old objects by new ones one for one (re-ranking alarms does) keeps Python's count of new objects
    at zero: without the tick's collection they pile up until one collection takes a third of a second."""
    rt = make(tmp_path)
    gc.collect()
    old = [[i] for i in range(30_000)]  # lists: tracked by the collector
    gc.collect()  # now old
    young = []
    for i in range(len(old)):
        old[i] = None  # type: ignore[call-overload]
        young.append([i])
    assert len(gc.get_objects(0)) > 20_000  # nothing collected them: the count stood still
    rt.on_tick()
    assert len(gc.get_objects(0)) < 5_000
    assert len(young) == 30_000


class RecordingLink:
    """The runtime's link, recording what it publishes and when it was asked to write at once."""

    def __init__(self) -> None:
        self.published: list[tuple[str, str | bytes]] = []
        self.sent_now = 0

    def start(self) -> None: ...

    def stop(self, timeout: float = 1.5) -> None: ...

    def publish(self, topic: str, payload: str | bytes, *, qos: int = 0, retain: bool = False) -> None:
        self.published.append((topic, payload))

    def reply(self, topic: str | None, correlation: bytes | None, payload: str) -> None: ...

    def ack(self, mids: list[tuple[int, int]]) -> None: ...

    def send_now(self) -> None:
        self.sent_now += 1


def running(tmp_path: Path, link: RecordingLink) -> Runtime:
    """A started runtime on the shipped configuration, publishing to ``link``."""
    config = load_config(write_config(tmp_path))
    core = build_core(config, clock=ManualClock(), journal_path=str(tmp_path / "journal.sqlite3"))
    rt = Runtime(core.service, inbox_policy(config, None), state_prefix="wallctl/test", loop=ManualLoop())
    rt.attach(link)
    rt.start()
    return rt


def test_an_event_that_can_change_the_mode_is_decided_and_sent_before_the_burst_ends(tmp_path: Path) -> None:
    """During a flood the link hands over up to 25 ms of events per burst, and rules were evaluated when the burst
    ended, at most every 50 ms: a switching event waited 10-80 ms for its decision. Now the decision and the
    retained state go out while the burst still runs (the test loop never fires the end-of-burst timer)."""
    import json

    from wallctl.controller.link import Inbound

    link = RecordingLink()
    rt = running(tmp_path, link)
    assert rt.service.decision.mode == "normal"
    link.published.clear()
    body = {"source": "br05-rtr", "type": "node_down", "severity": "critical", "category": "network", "id": "x1"}
    rt.on_message(Inbound("noc/events/network/br05-rtr", json.dumps(body).encode(), False, 1, 7, 0.0))
    states = [json.loads(p) for t, p in link.published if t == "wallctl/test/state"]
    assert states and states[-1]["mode"] == "incident"
    assert link.sent_now >= 1


def test_the_views_go_out_with_a_mode_switch_not_up_to_100_ms_later(tmp_path: Path) -> None:
    """Display nodes switch 40 ms after the decision; list rows published at that instant were decoded by one node
    before its paint and by the other after (the skew's outliers). The test loop never fires the 100 ms timer."""
    from wallctl.controller.views import ViewPublisher

    config = load_config(write_config(tmp_path))
    clock = ManualClock()
    core = build_core(config, clock=clock, journal_path=str(tmp_path / "journal.sqlite3"))
    sent: list[str] = []
    views = ViewPublisher(core.service, {}, ManualLoop(), lambda topic, _payload: sent.append(topic))
    assert core.service.decision.mode == "normal"  # the first decision: the first views with it
    sent.clear()
    core.service.ingest(Event("br05-rtr", "node_down", Severity.CRITICAL, clock.now(), category="network"))
    core.service.evaluate(force=True)
    assert core.service.decision.mode == "incident"
    assert any(t.startswith("view/lists/") for t in sent), sent
    views.close()


class DelayLoop(ManualLoop):
    """Records the delay of each timer armed (none fires)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def call_later(self, seconds: float, fn: Callable[[], None]) -> Handle:
        self.delays.append(seconds)
        return super().call_later(seconds, fn)


def test_the_views_are_spaced_by_what_their_flush_costs(tmp_path: Path) -> None:
    """During a flood the lists' rows cost 10-25 ms a flush: ten a second held the controller's reads back. The next
    flush waits ten times what the last one cost (100 ms at least), as the alarms topic does."""
    import json

    from wallctl.controller.views import COST_SHARE, MIN_INTERVAL_S, ViewPublisher

    config = load_config(write_config(tmp_path))
    clock = ManualClock()
    core = build_core(config, clock=clock, journal_path=str(tmp_path / "journal.sqlite3"))
    now = [100.0]
    per_message = [0.0]
    sent: list[tuple[str, dict[str, object]]] = []

    def publish(topic: str, payload: str) -> None:
        now[0] += per_message[0]  # each message takes this long to build and send
        sent.append((topic, json.loads(payload)))

    loop = DelayLoop()
    views = ViewPublisher(core.service, {}, loop, publish, monotonic=lambda: now[0])
    n = 0

    def change_then_wait() -> float:
        nonlocal n
        started = now[0]
        views.flush()
        took = now[0] - started
        loop.delays.clear()
        n += 1
        core.service.ingest(Event(f"n{n}", "t", Severity.MAJOR, clock.now()))  # the next change arms the timer
        assert loop.delays, "a change arms the next flush"
        return loop.delays[0] + took

    assert change_then_wait() == pytest.approx(MIN_INTERVAL_S)  # cheap: ten a second
    per_message[0] = 0.01
    n_sent = len(sent)
    wait = change_then_wait()
    cost = (len(sent) - n_sent) * 0.01
    assert cost > 0.01 and wait == pytest.approx(COST_SHARE * cost)
    _topic, body = sent[-1]
    assert {"seq", "epoch", "time"} <= body.keys() and body["seq"] == views.seq  # spliced in, one encoding
    views.close()


class AckLink(RecordingLink):
    def __init__(self) -> None:
        super().__init__()
        self.acked: list[tuple[int, int]] = []

    def ack(self, mids: list[tuple[int, int]]) -> None:
        self.acked += mids


def test_an_urgent_event_goes_ahead_of_a_backlog_only_where_order_cannot_matter(tmp_path: Path) -> None:
    """Behind a flood the link offers an urgent event read further on: applied at once (the mode decided) unless a
    message before it names its source; its acknowledgement waits for its turn and for the journal's flush."""
    import json

    from wallctl.controller.link import Inbound

    link = AckLink()
    rt = running(tmp_path, link)
    engine, key = rt.service.engine, ("br05-rtr", "node_down")

    def event(severity: str, ident: str, source: str = "br05-rtr") -> Inbound:
        body = {"source": source, "type": "node_down", "severity": severity, "category": "network", "id": ident}
        return Inbound(f"noc/events/network/{source}", json.dumps(body).encode(), False, 1, int(ident[1:]), 0.0)

    never: Callable[[bytes], bool] = lambda _b: False  # noqa: E731
    assert not rt.take_ahead(event("critical", "c1"), lambda b: b == b"br05-rtr")  # named before it: its turn
    assert not rt.take_ahead(event("warning", "c2"), never)  # not urgent
    assert not rt.take_ahead(event("critical", "c3", source="br05/rtr"), never)  # a name JSON may spell as br05\/rtr
    assert engine.get(key) is None and rt.service.decision.mode == "normal"

    assert rt.take_ahead(event("critical", "c4"), never)
    assert rt.service.decision.mode == "incident"
    states = [json.loads(p) for t, p in link.published if t == "wallctl/test/state"]
    assert states[-1]["mode"] == "incident" and link.sent_now >= 1
    rt.on_message(event("warning", "c5", source="sw01"))  # received before it
    rt.reached(4, 1)  # its turn
    assert link.acked == []
    rt.flush()
    assert link.acked == [(5, 1), (4, 1)]

    assert rt.take_ahead(event("cleared", "c6"), never)  # the clear of an active critical alarm is urgent too
    alarm = engine.get(key)
    assert alarm is not None and alarm.severity is Severity.CLEARED
    assert rt.inbox.taken_ahead == 2
