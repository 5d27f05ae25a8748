"""The MQTT link hands the main loop back after a bounded slice of work, however much is waiting on the socket:
a backlog of costly events must not freeze the wall (it once did, for 2 s at a time, with 100,000 alarms)."""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.mosquitto import Mosquitto
from wallctl.adapters.mqtt import READ_BUDGET_S, Inbound, LinkEvent, MqttLink
from wallctl.core.config.settings import MqttConfig, Subscription


class SelectorLoop:
    """LoopHooks on a plain selector loop, counting the events each read callback handled (what the wall does
    with Qt)."""

    def __init__(self, handled: Callable[[], int]) -> None:
        self.handled = handled
        self.sel = selectors.DefaultSelector()
        self.main = threading.get_ident()
        self.soon: list[Callable[[], None]] = []
        self.later: list[tuple[float, Callable[[], None]]] = []
        self.lock = threading.Lock()
        self.per_read: list[int] = []

    def watch(self, sock: Any, on_read: Callable[[], None], on_write: Callable[[], None]) -> None:
        self.sel.register(sock, selectors.EVENT_READ, (on_read, on_write))

    def want_write(self, sock: Any, want: bool) -> None:
        key = self.sel.get_key(sock)
        self.sel.modify(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if want else 0), key.data)

    def unwatch(self, sock: Any) -> None:
        try:
            self.sel.unregister(sock)
        except (KeyError, ValueError):
            pass

    def call_soon(self, fn: Callable[[], None]) -> None:
        with self.lock:
            self.soon.append(fn)

    def call_later(self, seconds: float, fn: Callable[[], None]) -> None:
        self.later.append((time.monotonic() + seconds, fn))

    def is_main_thread(self) -> bool:
        return threading.get_ident() == self.main

    def run_until(self, done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            with self.lock:
                soon, self.soon = self.soon, []
            for fn in soon:
                fn()
            now = time.monotonic()
            due = [f for t, f in self.later if t <= now]
            self.later = [(t, f) for t, f in self.later if t > now]
            for fn in due:  # a read the link called back for itself (bytes already off the socket) counts too
                before = self.handled()
                fn()
                if self.handled() > before:
                    self.per_read.append(self.handled() - before)
            for key, events in self.sel.select(0.01) if self.sel.get_map() else []:
                on_read, on_write = key.data
                if events & selectors.EVENT_WRITE:
                    on_write()
                if events & selectors.EVENT_READ:
                    before = self.handled()
                    on_read()
                    self.per_read.append(self.handled() - before)


def test_a_backlog_is_read_in_bounded_slices_and_nothing_is_lost(mosquitto: Mosquitto) -> None:
    got: list[Inbound] = []
    loop = SelectorLoop(lambda: len(got))
    links: list[LinkEvent] = []
    cost_s = 0.002  # each event costs the handler 2 ms, like a new alarm with its views on a busy wall

    def on_message(msg: Inbound) -> None:
        got.append(msg)
        time.sleep(cost_s)

    cfg = MqttConfig(port=mosquitto.port, subscriptions=(Subscription("budget/#", 1),), client_id="budget-wall")
    link = MqttLink(
        cfg,
        client_id="budget-wall",
        state_prefix="wallctl/budget",
        hooks=loop,
        on_message=on_message,
        on_link=links.append,
    )
    link.start()
    loop.run_until(lambda: link.connected and bool(link.client.socket()), 10)
    loop.run_until(lambda: False, 0.5)  # subscribed
    pub = paho.Client(CallbackAPIVersion.VERSION2, client_id="budget-pub")
    pub.connect("127.0.0.1", mosquitto.port)
    pub.loop_start()
    n = 300  # 0.6 s of work queued on the socket
    infos = [pub.publish(f"budget/{i}", b"{}", qos=0) for i in range(n)]
    for info in infos:
        info.wait_for_publish(5)
    loop.per_read.clear()
    loop.run_until(lambda: len(got) >= n, 20)
    pub.loop_stop()
    pub.disconnect()
    link.stop()
    assert len(got) == n
    # Each event costs at least cost_s (a sleep never returns early), so a slice that stops at the budget has
    # handled at most budget/cost events plus the one read when the deadline passed. Counting events, not
    # timing the slices, keeps the test exact on a loaded machine, where a slow slice only handles fewer.
    most = int(READ_BUDGET_S / cost_s) + 1
    assert max(loop.per_read) <= most, (max(loop.per_read), most)
    assert len([k for k in loop.per_read if k]) >= n // most


def test_the_link_sends_each_packet_at_once(mosquitto: Mosquitto) -> None:
    """Nagle's algorithm off on the link's socket: with it on, a state or a reply written right after another
    message waited for the broker's delayed acknowledgement (the bench saw ~45 ms instead of 2)."""
    loop = SelectorLoop(lambda: 0)
    cfg = MqttConfig(port=mosquitto.port, subscriptions=(), client_id="nodelay-wall")
    link = MqttLink(
        cfg, client_id="nodelay-wall", state_prefix="wallctl/nodelay", hooks=loop, on_message=lambda _m: None,
        on_link=lambda _e: None,
    )  # fmt: skip
    link.start()
    try:
        loop.run_until(lambda: link.connected and bool(link.client.socket()), 10)
        sock = link.client.socket()
        assert sock is not None and sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        link.stop()
