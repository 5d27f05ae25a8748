"""The wall's application model: one object the adapters feed and the views watch.

It wires the alarm engine, the rule engine, the annunciator policy, the feed watches and the journal, executes
operator actions (from hotkeys or MQTT commands) with an audit entry each, and produces the contract's state
and alarm payloads. Pure Python, single-threaded, time injected.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wallctl.controller.history import bulk_rows, change_rows
from wallctl.controller.journal import AuditEntry, Journal, JournalStatus
from wallctl.controller.longwork import BULK_INLINE, JOB_NOTIFY_S, PENDING, Job, Pending, ack_in_slices, catch_up
from wallctl.core.alarms.alarm import Alarm, AlarmState, list_order
from wallctl.core.alarms.dominance import DominatorIndex
from wallctl.core.alarms.engine import (
    AlarmChange,
    AlarmEngine,
    ChangeKind,
    EnginePolicy,
    MaintenanceWindow,
    OperatorError,
)
from wallctl.core.alarms.event import AlarmKey, Event
from wallctl.core.alarms.feeds import FeedWatch, LinkWatch, Watch
from wallctl.core.alarms.match import AlarmMatch, Groups
from wallctl.core.alarms.ranking import Backlog, Ranking
from wallctl.core.alarms.sites import SiteWatch
from wallctl.core.clock import Clock
from wallctl.core.config.sites import Site
from wallctl.core.kpi import KpiBoard, KpiError, KpiSpec, extract_value
from wallctl.core.measures.live import DAY_S, LiveHealth
from wallctl.core.profiles.base import ProfileMaps
from wallctl.core.severity import Severity
from wallctl.core.signal import Signal
from wallctl.core.sound.annunciator import Annunciator, AudioSink
from wallctl.core.sound.soundmap import SoundMap
from wallctl.core.view.diagnostics import Diagnostics, Rejected
from wallctl.core.wall.presets import LayoutSet
from wallctl.core.wall.rules import Decision, RuleEngine
from wallctl.core.wire.commands import Command

log = logging.getLogger("wallctl.service")


@dataclass(frozen=True)
class ServiceParts:
    """What the composition root hands the service; each part is already validated."""

    wall_id: str
    layouts: LayoutSet
    soundmap: SoundMap
    engine_policy: EnginePolicy
    pin_s: float = 900.0
    silence_s: float = 120.0
    shelve_s: float = 3600.0
    link_grace_s: float = 10.0
    watches: tuple[Watch, ...] = ()
    kpis: tuple[KpiSpec, ...] = ()
    maintenance: tuple[MaintenanceWindow, ...] = ()
    dominators: DominatorIndex | None = None
    groups: Groups | None = None
    alarms_topic_max: int = 1000
    sites: tuple[Site, ...] = ()  # branch sites bridged to this broker (wallctl.core.alarms.sites watches them)
    profile_maps: ProfileMaps = field(default_factory=ProfileMaps)  # foreign payloads (wallctl.core.profiles)
    labels: Mapping[str, str] = field(default_factory=dict)  # node id -> the map's name, for spoken sentences


class WallService:
    EVAL_INTERVAL_S = 0.05  # rules re-evaluated at most 20 times a second under load
    TIMER_EVAL_S = 0.25  # and at least 4 times a second for dwell, hold-down and pin timers

    def __init__(self, parts: ServiceParts, *, clock: Clock, sink: AudioSink, journal: Journal | None = None) -> None:
        self.parts = parts
        self.clock = clock
        self.journal = journal
        self.layouts = parts.layouts
        self.engine = AlarmEngine(
            clock, parts.engine_policy, dominators=parts.dominators, groups=parts.groups, maintenance=parts.maintenance
        )
        self.rules = self._make_rules(parts.layouts)
        labels = parts.labels
        self.annunciator = Annunciator(clock, parts.soundmap, sink, self.engine.get, lambda s: labels.get(s, s))
        now = clock.now()
        self.feeds = FeedWatch(list(parts.watches), now)
        self.kpis = KpiBoard(parts.kpis)
        self.health = LiveHealth()  # the alarm-health tile: what was annunciated today (from the journal at start)
        self.link = LinkWatch(parts.link_grace_s, now)
        self.diagnostics = Diagnostics()
        self.link_source = f"wallctl/{parts.wall_id}"
        # signals the views and publishers subscribe to
        self.decision_changed: Signal[[Decision]] = Signal("decision change")
        self.state_changed: Signal[[]] = Signal("state change")
        self.alarm_changed: Signal[[AlarmChange]] = Signal("alarm change (views)")
        self.diagnostics_changed: Signal[[]] = Signal("diagnostics change")
        self.layouts_changed: Signal[[LayoutSet]] = Signal("layouts change")
        # bulk changes wait here to be re-ranked, after the action that made them has answered (:meth:`work`)
        self.backlog = Backlog()
        self.ranking = Ranking(self.engine, list_order, backlog=self.backlog)  # alarms topic, hotkeys, Up/Down
        self.ranking.follow(lambda signal, slot: signal.connect(slot))
        self.engine.changed.connect(self._on_alarm_change)
        self.engine.bulk_changed.connect(self._on_bulk_change)
        self._jobs: deque[Job] = deque()
        self._notified = float("-inf")
        self.engine.flood_changed.connect(self._on_flood)
        self.annunciator.changed.connect(lambda _a: self.state_changed.emit())
        self._decision: Decision | None = None
        self._eval_due = True
        self._last_eval = float("-inf")
        self._last_due_eval = float("-inf")
        self.selected: AlarmKey | None = None
        self._changed = False
        self._reporting = False
        self.audio_device_ok = True
        self.voice_ok = True  # the speech engine's health (wallctl.adapters.speech reports it)
        self.speech_on = False  # a speech engine is attached (not with --no-audio, tools and tests)
        self.commands_open = False  # no command token: anyone on the broker may act (said on the banner)
        self.started = clock.now()  # the state's ``epoch``: a consumer tells a restart from a replay by it
        # hot standby (wallctl.controller.standby): every controller known, by id, and its role or ``offline``
        self.controllers: Callable[[], dict[str, str]] | None = None
        # incidents (wallctl.controller.outreach): the ticket an alarm belongs to, as the alarms topic shows it
        self.incident_of: Callable[[Alarm], dict[str, Any] | None] = lambda _alarm: None
        # and the statuses of the open incidents (lower case), which rules may follow (``incident_status``)
        self.incident_statuses: Callable[[], frozenset[str]] = frozenset
        self.outputs: Callable[[], dict[str, Any]] = dict  # beacons and relays (wallctl.controller.outputs), for state
        self._flood_saved: dict[str, Any] | None = None
        self.engine.anomaly.connect(self._on_anomaly)
        self._restore()
        self.sites = SiteWatch(self.engine, clock, parts.sites)  # after the restore: it reads the restored picture
        self.ranking.rebuild()  # the restore sets the picture without a change per alarm
        if journal is not None:
            journal.status_changed.connect(self._on_journal_status)
            if journal.status is not JournalStatus.OK:
                self._on_journal_status()

    def _make_rules(self, layouts: LayoutSet) -> RuleEngine:
        focus = {name: (m.focus_region.name if m.focus_region else None) for name, m in layouts.modes.items()}
        return RuleEngine(
            layouts.rules,
            layouts.default_mode,
            self.clock,
            self.engine.get,
            groups=self.parts.groups,
            focus_regions=focus,
        )

    # ------------------------------------------------------------------ restore
    def _restore(self) -> None:
        if self.journal is None:
            return
        alarms = self.journal.load_alarms()
        self.engine.restore(alarms, self.journal.load_seen_ids())
        for when, source, type_ in self.journal.annunciated_since(self.clock.now() - DAY_S):
            self.health.note(when, (source, type_))
        flood = self.journal.get_meta("flood")
        if isinstance(flood, dict):
            per_minute = {int(m): int(n) for m, n in dict(flood.get("per_minute") or {}).items()}
            self.engine.restore_flood(bool(flood.get("active")), flood.get("started_at"), per_minute)
        for notice in self.journal.notices:  # a corrupt file moved aside, unreadable rows: said once, acked
            self.diagnostics.device_errors.append(notice)
            self.raise_internal(self.link_source, "journal_recovered", Severity.MAJOR, notice)
        self.rules.rebuild(alarms)
        self.annunciator.rebuild(alarms)
        pin = self.journal.get_meta("pin")
        if pin and pin.get("until", 0) > self.clock.now() and pin.get("mode") in self.layouts.modes:
            self.rules.pin(pin["mode"], pin["until"] - self.clock.now(), pin.get("origin", "journal"))
        silenced = self.journal.get_meta("silenced_until")
        if silenced and silenced > self.clock.now():
            self.annunciator.silence(silenced - self.clock.now())
        if alarms:
            log.info("restored %d alarms from the journal %s", len(alarms), self.journal.path)

    # ------------------------------------------------------------------ ingest
    def ingest(self, event: Event) -> AlarmChange | None:
        self.feeds.seen(event.source, event.topic or None, self.clock.now())
        dropped = self.engine.duplicates_dropped
        change = self.engine.ingest(event)
        if self.engine.duplicates_dropped != dropped:  # nothing changed but the count the state reports
            self.state_changed.emit()
        elif event.id is not None and self.journal is not None:
            self.journal.seen(event.id, event.fingerprint)
        return change

    def reject(self, topic: str, reason: str, detail: str, payload: bytes = b"", *, counted: bool = True) -> None:
        d = self.diagnostics
        if counted:
            d.rejected_by_reason[reason] += 1
        preview = payload[:120].decode("utf-8", "replace")
        d.recent_rejected.append(Rejected(self.clock.now(), topic, reason, detail, preview))
        log.warning("rejected event on %r: %s: %s", topic, reason, detail)
        self.diagnostics_changed.emit()
        self.state_changed.emit()

    def _on_anomaly(self, kind: str, detail: str) -> None:
        """The engine met an event that contradicts what it knows: shown on diagnostics, counted in state."""
        # out of order: not applied, so it counts as rejected; a reused id is applied, so it is only shown
        self.reject("", kind, detail, counted=kind == "out_of_order")

    def _on_journal_status(self) -> None:
        j = self.journal
        assert j is not None
        if j.status is JournalStatus.OK:
            self.raise_internal(self.link_source, "journal_failing", Severity.CLEARED, "journal writing again")
        else:
            what = "nothing is kept across a restart" if j.status is JournalStatus.OFF else "changes are held"
            self.raise_internal(
                self.link_source, "journal_failing", Severity.CRITICAL, f"journal {j.status.value}: {j.reason}; {what}"
            )
            self.report_device_error(f"journal {j.status.value}: {j.reason}")
        self.state_changed.emit()

    def set_audio_device(self, ok: bool, message: str | None = None) -> None:
        """The sink's health, as the adapter reports it: state then says nothing is heard while it fails."""
        if ok != self.audio_device_ok:
            self.audio_device_ok = ok
            self._device_health("audio_device_failed", ok, message, "audio device", "Alarm sound is not working")

    def set_voice(self, ok: bool, message: str | None = None) -> None:
        """The speech engine's health: a failing one is shown and raised like a failing audio device; the tones go
        on without speech."""
        if ok != self.voice_ok:
            self.voice_ok = ok
            self._device_health("voice_failed", ok, message, "speech engine", "Spoken announcements are not working")

    def _device_health(self, type_: str, ok: bool, message: str | None, what: str, failing: str) -> None:
        if ok:
            self.raise_internal(self.link_source, type_, Severity.CLEARED, f"{what} recovered")
        else:
            self.report_device_error(message or f"{what} failed")
            self.raise_internal(self.link_source, type_, Severity.MAJOR, f"{failing}: {message}")
        self.state_changed.emit()

    def kpi_message(self, topic: str, payload: bytes) -> bool:
        """A message on a KPI topic: record it, raise or clear the threshold alarm. False if no KPI has this topic."""
        series = self.kpis.for_topic(topic)
        now = self.clock.now()
        for k in series:
            try:
                value = extract_value(payload, k.spec.field)
            except KpiError as exc:
                self.reject(topic, "bad_kpi", f"KPI {k.spec.name!r}: {exc}", payload)
                continue
            level = k.add(now, value)
            if level is not None:
                s = k.spec
                limits = ", ".join(
                    f"{n.replace('_', ' ')} {v:g}"
                    for n, v in (
                        ("warning_above", s.warning_above),
                        ("critical_above", s.critical_above),
                        ("warning_below", s.warning_below),
                        ("critical_below", s.critical_below),
                    )
                    if v is not None
                )
                text = (
                    f"{s.name} = {value:g}{s.unit} ({limits})"
                    if level is not Severity.CLEARED
                    else (f"{s.name} = {value:g}{s.unit}, back within limits")
                )
                self.raise_internal(s.source or s.name, "kpi_threshold", level, text, s.category)
        return bool(series)

    def report_device_error(self, message: str) -> None:
        self.diagnostics.device_errors.append(message)
        self.diagnostics_changed.emit()

    def report_exception(self, where: str, exc: BaseException) -> None:
        self.diagnostics.exceptions.append(f"{where}: {type(exc).__name__}: {exc}")
        if self._reporting:
            return  # a failing diagnostics view must not report itself forever
        self._reporting = True
        try:
            self.diagnostics_changed.emit()
        finally:
            self._reporting = False

    def raise_internal(self, source: str, type_: str, severity: Severity, text: str, category: str = "system") -> None:
        """An alarm about the wall itself (link down, feed stale, audio device failed)."""
        now = self.clock.now()
        self.engine.ingest(Event(source, type_, severity, now, category=category, text=text, received=now))

    def set_link(self, state: str) -> None:
        if state != self.link.state:
            self.link.set_state(state, self.clock.now())
            self._eval_due = True
            self.state_changed.emit()
            self._check_link()

    def set_layouts(self, layouts: LayoutSet) -> None:
        """A new valid layout set (live reload): the rules restart from the live alarms, the pin stays if it can."""
        pin = self.rules.pinned
        self.layouts = layouts
        self.rules = self._make_rules(layouts)
        self.rules.rebuild(list(self.engine))
        if pin is not None and pin.mode in layouts.modes:
            self.rules.pin(pin.mode, pin.until - self.clock.now(), pin.origin)
        self.diagnostics.config_errors = []
        self._decision = None
        self.layouts_changed.emit(layouts)
        self.diagnostics_changed.emit()
        self.evaluate(force=True)

    def set_config_errors(self, errors: list[str]) -> None:
        self.diagnostics.config_errors = errors
        self.diagnostics_changed.emit()

    # ------------------------------------------------------------------ engine hooks
    def _on_alarm_change(self, change: AlarmChange) -> None:
        alarm = self.engine.get(change.key)
        self.rules.observe(change.key, alarm)
        self.annunciator.on_change(change)
        if change.annunciate:
            self.health.note(self.clock.now(), change.key)
        if self.journal is not None:
            self.journal.mark(change.key, alarm)
            self.journal.record(change_rows(self.clock.now(), change, alarm, self.annunciator.soundmap))
        if change.annunciate and self.rules.pinned is not None and self.rules.break_pin_for(change.severity):
            self.audit("system", None, "pin_broken", {"by": list(change.key), "severity": change.severity.label}, True)
            if self.journal is not None:
                self.journal.set_meta("pin", None)
        self._eval_due = True
        self._changed = True  # state_changed is emitted once per batch, by notify(), not once per event
        if self.alarm_changed:
            self.alarm_changed.emit(change)

    def _on_bulk_change(self, kind: ChangeKind, keys: list[AlarmKey]) -> None:
        get, journal = self.engine.get, self.journal
        if kind is ChangeKind.ACK:
            self.rules.acknowledged(keys)
        else:
            for key in keys:
                self.rules.observe(key, get(key))
        if journal is not None:
            journal.mark_many(keys, get)
            journal.record(bulk_rows(self.clock.now(), kind, keys, get))
        self.annunciator.on_bulk(keys)
        self._eval_due = True
        self._changed = True

    def _on_flood(self, active: bool) -> None:
        self.rules.crossed = True  # flood rules may switch the mode: decided at once
        self.annunciator.on_flood(active)
        self.audit(
            "system",
            None,
            "flood_start" if active else "flood_end",
            {"rate": self.engine.flood.rate(self.clock.now())},
            True,
        )
        self._eval_due = True
        self.state_changed.emit()

    # ------------------------------------------------------------------ timers
    def tick(self) -> None:
        now = self.clock.now()
        self.engine.tick()
        self.annunciator.tick()
        for watch, stale in self.feeds.check(now):
            src = watch.source or f"feed:{watch.topic}"
            if stale:
                self.raise_internal(
                    src,
                    "feed_stale",
                    Severity.MAJOR,
                    f"no message from {watch.name} for over {watch.interval_s:g} s",
                    "monitoring",
                )
            else:
                self.raise_internal(
                    src, "feed_stale", Severity.CLEARED, f"{watch.name} is speaking again", "monitoring"
                )
        self.sites.tick()
        self._check_link()
        pin = self.rules.pinned
        if pin is not None and now >= pin.until:
            self._eval_due = True
        self.evaluate()
        self.notify()

    def _check_link(self) -> None:
        edge = self.link.check(self.clock.now())
        if edge is True:
            self.raise_internal(
                self.link_source,
                "broker_link_down",
                Severity.CRITICAL,
                f"MQTT broker link {self.link.state} for over {self.link.grace_s:g} s: the wall is deaf",
            )
        elif edge is False:
            self.raise_internal(self.link_source, "broker_link_down", Severity.CLEARED, "MQTT broker link restored")

    def notify(self) -> None:
        """Tell the watchers (state publisher, banners, summaries) that alarms changed since the last call.

        Called once per batch of events and on every tick, so a flood of events costs one notification, not one
        per event; views that need each change (the map) subscribe to the engine itself."""
        if not self._changed:
            return
        now = self.clock.now()
        if self._jobs and now - self._notified < JOB_NOTIFY_S:
            return  # during a long action, twice a second: each notification repaints six monitors
        self._changed = False
        self._notified = now
        self.state_changed.emit()

    def evaluate(self, *, force: bool = False, mode_only: bool = False) -> Decision:
        """Re-decide mode and focus if something changed (throttled to EVAL_INTERVAL_S unless forced).
        ``mode_only``: taken only if the mode changes (a decision in the middle of a burst of events: a new focus
        waits for the burst's end, or the displays would re-focus on each intermediate worst alarm)."""
        now = self.clock.now()
        if mode_only and self._decision is not None:
            peek = self.rules.evaluate(
                flood=self.engine.flood.active,
                link_down=self.link.alarmed,
                incidents=self.incident_statuses(),
                commit=False,
            )
            if peek.mode == self._decision.mode:
                return self._decision
            force = True
        if self._decision is not None and not force:
            if not self._eval_due:
                if now - self._last_eval < self.TIMER_EVAL_S:
                    return self._decision
            elif now - self._last_due_eval < self.EVAL_INTERVAL_S:
                return self._decision  # still due: the next tick or batch picks it up
        if self._eval_due:
            # only evaluations that alarms asked for count against the throttle: a change at rest is decided at
            # once, even if the timer evaluation has just run (it used to wait for the next tick, up to 100 ms)
            self._last_due_eval = now
        self._eval_due = False
        self._last_eval = now
        decision = self.rules.evaluate(
            flood=self.engine.flood.active, link_down=self.link.alarmed, incidents=self.incident_statuses()
        )
        old = self._decision
        self._decision = decision
        if old is None or _visible(old) != _visible(decision):
            if old is not None and old.pin is not None and decision.pin is None and self.journal is not None:
                self.journal.set_meta("pin", None)
            self.decision_changed.emit(decision)
            self.state_changed.emit()
        return decision

    @property
    def decision(self) -> Decision:
        return self._decision or self.evaluate(force=True)

    # ------------------------------------------------------------------ operator actions
    def audit(
        self, origin: str, actor: str | None, action: str, args: dict[str, Any], ok: bool, error: str | None = None
    ) -> None:
        entry = AuditEntry(self.clock.now(), origin, actor, action, args, ok, error)
        log.info(
            "audit: %s %s by %s/%s -> %s%s",
            action,
            args,
            origin,
            actor,
            "ok" if ok else "refused",
            f" ({error})" if error else "",
        )
        if self.journal is not None:
            self.journal.audit(entry)

    def execute(
        self,
        cmd: Command,
        origin: str,
        actor: str | None = None,
        on_done: Callable[[str | None], None] | None = None,
    ) -> str | Pending | None:
        """Run one operator action; returns None on success or the error the requester is told. Always audited.

        An action over very many alarms (``ack_all`` of more than BULK_INLINE) returns :data:`PENDING` and runs in
        slices of SLICE_S from :meth:`work`, so the room never freezes; ``on_done`` then gets the outcome."""
        actor = cmd.actor or actor
        if cmd.action == "ack_all":
            keys = self._unacked_keys()
            if len(keys) > BULK_INLINE:
                self._jobs.append(Job(ack_in_slices(self.engine, keys), cmd, origin, actor, on_done))
                return PENDING
        try:
            self._run(cmd, origin)
        except OperatorError as exc:
            self.audit(origin, actor, cmd.action, cmd.args, False, str(exc))
            return str(exc)
        except Exception as exc:  # a bug must cost this command only: it still gets its reply and audit entry
            log.exception("command %s failed", cmd.action)
            self.report_exception(f"command {cmd.action}", exc)
            error = f"internal error: {type(exc).__name__}: {exc}"
            self.audit(origin, actor, cmd.action, cmd.args, False, error)
            return error
        self.audit(origin, actor, cmd.action, cmd.args, True)
        self._changed = True
        self.notify()
        return None

    def _run(self, cmd: Command, origin: str) -> None:
        a, e = cmd.args, self.engine
        match cmd.action:
            case "mode":
                if a["mode"] not in self.layouts.modes:
                    raise OperatorError(f"unknown mode {a['mode']!r}; known: {', '.join(self.layouts.modes)}")
                pin = self.rules.pin(a["mode"], float(a.get("pin_s") or self.parts.pin_s), origin, a.get("focus"))
                if self.journal is not None:
                    self.journal.set_meta("pin", {"mode": pin.mode, "until": pin.until, "origin": origin})
                self.evaluate(force=True)
            case "release":
                if not self.rules.release():
                    raise OperatorError("no mode is pinned")
                if self.journal is not None:
                    self.journal.set_meta("pin", None)
                self.evaluate(force=True)
            case "ack":
                e.ack((a["source"], a["type"]))
            case "ack_all":
                behind = bool(self.backlog)  # a large action's re-ranking still under way is left to its slices
                if not e.ack_many(self._unacked_keys()):
                    raise OperatorError("nothing to acknowledge")
                while not behind and self.backlog.step():  # BULK_INLINE keys at most: the lists in order at once
                    pass
            case "silence":
                until = self.annunciator.silence(float(a["seconds"]))
                if self.journal is not None:
                    self.journal.set_meta("silenced_until", until)
            case "unsilence":
                self.annunciator.unsilence()
                if self.journal is not None:
                    self.journal.set_meta("silenced_until", None)
            case "shelve":
                e.shelve((a["source"], a["type"]), float(a["seconds"]))
            case "unshelve":
                e.unshelve((a["source"], a["type"]))
            case "out_of_service":
                e.set_out_of_service((a["source"], a["type"]), True)
            case "in_service":
                e.set_out_of_service((a["source"], a["type"]), False)
            case "audio_test":
                self.annunciator.self_test()
            case "maintenance":
                now = self.clock.now()
                match = AlarmMatch(
                    sources=tuple(a.get("sources", ())),
                    types=tuple(a.get("types", ())),
                    categories=tuple(a.get("categories", ())),
                    groups=tuple(a.get("groups", ())),
                )
                if match.is_empty:
                    raise OperatorError("a maintenance window needs sources, types, categories or groups")
                e.add_maintenance(MaintenanceWindow(match, now, now + float(a["seconds"]), a.get("reason", "")))
            case _:  # parse_command only lets known actions through
                raise OperatorError(f"unknown action {cmd.action!r}")
        self._eval_due = True

    def _unacked_keys(self) -> list[AlarmKey]:
        """UNACK and RTNUN alarms lead the list order (its first field is False for them): read them off its front."""
        return self.ranking.keys_before((True,))

    @property
    def acting(self) -> bool:
        """An operator action runs in slices (its requester waits for the reply)."""
        return bool(self._jobs)

    @property
    def busy(self) -> bool:
        return bool(self._jobs) or bool(self.backlog)

    def work(self) -> bool:
        """One slice of the oldest long action, else of the lists' re-ranking; True while more remain (the
        caller comes back after the loop has served everything else that waits)."""
        if not self._jobs:
            return catch_up(self.backlog)
        job = self._jobs[0]
        try:
            next(job.steps)
        except StopIteration:
            self._jobs.popleft()
            self.audit(job.origin, job.actor, job.cmd.action, job.cmd.args, True)
            self.notify()
            if job.on_done is not None:
                job.on_done(None)
        return self.busy

    def target_alarm(self) -> Alarm | None:
        """The selected alarm, else the top unacknowledged row of the list (what a bare hotkey acts on)."""
        if self.selected is not None:
            alarm = self.engine.get(self.selected)
            if alarm is not None:
                return alarm
        top = self.ranking.first(1)
        return top[0] if top and top[0].state in (AlarmState.UNACK, AlarmState.RTNUN) else None

    # ------------------------------------------------------------------ payloads
    def flush_journal(self) -> bool:
        """Commit what is pending; True when everything so far is durable (messages may then be acknowledged).

        With the journal off (an unwritable folder) nothing can become durable: the wall acknowledges anyway and
        says so (banner, state, alarm), since holding acknowledgements would soon stop the broker sending it."""
        j = self.journal
        if j is None:
            return True
        flood = self.engine.flood.snapshot(self.clock.now())
        if flood != self._flood_saved:
            self._flood_saved = flood
            j.set_meta("flood", flood)
        j.flush()
        return j.pending == 0 or j.status is JournalStatus.OFF

    def reserved_seq(self, name: str) -> int:
        """The first ``seq`` this run may use for ``name``: above any a previous run can have published."""
        value = self.journal.get_meta(f"{name}_seq_reserved") if self.journal is not None else None
        return int(value) if isinstance(value, int) else 0

    def reserve_seq(self, name: str, upto: int) -> None:
        if self.journal is not None:
            self.journal.set_meta(f"{name}_seq_reserved", upto)

    def on_error(self) -> Callable[[str, BaseException], None]:
        return self.report_exception


def _visible(d: Decision) -> tuple[Any, ...]:
    return (d.mode, d.focus_region, d.focus_target, d.reason, d.rules_choice, d.pin)
