"""The composition root: the one place that reads the configuration and wires core, adapters and views.

Nothing happens at import time; :func:`build_core` makes everything that needs no Qt (used by tests and tools),
:class:`WallApp` adds the screen, the broker link and the main loop.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from wallctl.controller.inbox import InboxPolicy
from wallctl.controller.journal import Journal
from wallctl.controller.service import ServiceParts, WallService
from wallctl.core.alarms.dominance import DominatorIndex
from wallctl.core.alarms.engine import MaintenanceWindow
from wallctl.core.alarms.event import TimeWindow, TopicTemplate
from wallctl.core.alarms.feeds import Watch
from wallctl.core.clock import Clock, SystemClock
from wallctl.core.config.settings import LoadedConfig, load_config
from wallctl.core.files.yamldoc import ConfigError, Problem
from wallctl.core.signal import Signal
from wallctl.core.sound.annunciator import AudioSink
from wallctl.core.sound.soundmap import SoundMap, load_soundmap
from wallctl.core.topology.files import load_topology
from wallctl.core.topology.model import Topology
from wallctl.core.wall.hotkeys import normalize_hotkey
from wallctl.core.wall.presets import LayoutSet, load_layouts
from wallctl.core.wire.strict import dumps_strict

log = logging.getLogger("wallctl.app")


@dataclass
class Core:
    config: LoadedConfig
    layouts: LayoutSet
    soundmap: SoundMap
    topology: Topology | None
    service: WallService
    journal: Journal | None
    extra_topologies: dict[str, Topology] = field(default_factory=dict)


def reserved_hotkeys(config: LoadedConfig) -> dict[str, str]:
    hk = config.model.operator.hotkeys
    return {name: getattr(hk, name) for name in hk.__dataclass_fields__}


def load_config_layouts(config: LoadedConfig) -> LayoutSet:
    """The one loading pipeline for layouts (run, live reload): the same checks as ``wallctl validate``."""
    return load_layouts(
        config.resolve(config.model.layouts),
        reserved_hotkeys=reserved_hotkeys(config),
        kpi_series=[k.name for k in config.model.kpis],
    )


def _parse_time(text: str, file: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ConfigError([Problem(file, 1, 1, f"maintenance time {text!r} is not RFC 3339")]) from None


def build_core(
    config: LoadedConfig, *, clock: Clock | None = None, sink: AudioSink | None = None, journal_path: str | None = None
) -> Core:
    """Everything but Qt and the network: configuration, layouts, topology, sound map, journal, service."""
    clock = clock or SystemClock()
    m = config.model
    problems: list[Problem] = []
    layouts = soundmap = topology = None
    try:
        layouts = load_config_layouts(config)
    except ConfigError as exc:
        problems += exc.problems
    try:
        topology = load_topology(config.resolve(m.topology)) if m.topology else None
    except ConfigError as exc:
        problems += exc.problems
    groups = topology.groups() if topology is not None else None
    try:
        soundmap = load_soundmap(config.resolve(m.sounds), groups)
    except ConfigError as exc:
        problems += exc.problems
    if problems or layouts is None or soundmap is None:
        raise ConfigError(problems)
    extra: dict[str, Topology] = {}
    for opts in layouts.tile_options.values():
        file = getattr(opts, "file", None)
        if file and file not in extra:
            extra[file] = load_topology(config.resolve(m.layouts) / file)
    dominators = None
    root = m.engine.suppression_root or (topology.root if topology else None)
    if topology is not None and root:
        try:
            dominators = DominatorIndex(topology.graph, root)
        except ValueError as exc:
            raise ConfigError([Problem(str(config.path), 1, 1, f"engine.suppression_root: {exc}")]) from None
    maintenance = tuple(
        MaintenanceWindow(
            w.match, _parse_time(w.start, str(config.path)), _parse_time(w.end, str(config.path)), w.reason
        )
        for w in m.engine.maintenance
    )
    watches = tuple(
        Watch(h.name or h.source or h.topic or "feed", h.interval_s, h.source, h.topic) for h in m.heartbeats
    )
    parts = ServiceParts(
        wall_id=m.wall_id,
        layouts=layouts,
        soundmap=soundmap,
        engine_policy=m.engine.policy(),
        pin_s=m.operator.pin_s,
        silence_s=m.operator.silence_s,
        shelve_s=m.operator.shelve_s,
        link_grace_s=m.mqtt.link_grace_s,
        alarms_topic_max=m.mqtt.alarms_topic_max,
        kpis=m.kpis,
        watches=watches,
        maintenance=maintenance,
        dominators=dominators,
        groups=groups,
    )
    journal = Journal(journal_path or config.resolve(m.journal), retention_days=m.journal_retention_days)
    for notice in journal.notices:
        log.warning("%s", notice)
    journal.prune(clock.now())
    if sink is None:
        from wallctl.adapters.audio import NullSink

        sink = NullSink()
    service = WallService(parts, clock=clock, sink=sink, journal=journal)
    return Core(config, layouts, soundmap, topology, service, journal, extra)


def inbox_policy(config: LoadedConfig, token: str | None) -> InboxPolicy:
    """How inbound messages are checked, from the config (the wall and the fuzz tests build it the same way)."""
    m = config.model
    return InboxPolicy(
        cmd_topic=f"{config.state_prefix}/cmd",
        templates=tuple(TopicTemplate(t) for t in m.mqtt.topic_templates),
        max_bytes=m.mqtt.max_payload_bytes,
        window=TimeWindow(m.engine.max_event_age_s, m.engine.max_event_future_s),
        token=token,
        command_max_age_s=m.operator.command_max_age_s,
    )


def mode_hotkeys(layouts: LayoutSet, reserved: dict[str, str]) -> dict[str, str]:
    """Mode -> hotkey: the mode's own, else the next free F-key (F1-F12 by default)."""
    taken = {normalize_hotkey(k) for k in reserved.values()}
    out: dict[str, str] = {}
    for m in layouts.modes.values():
        if m.hotkey:
            out[m.name] = normalize_hotkey(m.hotkey)
            taken.add(out[m.name])
    free = (f"F{i}" for i in range(1, 13))
    for m in layouts.modes.values():
        if m.name not in out:
            key = next((k for k in free if k not in taken), None)
            if key is not None:
                out[m.name] = key
                taken.add(key)
    return out


def build_wall(
    core: Core, screens: Any, *, windowed: bool = False, hotkeys: dict[str, Callable[[], None]] | None = None
) -> tuple[Any, Any]:
    """The wall's scene and its monitor windows over a built core (needs a QApplication)."""
    from wallctl.qt.wall import WallWindows

    service = core.service
    scene = build_scene(core)
    windows = WallWindows(scene, service, screens, windowed=windowed, hotkeys=hotkeys)
    windows.remap()
    scene.apply(service.evaluate(force=True))
    return scene, windows


def build_scene(core: Core) -> Any:
    """The wall scene (every tile of every mode, built once) over a built core; follows layout reloads."""
    from wallctl.core.topology.state import TopologyState
    from wallctl.qt import theme
    from wallctl.qt.keys_overlay import key_bindings
    from wallctl.qt.scene import TileFactory, WallScene

    theme.apply_colors(core.config.model.theme.severity_colors)
    service, cfg = core.service, core.config
    topologies = {}
    if core.topology is not None:
        topologies[""] = (core.topology, TopologyState(core.topology, service.engine))
    for name, topo in core.extra_topologies.items():
        topologies[name] = (topo, TopologyState(topo, service.engine))
    scene = WallScene(service, TileFactory(service, topologies, cfg.resolve(cfg.model.layouts)), core.layouts)
    keys = mode_hotkeys(core.layouts, reserved_hotkeys(cfg))  # as hotkey_actions binds them
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
    for mode, key in mode_hotkeys(core.layouts, reserved).items():
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
        if opts.broker:
            host, _, port = opts.broker.rpartition(":")
            if not host or not port.isdigit():
                raise ConfigError([Problem("--broker", 1, 1, f"{opts.broker!r} is not HOST:PORT")])
            mq = self.config.model.mqtt
            object.__setattr__(mq, "host", host)
            object.__setattr__(mq, "port", int(port))
        if opts.protocol:
            object.__setattr__(self.config.model.mqtt, "protocol", opts.protocol)
        self.token = self.config.command_token()  # TokenMissing before anything opens: a usage error
        self._early: list[Callable[[], None]] = []
        from wallctl.adapters.audio import NullSink, SimpleAudioSink

        audio = self.config.model.audio
        self.sink: AudioSink
        if opts.audio and audio.enabled:
            if audio.card:
                os.environ["ALSA_CARD"] = audio.card  # ALSA's default device follows it
            self.sink = SimpleAudioSink(
                retry_s=audio.retry_s,
                open_timeout_s=audio.open_timeout_s,
                on_error=self._audio_failed,
                on_recovered=self._audio_recovered,
            )
        else:
            self.sink = NullSink()
        self.core = build_core(self.config, sink=self.sink, journal_path=str(opts.journal) if opts.journal else None)
        self.service = self.core.service
        self._stopping = False
        if self.token is None:
            warning = (
                "commands are accepted WITHOUT a token (no mqtt.command_token_env or command_token in the config, or "
                "command_token: none): anyone on the broker can acknowledge, silence or shelve alarms"
            )
            log.warning("%s", warning)
            self.service.report_device_error(warning)
            self.service.commands_open = True

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

        from wallctl.adapters.audio import SimpleAudioSink
        from wallctl.adapters.mqtt import MqttLink
        from wallctl.qt.platform import choose_platform, prepare_qt_environment
        from wallctl.qt.reload import LayoutWatcher
        from wallctl.qt.runtime import Runtime, settle_heap, tame_collector
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

            def sounded(name: str, at: float) -> None:
                if self.runtime.link is not None:
                    self.runtime.link.publish(
                        f"{cfg.state_prefix}/bench/sounded", json.dumps({"sound": name, "at": at}), qos=0
                    )

            if isinstance(self.sink, SimpleAudioSink):  # called on the device thread: publish from the main one
                self.sink.on_played = lambda name, at: self._on_main(lambda: sounded(name, at))
        runtime = Runtime(service, inbox_policy(cfg, self.token), state_prefix=cfg.state_prefix)
        link = MqttLink(
            cfg.model.mqtt,
            client_id=cfg.client_id,
            state_prefix=cfg.state_prefix,
            hooks=runtime.loop,
            on_message=runtime.on_message,
            on_link=runtime.on_link,
            password=cfg.password(),
            extra_subscriptions=((f"{cfg.state_prefix}/cmd", 1), *((t, 1) for t in service.kpis.topics)),
        )
        runtime.attach(link)
        self.runtime = runtime
        if os.environ.get("WALLCTL_BENCH"):  # benchmarks: the main loop's longest stall, each second
            runtime.on_loop_report = lambda late: link.publish(
                f"{cfg.state_prefix}/bench/loop", dumps_strict({"max_late_ms": round(late * 1000, 1)}), qos=0
            )
        for fn in self._early:
            runtime.loop.call_soon(fn)
        watcher = LayoutWatcher(cfg.resolve(cfg.model.layouts), lambda: load_config_layouts(cfg), service)
        self.watcher = watcher
        tame_collector()
        settle_heap()  # the restored picture is long-lived: out of the collector's sight from the start
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

        toggle_diagnostics(self.scene, self.service)

    def install_excepthooks(self) -> None:
        service = self.service
        Signal.error_hook = service.report_exception

        def hook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
            log.critical("unhandled exception", exc_info=(exc_type, exc, tb))
            service.report_exception("unhandled", exc)

        def thook(args: threading.ExceptHookArgs) -> None:
            if args.exc_value is not None:
                log.critical(
                    "unhandled exception in thread %s",
                    args.thread,
                    exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
                )
                service.report_exception(f"thread {args.thread.name if args.thread else '?'}", args.exc_value)

        sys.excepthook = hook
        threading.excepthook = thook

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
        self.runtime.stop()
        self.windows.close()
        self.scene.dispose()
        if self.core.journal is not None:
            self.core.journal.close()
        close = getattr(self.sink, "close", None)
        if close is not None:
            close()
