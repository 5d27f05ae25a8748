"""Property-based fuzzing of the whole ingest path (issue 15, item 5): ``Inbox.handle`` on a real core with a real
SQLite journal, fed random bytes, random JSON trees written as raw text (deep, huge numbers, NaN literals, lone
surrogates), otherwise valid events with random unicode in any field, random topics, KPI samples and commands.

Invariants: nothing escapes ``handle`` and nothing fails inside it (no ``internal_error``); every event message is
counted exactly once as applied, duplicate or rejected, every KPI message as a sample or a rejection; every live
command gets exactly one strict-JSON reply and one audit entry; the journal stays writable; a second core on the same
journal file holds exactly the first one's picture. Inputs the properties found breaking an invariant are tests of
their own at the end, each with the exact input.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.wall import write_config
from wallctl.controller.build import build_core, inbox_policy
from wallctl.controller.inbox import Inbox, InboxPolicy
from wallctl.controller.journal import Journal, JournalStatus
from wallctl.controller.payloads import alarms_payload, state_payload
from wallctl.controller.service import ServiceParts, WallService
from wallctl.core.clock import ManualClock
from wallctl.core.config.settings import LoadedConfig, load_config
from wallctl.core.severity import SEVERITY_NAMES
from wallctl.core.sound.annunciator import NullSink
from wallctl.core.wire.commands import ACTIONS, COMMON, OPTIONAL

TOKEN = "s3cret"
SOURCES = ("br01-rtr", "dc1-core-1", "x")
TYPES = ("node_down", "link_down", "link_up")  # link_up clears link_down (write_config correlates them)
CATEGORIES = ("network", "system", "environment", "security")
KPI_TOPICS = ("noc/kpi/dc1/cold_aisle_temp", "noc/kpi/payments/tps")  # the shipped KPIs, which write_config adds
NOW = "@now"  # in a generated payload: the wall's clock when the message is delivered
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------- the core under test
@dataclass(repr=False)  # a falsifying example prints its arguments: not the whole estate
class Built:
    config: LoadedConfig
    parts: ServiceParts
    policy: InboxPolicy


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One real core from the repository's files; each example gets a fresh journal and service from its parts
    (``build_core`` re-reads every layout, the topology and the sound map: 0.1 s, too slow per example)."""
    config = load_config(write_config(tmp_path_factory.mktemp("fuzz")))
    core = build_core(config, clock=ManualClock())
    assert core.journal is not None
    core.journal.close()
    return Built(config, core.service.parts, inbox_policy(config, TOKEN))


class Wall:
    """A core wired as ``build_core`` wires it (journal, service) with the runtime's inbox, on its own journal."""

    def __init__(self, built: Built, path: Path, clock: ManualClock) -> None:
        self.clock = clock
        self.journal = Journal(path, retention_days=built.config.model.journal_retention_days)
        self.service = WallService(built.parts, clock=clock, sink=NullSink(), journal=self.journal)
        self.inbox = Inbox(self.service, built.policy)
        self.cmd_topic = built.policy.cmd_topic
        self.closed = False

    def handle(self, topic: str, payload: bytes, *, retained: bool = False, queued: bool = False) -> str | None:
        payload = payload.replace(f'"{NOW}"'.encode(), repr(self.clock.now()).encode())
        return self.inbox.handle(topic, payload, received=self.clock.now(), retained=retained, queued=queued)

    def event_count(self) -> int:
        """Event messages accounted for: applied (and not out of order), dropped as redeliveries, or rejected."""
        e = self.service.engine
        return e.events_applied - e.out_of_order + e.duplicates_dropped + self.service.diagnostics.rejected_total

    def kpi_count(self) -> int:
        s = self.service
        return sum(len(k.points) for k in s.kpis.series.values()) + s.diagnostics.rejected_total

    def failures(self) -> int:
        """Exceptions inside the handler: caught and counted, but each one is a bug the fuzzing found."""
        d = self.service.diagnostics
        return len(d.exceptions) + d.rejected_by_reason["internal_error"]

    def audit_count(self) -> int:
        return len(self.journal.audit_log(limit=10**9))

    def flush(self) -> None:
        self.service.flush_journal()
        assert self.journal.status is JournalStatus.OK, self.journal.reason
        assert self.journal.pending == 0

    def published_are_strict(self) -> None:
        assert self.journal.dropped_rows == 0
        strict_json(json.dumps(state_payload(self.service, 1), allow_nan=False))
        strict_json(json.dumps(alarms_payload(self.service, 1), allow_nan=False))

    def picture(self) -> dict[str, Any]:
        s = self.service
        pin = s.rules.pinned
        return {
            "alarms": {a.key: (a.state, a.severity, a.peak, a.count, a.shelved_until) for a in s.engine},
            "seen_ids": set(s.engine.seen_ids()),
            "pin": (pin.mode, pin.until) if pin else None,
            "silenced_until": s.annunciator.audible.silenced_until,
        }

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.journal.close()


@contextmanager
def walls(built: Built) -> Iterator[Callable[..., Wall]]:
    """Makes walls in a folder of their own, all closed at the end (per hypothesis example, not per test)."""
    opened: list[Wall] = []
    with tempfile.TemporaryDirectory() as folder:

        def make(path: Path | None = None, clock: ManualClock | None = None) -> Wall:
            wall = Wall(built, path or Path(folder) / f"journal-{len(opened)}.sqlite3", clock or ManualClock())
            opened.append(wall)
            return wall

        try:
            yield make
        finally:
            for wall in opened:
                wall.close()


def strict_json(text: str) -> Any:
    """Parse as RFC 8259 does: a bare NaN or Infinity fails."""

    def refuse(token: str) -> Any:
        raise AssertionError(f"not strict JSON: {token} in {text[:200]}")

    return json.loads(text, parse_constant=refuse)


def restart_matches(wall: Wall, make: Callable[..., Wall]) -> None:
    """Close the journal and build a second core on the same file: it must hold exactly the first one's picture."""
    wall.flush()
    before = wall.picture()
    wall.close()
    again = make(wall.journal.path, ManualClock(wall.clock.now()))
    assert again.picture() == before
    assert again.journal.notices == []


# ---------------------------------------------------------------------------------------------- messages
@dataclass(frozen=True)
class Message:
    kind: str  # event, kpi, cmd, or tick (time passes, as the runtime's timer sees it)
    topic: str = ""
    payload: bytes = b""
    retained: bool = False
    queued: bool = False  # a command queued by the broker while the wall was offline
    must_apply: bool = False  # a valid event without id or time: nothing may refuse it
    seconds: int = 0


def deliver(wall: Wall, m: Message) -> None:
    """Hand one message to the inbox and check it is accounted exactly once, with nothing failing inside."""
    if m.kind == "tick":
        wall.clock.advance(m.seconds)
        wall.service.tick()
        wall.flush()
        return
    if m.kind == "cmd":
        deliver_command(wall, m)
        return
    count = wall.kpi_count if m.kind == "kpi" else wall.event_count
    before, applied, failures = count(), wall.service.engine.events_applied, wall.failures()
    assert wall.handle(m.topic, m.payload, retained=m.retained) is None
    assert count() == before + 1, f"{m.kind} message counted {count() - before} times: {m}"
    assert wall.failures() == failures, list(wall.service.diagnostics.exceptions)
    if m.must_apply:
        assert wall.service.engine.events_applied == applied + 1, f"a valid event was not applied: {m}"


def deliver_command(wall: Wall, m: Message) -> None:
    wall.flush()
    audits, failures = wall.audit_count(), wall.failures()
    reply = wall.handle(wall.cmd_topic, m.payload, retained=m.retained, queued=m.queued)
    assert wall.failures() == failures, list(wall.service.diagnostics.exceptions)
    assert isinstance(reply, str), f"no reply to {m}"
    answer = strict_json(reply)
    assert set(answer) == {"request_id", "ok", "error"} and isinstance(answer["ok"], bool), reply
    assert (answer["error"] is None) == answer["ok"], reply
    if m.queued or m.retained:  # history, not a request: refused, never executed
        assert not answer["ok"] and answer["error"].startswith("stale"), reply
    wall.flush()
    assert wall.audit_count() == audits + 1, f"{wall.audit_count() - audits} audit entries for {m}"


# ---------------------------------------------------------------------------------------------- strategies
def weighted(**choices: int) -> st.SearchStrategy[str]:
    return st.sampled_from([name for name, weight in choices.items() for _ in range(weight)])


def obj(fields: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{k}:{v}" for k, v in fields) + "}"


# Strings as raw JSON text: json.dumps escapes lone surrogates (\ud800) and control characters; the raw forms add
# unpaired escapes, NUL, and control characters JSON forbids unescaped.
any_char = st.one_of(st.characters(), st.characters(categories=["Cs"]), st.characters(categories=["Cc", "Cf", "Zl"]))
any_text = st.lists(any_char, max_size=40).map("".join)  # st.text() would drop the lone surrogates
json_string = st.one_of(
    any_text.map(json.dumps),
    any_text.filter(lambda s: '"' not in s and "\\" not in s).map(lambda s: f'"{s}"'),
    st.sampled_from(['"\\ud800"', '"a\\udfffb"', '"\\udc00\\ud800"', '"\\u0000"', '"\\u001b[31m"', '"\\uD83D\\uDE00"']),
    st.text(min_size=900, max_size=1300, alphabet="ab\t\n").map(json.dumps),  # around the field length caps
)
json_number = st.one_of(
    st.integers().map(str),
    st.floats(allow_nan=False).map(repr),
    st.integers(19, 6000).map(lambda n: "9" * n),  # above 64 bits, up to past Python's 4,300-digit limit
    st.sampled_from(["NaN", "-Infinity", "Infinity", "1e400", "-1e400", "1e-400", "-0", "0.0", "1E2", "01", "+1", "."]),
)
json_leaf = st.one_of(st.sampled_from(["null", "true", "false"]), json_number, json_string)
json_tree = st.recursive(
    json_leaf,
    lambda kids: st.one_of(
        st.lists(kids, max_size=5).map(lambda xs: "[" + ",".join(xs) + "]"),
        st.lists(st.tuples(json_string, kids), max_size=5).map(obj),
    ),
    max_leaves=25,
)
deep_tree = st.builds(
    lambda n, braces: ('{"a":' * n + "1" + "}" * n) if braces else ("[" * n + "]" * n),
    st.integers(1, 5000),
    st.booleans(),
)
fuzz_value = st.one_of(json_tree, deep_tree)


def encoded(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate written raw: not UTF-8


EVENT_FIELDS: dict[str, st.SearchStrategy[str]] = {
    "source": st.sampled_from(SOURCES).map(json.dumps),
    "type": st.sampled_from(TYPES).map(json.dumps),
    "severity": st.sampled_from([*SEVERITY_NAMES, " Major ", "CRITICAL"]).map(json.dumps),
    "category": st.sampled_from(CATEGORIES).map(json.dumps),
    "id": st.sampled_from(['"e1"', '"e2"', '"e3"', "7"]),  # few, so redeliveries and reused ids happen
    "time": st.sampled_from(
        [f'"{NOW}"', "1800000000", "1799990000", '"2027-01-15T08:00:00Z"', '"2027-01-15T09:00+01:00"']
    ),
    "text": st.text(max_size=60).map(json.dumps),
    "attributes": st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=3).map(json.dumps),
}
REQUIRED = ("source", "type", "severity", "category")  # all given: the topic's levels fill in nothing


@st.composite
def event_payload(draw: st.DrawFn, *, fuzz: bool = True, stamped: bool = True) -> tuple[bytes, bool]:
    """An event whose fields are each valid, absent or (with ``fuzz``) fuzzed, maybe with a stray field, and with
    ``stamped`` maybe an id and a time; True when it must be applied (nothing invalid, no id, no time)."""
    fields: list[tuple[str, str]] = []
    must_apply = True
    for name, valid in EVENT_FIELDS.items():
        if name in REQUIRED:
            how = draw(weighted(valid=8, absent=1, fuzz=1)) if fuzz else "valid"
        elif name in ("id", "time") and not stamped:
            how = "absent"
        else:
            how = draw(weighted(valid=5, absent=4, fuzz=1) if fuzz else weighted(valid=1, absent=1))
        if how != "absent":
            fields.append((json.dumps(name), draw(valid) if how == "valid" else draw(fuzz_value)))
        wanted = ("valid",) if name in REQUIRED else ("absent",) if name in ("id", "time") else ("valid", "absent")
        must_apply = must_apply and how in wanted
    if fuzz and draw(weighted(no=4, yes=1)) == "yes":
        fields.append((draw(json_string), draw(fuzz_value)))
        must_apply = False
    return encoded(obj(draw(st.permutations(fields)))), must_apply


level = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="/"), max_size=12)
event_topic = st.one_of(
    st.tuples(st.sampled_from(CATEGORIES), st.sampled_from(SOURCES)).map(lambda cs: f"noc/events/{cs[0]}/{cs[1]}"),
    st.lists(level, min_size=1, max_size=4).map(lambda ls: "noc/events/" + "/".join(ls)),
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=30),  # paho hands only valid UTF-8 topics
)


def events(payloads: st.SearchStrategy[tuple[bytes, bool]]) -> st.SearchStrategy[Message]:
    return st.builds(
        lambda t, p, r: Message("event", t, p[0], r, must_apply=p[1]), event_topic, payloads, st.booleans()
    )


event_message = st.one_of(
    events(event_payload(fuzz=False, stamped=False)),  # must be applied
    events(event_payload(fuzz=False)),  # with ids and times: redeliveries, reused ids, out of order
    events(event_payload()),  # any field fuzzed
    st.builds(lambda t, p, r: Message("event", t, p, r), event_topic, st.binary(max_size=200), st.booleans()),
    st.builds(lambda t, p, r: Message("event", t, encoded(p), r), event_topic, fuzz_value, st.booleans()),
)
kpi_message = st.builds(
    lambda topic, payload: Message("kpi", topic, encoded(payload)),
    st.sampled_from(KPI_TOPICS),
    st.one_of(
        st.sampled_from(["25", "31", " 12.5\n", '{"value": 30}', '{"value": 500}', "", "abc"]),
        json_number,
        json_number.map(lambda v: '{"value": ' + v + "}"),
        json_tree,
        deep_tree,
    ),
)

COMMAND_FIELDS: dict[str, st.SearchStrategy[str]] = {  # valid values
    "mode": st.sampled_from(["normal", "incident", "flood"]).map(json.dumps),
    "source": st.sampled_from(SOURCES).map(json.dumps),
    "type": st.sampled_from(TYPES).map(json.dumps),
    "seconds": st.sampled_from(["60", "600.5", "3600", "86400", "1e-3"]),
    "pin_s": st.sampled_from(["60", "3600"]),
    "focus": st.sampled_from(["br07", "dc1", "nowhere"]).map(json.dumps),
    "sources": st.lists(st.sampled_from(SOURCES), max_size=2).map(json.dumps),
    "types": st.lists(st.sampled_from(TYPES), max_size=2).map(json.dumps),
    "categories": st.lists(st.sampled_from(CATEGORIES), max_size=2).map(json.dumps),
    "groups": st.lists(st.sampled_from(["br01", "dc1"]), max_size=2).map(json.dumps),
    "reason": st.text(max_size=20).map(json.dumps),
    "request_id": st.one_of(st.text(max_size=10).map(json.dumps), st.integers().map(str)),
    "actor": st.text(max_size=10).map(json.dumps),
    "origin": st.sampled_from(["display/top", "display/main", "desk 3"]).map(json.dumps),
    "token": st.just(json.dumps(TOKEN)),
    "time": st.just(f'"{NOW}"'),
}
BAD_FIELDS: dict[str, st.SearchStrategy[str]] = {  # wrong in a way a sender could get wrong
    "mode": st.just('"nope"'),
    "seconds": st.sampled_from(["0", "-5", "86401", "NaN", "1e308", "9" * 400, "Infinity", '"60"', "true"]),
    "pin_s": st.sampled_from(["0", "604801", "Infinity", "-1"]),
    "token": st.sampled_from(['"wrong"', '"s3cret\\ud800"', '""', "null"]),
    "time": st.sampled_from(["1799990000", '"2027-01-15T08:00:00Z"', '"yesterday"', "true", "1e400"]),
    "origin": st.sampled_from(['"bell\\u0007"', "5", json.dumps("x" * 101), "null"]),
}
# the actions that change what a restart must restore come up more often
GOOD_ACTIONS = [*sorted(ACTIONS), "silence", "silence", "mode", "mode", "shelve", "shelve", "ack", "ack"]


@st.composite
def command_payload(draw: st.DrawFn, *, fuzz: bool = True) -> bytes:
    """A command with its action's fields, optional and common fields at random, all valid; with ``fuzz``, any
    field may be wrong, fuzzed or missing, the action unknown, and a stray field added."""
    action = draw(st.sampled_from([*sorted(ACTIONS) * 3, "reboot"] if fuzz else GOOD_ACTIONS))
    names = list(ACTIONS.get(action, {}))
    names += [n for n in OPTIONAL.get(action, {}) if draw(st.booleans())]
    names += [n for n in sorted(COMMON - {"action", "token"}) if draw(weighted(no=3, yes=1)) == "yes"]
    fields = [
        ('"action"', json.dumps(action) if not fuzz or draw(weighted(valid=19, fuzz=1)) == "valid" else draw(json_leaf))
    ]
    for name in ["token", *names]:
        how = draw(weighted(valid=8, bad=2, fuzz=1, absent=1)) if fuzz else "valid"
        if how != "absent":
            wanted = {"valid": COMMAND_FIELDS[name], "bad": BAD_FIELDS.get(name, fuzz_value), "fuzz": fuzz_value}
            fields.append((json.dumps(name), draw(wanted[how])))
    if fuzz and draw(weighted(no=4, yes=1)) == "yes":
        fields.append((draw(json_string), draw(json_leaf)))
    return encoded(obj(draw(st.permutations(fields))))


rarely = weighted(no=9, yes=1).map(lambda w: w == "yes")
command_message = st.one_of(
    st.builds(lambda p, r, q: Message("cmd", "", p, r, q), command_payload(fuzz=False), rarely, rarely),
    st.builds(lambda p, r, q: Message("cmd", "", p, r, q), command_payload(), rarely, rarely),
    st.builds(lambda p: Message("cmd", payload=p), st.one_of(st.binary(max_size=100), fuzz_value.map(encoded))),
)
tick = st.builds(lambda s: Message("tick", seconds=s), st.integers(0, 400))


# ---------------------------------------------------------------------------------------------- properties
@FUZZ
@given(messages=st.lists(st.one_of(event_message, event_message, kpi_message), max_size=25))
def test_every_event_and_kpi_message_is_accounted_once_and_a_restart_restores_the_picture(
    built: Built, messages: list[Message]
) -> None:
    with walls(built) as make:
        wall = make()
        for m in messages:
            deliver(wall, m)
        wall.published_are_strict()
        restart_matches(wall, make)


@FUZZ
@given(messages=st.lists(st.one_of(command_message, command_message, event_message, tick), max_size=20))
def test_every_command_gets_one_strict_reply_and_one_audit_entry_and_a_restart_restores_the_picture(
    built: Built, messages: list[Message]
) -> None:
    with walls(built) as make:
        wall = make()
        for m in messages:
            deliver(wall, m)
        wall.published_are_strict()
        restart_matches(wall, make)


@settings(max_examples=50, deadline=None)
@given(payload=command_payload())
def test_a_retained_command_is_never_executed(built: Built, payload: bytes) -> None:
    with walls(built) as make:
        wall = make()
        before = wall.picture()
        reply = wall.handle(wall.cmd_topic, payload, retained=True)
        assert reply is not None and not strict_json(reply)["ok"]  # refused, with its one reply
        assert wall.picture() == before


def test_the_invariants_see_real_work(built: Built) -> None:
    """The properties pass vacuously if their accounting or picture is blind: each must see what happened here."""
    down = b'{"source": "br01-rtr", "type": "node_down", "severity": "critical", "category": "network", "id": "e1"}'
    old_clear = down.replace(b'"critical", "category": "network", "id": "e1"', b'"cleared", "time": 1799990000')
    link = b'{"source": "x", "type": "link_down", "severity": "major", "category": "network"}'

    def command(**fields: Any) -> Message:
        return Message("cmd", payload=json.dumps({**fields, "token": TOKEN}).encode())

    with walls(built) as make:
        wall = make()
        deliver(wall, command(action="silence", seconds=60))
        deliver(wall, Message("event", "noc/events/network/br01-rtr", down))
        deliver(wall, Message("event", "noc/events/network/br01-rtr", down))  # a redelivery
        deliver(wall, Message("event", "noc/events/network/br01-rtr", old_clear))  # older than the raise
        deliver(wall, Message("event", "noc/events/network/x", link))
        deliver(wall, Message("event", "noc/events/x", b"[" * 3000 + b"]" * 3000))
        deliver(wall, Message("kpi", KPI_TOPICS[0], b"31"))  # above critical_above: an alarm
        deliver(wall, Message("kpi", KPI_TOPICS[1], b'{"value": "many"}'))
        deliver(wall, command(action="ack", source="br01-rtr", type="node_down"))
        deliver(wall, command(action="shelve", source="x", type="link_down", seconds=600))
        deliver(wall, command(action="mode", mode="briefing", pin_s=300))
        e, rejected = wall.service.engine, wall.service.diagnostics.rejected_by_reason
        assert (e.events_applied, e.duplicates_dropped, e.out_of_order) == (4, 1, 1)
        assert (rejected["not_json"], rejected["bad_kpi"], rejected["out_of_order"]) == (1, 1, 1)
        picture = wall.picture()
        assert picture["alarms"][("br01-rtr", "node_down")][0].value == "ACKED"
        assert picture["alarms"][("x", "link_down")][4] == wall.clock.now() + 600
        assert ("dc1-temp-1", "kpi_threshold") in picture["alarms"]
        assert picture["silenced_until"] == wall.clock.now() + 60 and picture["seen_ids"] == {"e1"}
        assert picture["pin"] == ("briefing", wall.clock.now() + 300)
        assert [a.action for a in wall.journal.audit_log()] == ["silence", "ack", "shelve", "mode"]
        restart_matches(wall, make)


# ------------------------------------------------------------------------ found by the properties above, now fixed
def test_a_retained_command_gets_a_reply_and_an_audit_entry(built: Built) -> None:
    with walls(built) as make:
        wall = make()
        reply = wall.handle(wall.cmd_topic, json.dumps({"action": "ack_all", "token": TOKEN}).encode(), retained=True)
        wall.flush()
        assert reply is not None and not strict_json(reply)["ok"]
        assert wall.audit_count() == 1


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        pytest.param(KPI_TOPICS[1], b"[" * 2000 + b"]" * 2000, id="nested-2000-RecursionError"),
        pytest.param(KPI_TOPICS[1], b'{"value": ' + b"9" * 5000 + b"}", id="5000-digits-ValueError"),
        pytest.param(KPI_TOPICS[1], b'{"value": ' + b"9" * 400 + b"}", id="400-digits-OverflowError"),
        pytest.param(KPI_TOPICS[1], b'{"value": NaN}', id="NaN-literal"),
        pytest.param(KPI_TOPICS[1], b'{"value": -Infinity}', id="Infinity-literal"),
        pytest.param(KPI_TOPICS[0], b"nan", id="bare-nan"),
        pytest.param(KPI_TOPICS[0], b"inf", id="bare-inf"),
        pytest.param(KPI_TOPICS[0], b"9" * 400, id="bare-400-digits-is-inf"),
    ],
)
def test_a_kpi_message_is_a_finite_sample_or_a_bad_kpi_rejection(built: Built, topic: str, payload: bytes) -> None:
    with walls(built) as make:
        wall = make()
        wall.handle(topic, payload)
        samples = [v for k in wall.service.kpis.series.values() for _, v in k.points]
        assert wall.failures() == 0
        assert all(math.isfinite(v) for v in samples)
        assert len(samples) + wall.service.diagnostics.rejected_by_reason["bad_kpi"] == 1


def test_closing_a_journal_twice_keeps_its_alarms(built: Built) -> None:
    down = b'{"source": "br01-rtr", "type": "node_down", "severity": "critical", "category": "network"}'
    with walls(built) as make:
        wall = make()
        deliver(wall, Message("event", "noc/events/network/br01-rtr", down))
        wall.flush()
        wall.journal.close()
        wall.journal.close()
        wall.closed = True
        assert [a.key for a in make(wall.journal.path).service.engine] == [("br01-rtr", "node_down")]
