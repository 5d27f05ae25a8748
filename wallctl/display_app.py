"""A display node's composition root: it follows the controller over MQTT and draws the monitors of its node.

No engine, journal or rules of its own, and no file of the wall's configuration beyond the broker settings and
``wall_id``: the layouts, topologies and settings come from the controller's retained ``view/setup``, the picture
from ``state`` and ``view/...`` (see :mod:`wallctl.core.wire.mirror`). Its hotkeys become commands to the
controller, with the token and ``origin: display/<node>``. Its presence is retained on ``displays/<node>`` (the
last will says offline). A mode switch is applied at the instant the controller stamps (``mode_since`` plus a short
lead), so every node switches in step.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from wallctl.adapters.mqtt import MqttLink, read_retained
from wallctl.controller.build import override_broker
from wallctl.controller.link import Inbound, LinkEvent, LoopHooks
from wallctl.core.clock import SystemClock
from wallctl.core.config.settings import LoadedConfig, TokenMissing, load_config
from wallctl.core.files.yamldoc import ConfigError
from wallctl.core.wall.hotkeys import mode_hotkeys
from wallctl.core.wall.presets import LayoutSet
from wallctl.core.wall.switching import SWITCH_LEAD_S, switch_plan
from wallctl.core.wire.keys import NodeKeys
from wallctl.core.wire.mirror import MirrorMap, WallMirror
from wallctl.core.wire.pacing import ViewPacer
from wallctl.core.wire.setup_files import materialize, topology_digest
from wallctl.core.wire.strict import dumps_strict
from wallctl.core.wire.view import Setup, decode_setup

log = logging.getLogger("wallctl.display")
LOST_AFTER_S = 1.0  # hot standby: the wall's status "offline" this long is CONTROLLER LOST (the contract: 3 s)
PRESENCE_EVERY_S = 10.0
SETUP_WAIT_S = 600.0


@dataclass
class DisplayOptions:
    config: Path
    node: str = "main"
    broker: str | None = None
    windowed: bool = False
    screenshot: Path | None = None
    duration_s: float | None = None
    protocol: str | None = None


class DisplayApp:
    def __init__(self, opts: DisplayOptions) -> None:
        self.opts = opts
        self.node = opts.node
        self.config: LoadedConfig = load_config(opts.config)
        override_broker(self.config, opts.broker, opts.protocol)
        self.prefix = self.config.state_prefix
        try:
            self.token = self.config.command_token()
        except TokenMissing as exc:  # the display still shows the wall; its hotkeys cannot act
            log.warning("hotkeys disabled on this display node: %s", exc)
            self.token = None
            self.hotkeys_disabled = True
        else:
            self.hotkeys_disabled = False
        self._stopping = False
        self._presence_sent = ""
        self._painted: tuple[str, int, float] = ("", 0, 0.0)  # mode, state seq, when its first frame showed
        self._pending_decision = False
        self._pacer: ViewPacer[bytes | dict[str, Any]] = ViewPacer()  # views (raw) and states (read) that wait

    # ---------------------------------------------------------------- start-up
    def fetch_setup(self) -> Setup:
        """Wait for the controller's setup (retained): a display may start before its controller."""
        cfg = self.config
        deadline = time.monotonic() + SETUP_WAIT_S
        while time.monotonic() < deadline:
            raw = read_retained(
                cfg.model.mqtt,
                f"{self.prefix}/view/setup",
                client_id=f"{cfg.client_id}-display-{self.node}-setup-{uuid.uuid4().hex[:6]}",
                password=cfg.password(),
                timeout_s=5.0,
            )
            if raw is not None:
                return decode_setup(json.loads(raw))
            log.warning("waiting for the controller's setup on %s/view/setup", self.prefix)
        raise SystemExit(f"wallctl display: no setup from the controller on {self.prefix}/view/setup")

    def run(self) -> int:
        setup = self.fetch_setup()
        cache = Path(tempfile.mkdtemp(prefix=f"wallctl-display-{self.node}-"))
        layouts, topologies = materialize(setup, cache)
        self.maps_digest = topology_digest(setup)
        if self.node not in layouts.wall.nodes():
            print(  # noqa: T201 - the user must see this
                f"wallctl display: node {self.node!r} drives no monitor of this wall "
                f"(layouts/wall.yaml names: {', '.join(layouts.wall.nodes())})",
                file=sys.stderr,
            )
            return 2

        from PySide6.QtCore import Qt, QTimer
        from PySide6.QtWidgets import QApplication

        from wallctl.qt import theme
        from wallctl.qt.keys_overlay import key_bindings
        from wallctl.qt.loop import QtLoop
        from wallctl.qt.platform import choose_platform, prepare_qt_environment
        from wallctl.qt.scene import TileFactory, WallScene
        from wallctl.qt.screens import QtScreens
        from wallctl.qt.shots import render_scene
        from wallctl.qt.wall import WallWindows

        prepare_qt_environment()
        msg = choose_platform(layouts.wall, self.node)
        app = QApplication.instance() or QApplication(sys.argv[:1])
        assert isinstance(app, QApplication)
        app.setApplicationName(f"wallctl display {self.node}")
        theme.apply_colors(setup.severity_colors)
        mirror = WallMirror(SystemClock(), layouts, tuple(setup.kpis), setup.flood, maps=["estate", *topologies.keys()])
        self.mirror = mirror
        factory = TileFactory(mirror, topologies, cache / "layouts")
        scene = WallScene(mirror, factory, layouts)
        keys = mode_hotkeys(layouts.modes.values(), setup.reserved_hotkeys)
        factory.bindings = key_bindings(self.config.model.operator.hotkeys, keys, layouts)
        mirror.layouts_changed.connect(scene.set_layouts)
        hotkeys = self.hotkey_actions(layouts, setup.reserved_hotkeys, scene)
        windows = WallWindows(scene, mirror, QtScreens(), windowed=self.opts.windowed, hotkeys=hotkeys, node=self.node)
        windows.remap()
        windows.painted_hook = self._on_painted
        windows.paint_cost_hook = self._pacer.note_paint
        windows.expect_paint("startup")
        self.scene, self.windows = scene, windows
        loop = QtLoop()
        self._switch = QTimer()
        self._switch.setSingleShot(True)
        self._switch.setTimerType(Qt.TimerType.PreciseTimer)  # a coarse timer may fire 5 % off
        self._switch.timeout.connect(self._apply_decision)
        self._hold = QTimer()
        self._hold.setSingleShot(True)
        self._hold.setTimerType(Qt.TimerType.PreciseTimer)
        self._hold.timeout.connect(windows.hold_paints)
        self._presence_timer = QTimer()
        self._presence_timer.setSingleShot(True)
        self._presence_timer.timeout.connect(self._publish_presence)
        self._lost = QTimer()
        self._lost.setSingleShot(True)
        self._lost.timeout.connect(self._controller_lost)
        self._paced = QTimer()
        self._paced.setSingleShot(True)
        self._paced.timeout.connect(self._apply_paced)
        self.link = self.make_link(loop)
        self.link.start()
        every = QTimer()
        every.timeout.connect(self._publish_presence)
        every.start(int(PRESENCE_EVERY_S * 1000))
        self._every = every
        if msg:
            log.warning("%s", msg)
        shot = self.opts.screenshot
        if shot is not None:
            rects = [
                scene.geometry.monitor_rect(r, c)
                for r, c in scene.geometry.monitors()
                if layouts.wall.node_of(r, c) == self.node
            ]
            x0, y0 = min(r.x for r in rects), min(r.y for r in rects)
            area = _qrect(x0, y0, max(r.right for r in rects) - x0, max(r.bottom for r in rects) - y0)

            def save() -> None:  # this node's monitors only; renamed into place, never seen half-written
                tmp = shot.with_suffix(".tmp.png")
                render_scene(scene, 0.5, area).save(str(tmp))
                tmp.replace(shot)

            shot_timer = QTimer()
            shot_timer.timeout.connect(save)
            shot_timer.start(1000)
            self._shot_timer = shot_timer
        self._install_signals(app)
        if self.opts.duration_s:
            QTimer.singleShot(int(self.opts.duration_s * 1000), self.quit)
        log.info(
            "display node %s of wall %s: %d monitor view(s)", self.node, self.config.model.wall_id, len(windows.views)
        )
        code = app.exec()
        self.shutdown()
        return int(code)

    def make_link(self, loop: LoopHooks) -> MqttLink:
        """This node's broker link: the wall's state, status and views in; presence and commands out."""
        cfg, prefix = self.config, self.prefix
        return MqttLink(
            cfg.model.mqtt,
            client_id=f"{cfg.client_id}-display-{self.node}",
            state_prefix=prefix,
            hooks=loop,
            on_message=self._on_message,
            on_link=self._on_link,
            password=cfg.password(),
            subscriptions=((f"{prefix}/state", 0), (f"{prefix}/status", 0), (f"{prefix}/view/#", 0)),
            presence=(
                f"{prefix}/displays/{self.node}",
                self._presence("online"),
                dumps_strict({"node": self.node, "status": "offline", "time": None}),
            ),
            persistent=False,
        )

    # ---------------------------------------------------------------- the wire in (main thread)
    def _on_link(self, event: LinkEvent) -> None:
        log.log(
            logging.INFO if event.state != "disconnected" else logging.WARNING,
            "broker %s %s",
            event.state,
            event.detail,
        )
        if event.state == "disconnected":  # deaf: the picture may be old
            self.mirror.set_controller(False)

    def _on_message(self, msg: Inbound) -> None:
        tail = msg.topic[len(self.prefix) + 1 :]
        if tail == "status":
            if msg.payload.strip() == b"online":
                self._lost.stop()
                self.mirror.set_controller(True)
                self._presence_soon()
            elif not (self.mirror.state or {}).get("controllers"):
                self._controller_lost()  # the wall's only controller: its will
            elif not self._lost.isActive():
                # hot standby: a controller that dies says "offline" through its will and the active one (or the
                # one taking over) says "online" again at once; a second's patience before calling it lost
                self._lost.start(int(LOST_AFTER_S * 1000))
            return
        if tail.startswith("view/") and tail != "view/setup":
            self._pace(tail, msg.payload)  # read when its batch is due, if no newer one came meanwhile
            return
        body = self._read(tail, msg.payload)
        if body is None:
            return
        if tail == "view/setup":
            self._guarded(tail, lambda: self._on_setup(body))
        elif tail == "state":
            other = self.mirror.state is None or self._guarded(tail, lambda: self.mirror.decides_otherwise(body))
            if other is False:
                self._pace(tail, body)  # the same decision: new counts and facts, drawn with the next batch
                return
            self._apply_paced()  # what waited comes first (the state before this one among it)
            self._guarded(tail, lambda: self._apply_state(body))

    def _read(self, tail: str, payload: bytes) -> dict[str, Any] | None:
        try:
            body = json.loads(payload)
        except ValueError:
            log.warning("not JSON on %s/%s: ignored", self.prefix, tail)
            return None
        return body if isinstance(body, dict) else None

    def _guarded(self, tail: str, fn: Callable[[], object]) -> object:
        """A message this node cannot read costs itself only: not the rest of its batch, nor the switch that
        applies the batch first."""
        try:
            return fn()
        except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a body of the wrong shape
            log.warning("cannot read %s/%s: %s", self.prefix, tail, exc)
        except Exception:
            log.exception("cannot apply %s/%s", self.prefix, tail)
        return None

    def _apply_state(self, body: dict[str, Any]) -> None:
        first = self.mirror.state is None
        if self.mirror.apply_state(body) or first:
            self._schedule_decision(immediately=first)

    def _pace(self, tail: str, item: bytes | dict[str, Any]) -> None:
        due = self._pacer.offer(tail, item)
        if due <= 0:
            self._apply_paced()
        elif not self._paced.isActive():
            self._paced.start(max(1, round(due * 1000)))

    def _apply_paced(self) -> None:
        """The views and states that waited for their batch: the latest of each, in the order they first came."""
        self._paced.stop()
        for tail, item in self._pacer.take():
            body = self._read(tail, item) if isinstance(item, bytes) else item
            if body is not None:
                self._guarded(tail, partial(self._apply_one, tail, body))

    def _apply_one(self, tail: str, body: dict[str, Any]) -> None:
        if tail == "state":
            self._apply_state(body)
        else:
            self.mirror.apply_view(tail[len("view/") :], body)

    def _controller_lost(self) -> None:
        self.mirror.set_controller(False)
        self._presence_soon()

    def _on_setup(self, body: dict[str, Any]) -> None:
        """A designer's saved edit, or a controller restarted with other files: the new layouts and maps, read with
        the same pipeline. A map never stays stale: new topology files rebuild the map tiles."""
        setup = decode_setup(body)
        directory = Path(tempfile.mkdtemp(prefix=f"wallctl-display-{self.node}-"))
        try:
            layouts, topologies = materialize(setup, directory)
        except ConfigError as exc:
            log.error("the controller's setup does not load here: %s", exc)
            return
        maps = topology_digest(setup)
        if layouts == self.mirror.layouts and maps == self.maps_digest:
            return
        self.scene.factory.layouts_dir = directory / "layouts"
        if layouts != self.mirror.layouts:
            self.mirror.set_layouts(layouts)
        if maps != self.maps_digest:
            log.info("new topology from the controller: the maps are drawn again")
            for name in topologies:
                self.mirror.maps.setdefault(name, MirrorMap())
            self.scene.set_topologies(topologies)
            self.maps_digest = maps  # said in the presence once the maps are drawn from it
        self._schedule_decision(immediately=True)
        self._presence_soon()

    def _schedule_decision(self, *, immediately: bool = False) -> None:
        """Apply the controller's decision at the instant it stamped (plus the lead), the same on every node."""
        state = self.mirror.state or {}
        at = float(state.get("mode_since") or 0.0) + SWITCH_LEAD_S
        mode = self.mirror.decision.mode
        delay, hold_in = switch_plan(at, time.time(), immediately=immediately)
        self._switch.start(round(delay * 1000))
        self._hold.stop()
        self.windows.release_paints()
        if hold_in is not None and mode != self.scene.mode:
            self._hold.start(round(hold_in * 1000))  # a mode switch (a new focus repaints only what it moves)

    def _apply_decision(self) -> None:
        self._hold.stop()
        try:
            self._apply_paced()  # what waits shows in the switch's frame, not in a second one after it
        finally:
            self.mirror.decision_changed.emit(self.mirror.decision)
            self.windows.release_paints()  # the switch and whatever waited, in one frame
            self._presence_soon()

    # ---------------------------------------------------------------- presence
    def _on_painted(self, info: dict[str, object]) -> None:
        if os.environ.get("WALLCTL_BENCH"):  # benchmarks: when a new mode showed on every monitor of the node
            self.link.publish(f"{self.prefix}/bench/painted", json.dumps({**info, "node": self.node}), qos=0)
        state = self.mirror.state or {}
        self._painted = (str(info.get("mode")), int(state.get("seq") or 0), float(str(info.get("painted_at"))))
        self._presence_soon()

    def _presence(self, status: str) -> str:
        mode, seq, painted_at = self._painted
        missing = []
        windows = getattr(self, "windows", None)
        if windows is not None and windows.mapping is not None:
            missing = [f"{r},{c}" for r, c in windows.mapping.missing]
        return dumps_strict(
            {
                "node": self.node,
                "status": status,
                "mode": mode or None,
                "state_seq": seq,
                "screens": len(windows.views) if windows is not None else 0,
                "missing_screens": missing,
                "controller": "ok"
                if getattr(self, "mirror", None) is not None and self.mirror.controller_online
                else "lost",
                "painted_at": round(painted_at, 3) if painted_at else None,
                "maps": getattr(self, "maps_digest", None),  # extension: which topology files this node draws
                "time": round(time.time(), 3),
            }
        )

    def _presence_soon(self) -> None:
        if not self._presence_timer.isActive():
            self._presence_timer.start(50)

    def _publish_presence(self) -> None:
        self.link.publish(f"{self.prefix}/displays/{self.node}", self._presence("online"), qos=1, retain=True)

    # ---------------------------------------------------------------- hotkeys: commands to the controller
    def hotkey_actions(self, layouts: LayoutSet, reserved: dict[str, str], scene: Any) -> dict[str, Callable[[], None]]:
        from wallctl.qt.overlay import toggle_diagnostics

        def send(payload: str) -> None:
            if self.hotkeys_disabled:
                log.warning("hotkey ignored: this display node has no command token")
            else:
                self.link.publish(f"{self.prefix}/cmd", payload, qos=1)

        keys = NodeKeys(self.mirror, self.node, send, SystemClock(), token=self.token, actor=os.environ.get("USER"))
        ops = self.config.model.operator
        local = {"diagnostics": lambda: _ignore(toggle_diagnostics(scene)), "quit": self.quit}
        return keys.actions(layouts, reserved, silence_s=ops.silence_s, shelve_s=ops.shelve_s, local=local)

    # ---------------------------------------------------------------- shutdown
    def _install_signals(self, app: Any) -> None:
        from PySide6.QtCore import QSocketNotifier

        r, w = os.pipe()
        os.set_blocking(w, False)
        signal.set_wakeup_fd(w)
        notifier = QSocketNotifier(r, QSocketNotifier.Type.Read, app)
        notifier.activated.connect(lambda *_: os.read(r, 64))
        self._signal_notifier = notifier
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.quit())

    def quit(self) -> None:
        from PySide6.QtWidgets import QApplication

        if not self._stopping:
            self._stopping = True
            QApplication.quit()

    def shutdown(self) -> None:
        self.link.publish(f"{self.prefix}/displays/{self.node}", self._presence("offline"), qos=1, retain=True)
        self.link.stop()  # publishes the offline presence (the will's payload) too
        self.windows.close()
        self.scene.dispose()


def _ignore(_shown: bool) -> None:
    pass


def _qrect(x: float, y: float, w: float, h: float) -> Any:
    from PySide6.QtCore import QRectF

    return QRectF(x, y, w, h)
