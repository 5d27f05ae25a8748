"""The single-process wall's composition root: the one place that wires its core, adapters and views.

Nothing happens at import time; :func:`wallctl.controller.build.build_core` makes everything that needs no Qt,
:class:`WallApp` adds the screens, the broker link and the Qt main loop.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wallctl.adapters.speech import Speaker
from wallctl.controller.build import (
    Core,
    build_core,
    install_excepthooks,
    override_broker,
    reserved_hotkeys,
    warn_if_commands_open,
)
from wallctl.core.config.settings import load_config
from wallctl.core.sound.annunciator import AudioSink
from wallctl.core.wall.hotkeys import mode_hotkeys, normalize_hotkey
from wallctl.wiring import wire_controller

log = logging.getLogger("wallctl.app")


def build_wall(
    core: Core, screens: Any, *, windowed: bool = False, hotkeys: dict[str, Callable[[], None]] | None = None
) -> tuple[Any, Any]:
    """The wall's scene and its monitor windows over a built core (needs a QApplication)."""
    from wallctl.qt.wall import WallWindows

    scene = build_scene(core)
    windows = WallWindows(scene, scene.source, screens, windowed=windowed, hotkeys=hotkeys)
    windows.remap()
    scene.apply(core.service.evaluate(force=True))
    return scene, windows


def build_scene(core: Core) -> Any:
    """The wall scene (every tile of every mode, built once) over a built core; follows layout reloads."""
    from wallctl.controller.local_view import LocalView
    from wallctl.qt import theme
    from wallctl.qt.keys_overlay import key_bindings
    from wallctl.qt.scene import TileFactory, WallScene

    theme.apply_colors(core.config.model.theme.severity_colors)
    service, cfg = core.service, core.config
    topologies = dict(core.extra_topologies)
    if core.topology is not None:
        topologies[""] = core.topology
    source = LocalView(service, topologies)  # the views see the service only through what a display node gets
    scene = WallScene(source, TileFactory(source, topologies, cfg.resolve(cfg.model.layouts)), core.layouts)
    keys = mode_hotkeys(core.layouts.modes.values(), reserved_hotkeys(cfg))  # as hotkey_actions binds them
    scene.factory.bindings = key_bindings(cfg.model.operator.hotkeys, keys, core.layouts)
    service.layouts_changed.connect(scene.set_layouts)
    return scene


def hotkey_actions(
    core: Core, *, on_quit: Callable[[], None], on_diagnostics: Callable[[], None]
) -> dict[str, Callable[[], None]]:
    """Normalised key -> action, for the operator hotkeys of the config and the modes' hotkeys."""
    from wallctl.core.wire.commands import Command

    s = core.service
    ops = core.config.model.operator
    reserved = reserved_hotkeys(core.config)
    actor = os.environ.get("USER")

    def run(action: str, **args: Any) -> Callable[[], None]:
        def go() -> None:
            s.execute(Command(action, args), "hotkey", actor)
            s.evaluate(force=True)

        return go

    def on_target(action: str, **extra: Any) -> Callable[[], None]:
        def go() -> None:
            alarm = s.target_alarm()
            if alarm is None:
                s.audit("hotkey", actor, action, {}, False, "no alarm to act on")
                return
            s.execute(Command(action, {"source": alarm.source, "type": alarm.type, **extra}), "hotkey", actor)
            s.evaluate(force=True)

        return go

    def move(step: int) -> Callable[[], None]:
        def go() -> None:
            s.selected = s.ranking.step(s.selected, step)
            s.state_changed.emit()

        return go

    def pin() -> None:
        s.execute(Command("mode", {"mode": s.decision.mode}), "hotkey", actor)
        s.evaluate(force=True)

    actions: dict[str, Callable[[], None]] = {
        "ack": on_target("ack"),
        "ack_all": run("ack_all"),
        "silence": run("silence", seconds=ops.silence_s),
        "shelve": on_target("shelve", seconds=ops.shelve_s),
        "pin": pin,
        "release": run("release"),
        "diagnostics": on_diagnostics,
        "audio_test": run("audio_test"),
        "next_alarm": move(1),
        "previous_alarm": move(-1),
        "quit": on_quit,
    }
    out = {normalize_hotkey(reserved[name]): fn for name, fn in actions.items()}
    for mode, key in mode_hotkeys(core.layouts.modes.values(), reserved).items():
        out[key] = run("mode", mode=mode)
    return out


@dataclass
class RunOptions:
    config: Path
    broker: str | None = None
    windowed: bool = False
    audio: bool = True
    screenshot: Path | None = None
    screenshot_every_s: float = 0.0
    duration_s: float | None = None
    offscreen_message: str | None = None
    journal: Path | None = None
    protocol: str | None = None  # override the configured MQTT version (the embedded broker speaks 3.1.1 only)
    on_ready: Callable[[WallApp], None] | None = None


class WallApp:
    def __init__(self, opts: RunOptions) -> None:
        self.opts = opts
        self.config = load_config(opts.config)
        override_broker(self.config, opts.broker, opts.protocol)
        self.token = self.config.command_token()  # TokenMissing before anything opens: a usage error
        from wallctl.adapters.outputs.start import check_outputs_credentials

        check_outputs_credentials(self.config)  # a beacon's password variable not set: file:line:col
        self._early: list[Callable[[], None]] = []
        from wallctl.adapters.audio import open_sink

        self.sink: AudioSink = open_sink(self.config.model.audio, opts.audio, self._audio_failed, self._audio_recovered)
        self.speaker: Speaker | None = None  # spoken announcements, when the sound map has a voice
        self.core = build_core(self.config, sink=self.sink, journal_path=str(opts.journal) if opts.journal else None)
        self.service = self.core.service
        self._stopping = False
        warn_if_commands_open(self.token, self.service)

    # ---------------------------------------------------------------- audio device health (any thread)
    def _audio_failed(self, message: str) -> None:
        self._on_main(lambda: self.service.set_audio_device(False, message))

    def _audio_recovered(self) -> None:
        self._on_main(lambda: self.service.set_audio_device(True))

    def _on_main(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the main thread (the sink reports from its device thread)."""
        runtime = getattr(self, "runtime", None)
        if runtime is not None:
            if runtime.loop.is_main_thread():
                fn()
            else:
                runtime.loop.call_soon(fn)
        elif threading.current_thread() is threading.main_thread():
            fn()
        else:
            self._early.append(fn)  # before the main loop exists: run when it starts

    # ---------------------------------------------------------------- run
    def run(self) -> int:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        from wallctl.qt.loop import QtLoop
        from wallctl.qt.platform import choose_platform, prepare_qt_environment
        from wallctl.qt.screens import QtScreens
        from wallctl.qt.shots import save_wall_png

        prepare_qt_environment()
        if os.environ.get("WALLCTL_SWITCH_INTERVAL"):
            sys.setswitchinterval(float(os.environ["WALLCTL_SWITCH_INTERVAL"]))
        msg = choose_platform(self.core.layouts.wall)
        app = QApplication.instance() or QApplication(sys.argv[:1])
        assert isinstance(app, QApplication)
        app.setApplicationName("wallctl")
        if not self.opts.windowed:
            from wallctl.qt.platform import inhibit_screensaver

            log.info("%s", inhibit_screensaver())
        self.install_excepthooks()
        service, cfg = self.service, self.config
        hotkeys = hotkey_actions(self.core, on_quit=self.quit, on_diagnostics=self._toggle_diag)
        scene, windows = build_wall(self.core, QtScreens(), windowed=self.opts.windowed, hotkeys=hotkeys)
        self.scene, self.windows = scene, windows
        if os.environ.get("WALLCTL_BENCH"):  # benchmarks: say when a new mode is painted on every monitor
            import json

            def painted(info: dict[str, object]) -> None:
                if self.runtime.link is not None:
                    self.runtime.link.publish(f"{cfg.state_prefix}/bench/painted", json.dumps(info), qos=0)

            windows.painted_hook = painted
            windows.expect_paint("startup")
            for v in windows.views:
                v.viewport().update()
        wired = wire_controller(cfg, service, self.token, QtLoop(), self.sink, speech=self.opts.audio)
        self.speaker = wired.speaker
        runtime, self.watcher = wired.runtime, wired.watcher
        self.runtime = runtime
        for fn in self._early:
            runtime.loop.call_soon(fn)
        from wallctl.adapters.outputs.start import start_outputs

        self.outputs = start_outputs(cfg, service, runtime.loop)  # beacons and relays, each on its own thread
        runtime.start()
        if msg:
            log.warning("%s", msg)
            print(f"wallctl: {msg}", file=sys.stderr)  # noqa: T201 - the user must see this
            if self.opts.offscreen_message:
                print(f"wallctl: {self.opts.offscreen_message}", file=sys.stderr)  # noqa: T201
        shot = self.opts.screenshot
        if shot is not None:
            timer = QTimer(app)
            timer.timeout.connect(lambda: save_wall_png(scene, shot))
            timer.start(int(max(self.opts.screenshot_every_s, 1.0) * 1000))
            QTimer.singleShot(1500, lambda: save_wall_png(scene, shot))
        self._install_signals(app)
        if self.opts.duration_s:
            QTimer.singleShot(int(self.opts.duration_s * 1000), self.quit)
        if self.opts.on_ready:
            self.opts.on_ready(self)
        log.info(
            "wall %s running: %d monitor view(s), broker %s:%d, mode %s",
            cfg.model.wall_id,
            len(windows.views),
            cfg.model.mqtt.host,
            cfg.model.mqtt.port,
            service.decision.mode,
        )
        profile_path = os.environ.get("WALLCTL_PROFILE")  # developers: cProfile the main loop into this file
        if profile_path:
            import cProfile

            profiler = cProfile.Profile()
            code = profiler.runcall(app.exec)
            profiler.dump_stats(profile_path)
        else:
            code = app.exec()
        self.shutdown()
        return int(code)

    def _toggle_diag(self) -> None:
        from wallctl.qt.overlay import toggle_diagnostics

        toggle_diagnostics(self.scene)

    def install_excepthooks(self) -> None:
        install_excepthooks(self.service)

    def _install_signals(self, app: Any) -> None:
        from PySide6.QtCore import QSocketNotifier

        r, w = os.pipe()
        os.set_blocking(w, False)
        signal.set_wakeup_fd(w)
        notifier = QSocketNotifier(r, QSocketNotifier.Type.Read, app)

        def wake() -> None:
            try:
                os.read(r, 64)
            except OSError:
                pass

        notifier.activated.connect(wake)
        self._signal_notifier = notifier
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.quit())

    def quit(self) -> None:
        from PySide6.QtWidgets import QApplication

        if self._stopping:
            return
        self._stopping = True
        log.info("shutting down")
        QApplication.quit()

    def shutdown(self) -> None:
        self.watcher.close()  # a layout parse under way is not waited for
        if self.outputs is not None:
            self.outputs.stop()
        self.runtime.stop()
        self.windows.close()
        self.scene.dispose()
        if self.core.journal is not None:
            self.core.journal.close()
        close = getattr(self.sink, "close", None)
        if close is not None:
            close()
        if self.speaker is not None:
            self.speaker.close()
