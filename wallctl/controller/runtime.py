"""The dispatcher: inbound messages to the core, timers, journal flushes, acknowledgements, publication.

Qt-free: it runs on whichever loop the process has (:class:`~wallctl.controller.link.LoopHooks`), asyncio in the
headless controller, Qt in the single-process wall.

- Messages are handled as the link reads them; a zero-delay timer closes each burst (rules re-evaluated, watchers
  notified once per burst, not once per message).
- A 50 ms tick runs the core's timers, flushes the journal and only then acknowledges the QoS 1 messages whose
  effect the flush committed.
- State is published within 50 ms of a change, coalesced to at most 20 per second; the alarm list at most 2 per
  second. Both retained.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable

from wallctl.controller.inbox import Inbox, InboxPolicy
from wallctl.controller.link import Inbound, Link, LinkEvent, LoopHooks, Timer
from wallctl.controller.payloads import alarms_payload, state_payload
from wallctl.controller.service import WallService
from wallctl.core.wire.strict import dumps_strict

log = logging.getLogger("wallctl.runtime")

TICK_S = 0.05
STATE_MIN_INTERVAL_S = 0.05
ALARMS_MIN_INTERVAL_S = 0.5
GC_FREEZE_TICKS = 1200  # every minute
FLUSH_HOLD_S = 1.0  # journal flushes put off at most this long while an operator action runs in slices
SEQ_BLOCK = 1000  # seq numbers reserved in the journal ahead of use: never reused after a kill -9


def settle_heap() -> None:
    """Collect the young generations, then freeze what survives out of the cycle collector's sight.

    With 200,000 alarms the heap holds a million tracked objects, and a full collection of them (which Python
    starts by itself when enough new objects have piled up) froze the wall for 600-900 ms. Alarms and their
    records are long-lived and acyclic: once they have survived a minute there is nothing for the collector to
    find in them. Cycles that die after being frozen are not freed; the memory benchmark watches for that."""
    gc.collect(1)
    gc.freeze()


def collect_young() -> None:
    """Collect the youngest generation now, while it is small. Python starts that collection when allocations
    outnumber deallocations by 700; re-ranking 200,000 alarms frees an old tuple for each new one, so the count
    stood still while 750,000 new objects piled up, and the collection that finally came took 335 ms. Called
    every tick (20 a second), it costs a few milliseconds at most."""
    gc.collect(0)


def tame_collector() -> None:
    """No automatic full collections: Python starts one when a quarter of the heap is new since the last, which
    with 200,000 alarms came right after an ingest and froze the wall for 500 ms. The young generations are still
    collected as usual, and :func:`settle_heap` freezes their survivors every minute."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000)


class Runtime:
    def __init__(self, service: WallService, inbox: InboxPolicy, *, state_prefix: str, loop: LoopHooks) -> None:
        self.service = service
        self.inbox = Inbox(service, inbox)
        self.link: Link | None = None
        self.loop = loop
        self.prefix = state_prefix
        self.cmd_topic = inbox.cmd_topic
        self._pending_acks: list[tuple[int, int]] = []
        self.state_seq = service.reserved_seq("state")
        self.alarms_seq = service.reserved_seq("alarms")
        self._reserved = {"state": self.state_seq, "alarms": self.alarms_seq}
        self._last_state = 0.0
        self._last_alarms = 0.0
        self._state_timer = Timer(loop, self.publish_state)
        self._alarms_timer = Timer(loop, self.publish_alarms)
        self._alarms_dirty = True
        self._alarms_cost_s = 0.0
        self.stalls = 0
        self._last_tick = time.monotonic()
        self.max_late = 0.0  # the longest the tick was late since the last report: a main-loop stall
        self.on_loop_report: Callable[[float], None] | None = None
        self._ticks = 0
        self._flushed_at = time.monotonic()  # the tick's last journal flush (one is put off FLUSH_HOLD_S at most)
        self.batches = 0
        service.state_changed.connect(self._state_dirty)
        service.state_changed.connect(self._mark_alarms)
        service.decision_changed.connect(self._decided)
        self._tick = Timer(loop, self.on_tick)
        self._work = Timer(loop, self._do_work)
        self._burst = Timer(loop, self.end_burst)
        self._state_after_burst = False
        self.running = False

    def attach(self, link: Link) -> None:
        self.link = link

    def start(self) -> None:
        self._reserve("state", self.state_seq)
        self._reserve("alarms", self.alarms_seq)
        self.service.flush_journal()  # the reservation is durable before the first publication
        self.running = True
        self._last_tick = time.monotonic()
        self._tick.start(TICK_S)
        if self.link is not None:
            self.link.start()
        self._state_dirty()
        self._mark_alarms()

    # ---------------------------------------------------------------- inbound (main thread)
    def on_link(self, item: LinkEvent) -> None:
        level = logging.INFO if item.state in ("connected", "connecting") else logging.WARNING
        log.log(level, "broker link %s %s", item.state, item.detail)
        self.service.set_link(item.state)

    def on_message(self, msg: Inbound) -> None:
        if msg.qos > 0:  # acknowledged after the next durable flush, whatever its handling did
            self._pending_acks.append((msg.mid, msg.qos))
        if not self._burst.active:
            self._burst.start(0)  # runs when this burst of reads is over (armed first: see _state_dirty)
        self._handle(msg)

    def take_ahead(self, msg: Inbound, earlier: Callable[[bytes], bool]) -> bool:
        """An urgent event read ahead of a backlog, applied now if the inbox finds its order cannot matter (see
        :meth:`Inbox.take_ahead`). Its acknowledgement waits for :meth:`reached`: after those of the messages
        received before it, and after the flush that commits its effect."""
        if not self.inbox.take_ahead(msg.topic, msg.payload, received=msg.received, earlier=earlier):
            return False
        if not self._burst.active:
            self._burst.start(0)
        try:
            self._decide_if_crossed()
        except Exception:  # applied already: it must not be handled again in its turn
            log.exception("Exception after an event taken ahead of its turn on %r", msg.topic)
        return True

    def reached(self, mid: int, qos: int) -> None:
        """The turn of a message taken ahead: its acknowledgement joins the others, in the order they came."""
        if qos > 0:
            self._pending_acks.append((mid, qos))

    def end_burst(self) -> None:
        self.batches += 1
        self.service.evaluate()
        self.service.notify()
        if self._state_after_burst:  # asked for during the burst: published now, with the burst's decision
            self._state_after_burst = False
            self._state_dirty()

    def _handle(self, msg: Inbound) -> None:
        def publish(reply: str) -> None:
            if self.link is not None:
                self.link.publish(f"{self.cmd_topic}/result", reply, qos=1)
                if msg.response_topic:
                    self.link.reply(msg.response_topic, msg.correlation, reply)

        reply = self.inbox.handle(
            msg.topic, msg.payload, received=msg.received, retained=msg.retained, queued=msg.queued, late_reply=publish
        )
        if reply is not None:
            publish(reply)
        self._decide_if_crossed()

    def _decide_if_crossed(self) -> None:
        if self.service.rules.take_crossed():
            # a rule's match count crossed its threshold: the mode may change, decided now, not after the rest of
            # the burst and the 50 ms throttle (during a 10,000/s flood those held a switch back 10-80 ms)
            self.service.evaluate(mode_only=True)
        self.kick()

    def kick(self) -> None:
        """Start the slices of a long action that a message or a hotkey queued."""
        if self.service.busy and not self._work.active:
            self._work.start(0)

    def _do_work(self) -> None:
        """One slice of a long action, then back to the loop: messages and paints go between slices."""
        if self.service.work():
            self._work.start(0)

    # ---------------------------------------------------------------- timers
    def on_tick(self) -> None:
        if self.running:
            self._tick.start(TICK_S)
        now = time.monotonic()
        late = now - self._last_tick - TICK_S
        self._last_tick = now
        if late > 0.5:  # the main loop was blocked: say so, a wall must never hang silently
            log.warning("main loop stalled for %.2f s", late)
            self.stalls += 1
        self.max_late = max(self.max_late, late)
        self.kick()
        self.service.tick()
        collect_young()
        self._ticks += 1
        if self._ticks % GC_FREEZE_TICKS == 0:
            settle_heap()
        if self.on_loop_report is not None and self._ticks % 20 == 0:  # each second (benchmarks)
            self.on_loop_report(self.max_late)
            self.max_late = 0.0
        if self._ticks % 2 == 0:  # every 100 ms: under load each alarm row is then written once for many events
            if self.service.acting and now - self._flushed_at < FLUSH_HOLD_S:
                return  # an operator action is running in slices: it answers first, its rows are written next
            self._flushed_at = now
            self.flush()

    def flush(self) -> None:
        """Commit the journal, then acknowledge what the commit made durable (nothing while it fails)."""
        if not self.service.flush_journal():
            return  # held: acknowledged after the flush that finally commits them
        acks, self._pending_acks = self._pending_acks, []
        if self.link is not None and acks:
            self.link.ack(acks)

    # ---------------------------------------------------------------- publishing
    def _state_dirty(self) -> None:
        if self._burst.active:
            # a message is being handled (the horn changed, say): its rules are evaluated when the burst ends, and
            # a state published before would show the old mode, holding the new one back by the 50 ms coalescing
            self._state_after_burst = True
            return
        if self._state_timer.active:
            return
        wait = max(0.0, self._last_state + STATE_MIN_INTERVAL_S - time.monotonic())
        self._state_timer.start(wait)

    def _decided(self, _decision: object) -> None:
        """A new mode or focus is published at once, not after the 50 ms that coalesce other changes: every display
        node switches on it (mode switches are rare: rules have dwell and hold-down times)."""
        if self.running:
            self._state_timer.stop()
            self._state_after_burst = False
            self.publish_state()
            if self.link is not None:
                self.link.send_now()  # not after the rest of a burst of reads: the displays switch on it

    def _mark_alarms(self) -> None:
        self._alarms_dirty = True
        if self._alarms_timer.active:
            return
        # the list costs O(alarms) to build: at 100,000 alarms it is spaced to a tenth of the main loop
        interval = max(ALARMS_MIN_INTERVAL_S, 10 * self._alarms_cost_s)
        wait = max(0.0, self._last_alarms + interval - time.monotonic())
        self._alarms_timer.start(wait)

    def _reserve(self, name: str, seq: int) -> None:
        if seq >= self._reserved[name]:
            self._reserved[name] = seq + SEQ_BLOCK
            self.service.reserve_seq(name, self._reserved[name])

    def publish_state(self) -> None:
        self._last_state = time.monotonic()
        self.state_seq += 1
        self._reserve("state", self.state_seq)
        payload = state_payload(self.service, self.state_seq)
        if self.link is not None:
            self.link.publish(f"{self.prefix}/state", dumps_strict(payload), qos=1, retain=True)

    def publish_alarms(self) -> None:
        self._last_alarms = time.monotonic()
        self._alarms_dirty = False
        self.alarms_seq += 1
        self._reserve("alarms", self.alarms_seq)
        if self.link is not None:
            t0 = time.perf_counter()
            payload = alarms_payload(self.service, self.alarms_seq)
            self.link.publish(f"{self.prefix}/alarms", dumps_strict(payload), qos=1, retain=True)
            self._alarms_cost_s = time.perf_counter() - t0

    def stop(self) -> None:
        self.running = False
        for timer in (self._tick, self._work, self._burst, self._state_timer, self._alarms_timer):
            timer.stop()
        self.flush()
        if self.link is not None:
            self.publish_state()
            self.link.stop()
