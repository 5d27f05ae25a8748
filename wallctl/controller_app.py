"""The headless controller's composition root: configuration, core, audio, broker link and asyncio's loop.

It owns ingest, the alarm engine, the journal, the rules, the annunciator and its audio output, live reload of the
layouts, the contract's status, state, alarms and cmd topics, and what display nodes draw (``view/...``). It
imports no Qt: ``lint-imports`` keeps Qt out of the controller package, and ``tests/e2e/test_controller.py`` looks
at the running process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wallctl.adapters.audio import open_sink
from wallctl.adapters.incidents import check_outreach_credentials, start_outreach
from wallctl.adapters.outputs.start import check_outputs_credentials, start_outputs
from wallctl.adapters.speech import Speaker
from wallctl.controller.build import (
    build_core,
    install_excepthooks,
    override_broker,
    reserved_hotkeys,
    warn_if_commands_open,
)
from wallctl.controller.displays import DisplayWatch
from wallctl.controller.link import Inbound
from wallctl.controller.loop import AsyncioLoop
from wallctl.controller.outputs import Outputs
from wallctl.controller.outreach import Outreach
from wallctl.controller.standby import Election, GatedSink
from wallctl.controller.views import ViewPublisher, read_setup_files
from wallctl.core.clock import SystemClock
from wallctl.core.config.settings import load_config
from wallctl.core.sound.annunciator import AudioSink
from wallctl.core.wire.view import Setup
from wallctl.wiring import Standby, wire_controller

log = logging.getLogger("wallctl.controller")


@dataclass
class ControllerOptions:
    config: Path
    broker: str | None = None
    audio: bool = True
    journal: Path | None = None
    duration_s: float | None = None
    protocol: str | None = None  # override the configured MQTT version (the embedded broker speaks 3.1.1 only)
    controller_id: str | None = None  # --id over controller.id
    role: str | None = None  # --role over controller.role


class ControllerApp:
    def __init__(self, opts: ControllerOptions) -> None:
        self.opts = opts
        self.config = load_config(opts.config)
        override_broker(self.config, opts.broker, opts.protocol)
        self.token = self.config.command_token()  # TokenMissing before anything opens: a usage error
        check_outreach_credentials(self.config)  # an SMTP password or RT token variable not set: file:line:col
        check_outputs_credentials(self.config)  # the same for a beacon's or relay's password
        self.outreach: Outreach | None = None
        self.outputs: Outputs | None = None
        self.loop = AsyncioLoop()
        ctl = self.config.model.controller
        if opts.controller_id:
            object.__setattr__(ctl, "id", opts.controller_id)
        if opts.role:
            object.__setattr__(ctl, "role", opts.role)
        # hot standby: only with an id; one controller alone is simply active (and the contract's topics unchanged)
        self.election = Election(ctl.id, ctl.role, SystemClock()) if ctl.id else None
        self.sink: AudioSink = open_sink(
            self.config.model.audio,
            opts.audio,
            on_error=lambda message: self._on_loop(lambda: self.service.set_audio_device(False, message)),
            on_recovered=lambda: self._on_loop(lambda: self.service.set_audio_device(True)),
        )
        if self.election is not None:
            self.sink = GatedSink(self.sink, lambda: self.election is not None and self.election.active)
        self.core = build_core(self.config, sink=self.sink, journal_path=str(opts.journal) if opts.journal else None)
        self.service = self.core.service
        warn_if_commands_open(self.token, self.service)
        self._stopping = False
        self.standby: Standby | None = None
        self.speaker: Speaker | None = None

    def _on_loop(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the loop (the audio sink reports from its device thread)."""
        self.loop.call_soon(fn)

    def run(self) -> int:
        cfg, service = self.config, self.service
        install_excepthooks(service)
        wired = wire_controller(
            cfg,
            service,
            self.token,
            self.loop,
            self.sink,
            on_message=self._on_message,
            on_link=lambda event: self.standby.on_link(event) if self.standby is not None else None,
            extra_subscriptions=((f"{cfg.state_prefix}/displays/+", 0),),
            speech=self.opts.audio,
        )
        self.speaker = wired.speaker
        runtime, link, self.watcher = wired.runtime, wired.link, wired.watcher
        self.runtime = runtime
        topologies = dict(self.core.extra_topologies)
        if self.core.topology is not None:
            topologies[""] = self.core.topology
        prefix = cfg.state_prefix
        self.views = ViewPublisher(
            service,
            topologies,
            self.loop,
            lambda topic, payload: link.publish(f"{prefix}/{topic}", payload, qos=1, retain=True),
            self._setup,
        )
        if self.election is not None:
            self.standby = Standby(cfg, wired, self.views, self.election, self.loop)
            self.standby.start()
        self.displays = DisplayWatch(service, prefix)
        self.outreach = start_outreach(
            cfg, service, self.core.journal, self.loop, lambda: self.election is None or self.election.active
        )
        self.outputs = start_outputs(cfg, service, self.loop, active=self._active, controller_ok=self._wall_held)
        service.layouts_changed.connect(lambda _layouts: self.displays.check())
        runtime.start()
        self.loop.on_signals(lambda _signum: self.quit())
        if self.opts.duration_s:
            self.loop.call_later(self.opts.duration_s, self.quit)
        log.info(
            "controller %s running: broker %s:%d, mode %s",
            cfg.model.wall_id,
            cfg.model.mqtt.host,
            cfg.model.mqtt.port,
            service.decision.mode,
        )
        try:
            self.loop.run()
        finally:
            self.shutdown()
        return 0

    def _active(self) -> bool:
        return self.election is None or self.election.active

    def _wall_held(self) -> bool:
        """Some controller holds the wall, as far as this one knows (alone, it is this one)."""
        e = self.election
        return e is None or e.active or e.other_active() is not None

    def _on_message(self, msg: Inbound) -> None:
        if self.displays.is_presence(msg.topic):
            self.displays.on_presence(msg.topic, msg.payload)
        else:
            self.runtime.on_message(msg)

    def _setup(self) -> Setup:
        """What a display node builds the scene from (read again when the layouts change)."""
        cfg, core = self.config, self.core
        layouts_dir = cfg.resolve(cfg.model.layouts)
        paths = {file: layouts_dir / file for file in core.extra_topologies}
        if cfg.model.topology:
            paths[""] = cfg.resolve(cfg.model.topology)
        layouts, assets, topologies = read_setup_files(layouts_dir, paths, cfg.model.topology_source_key)
        return Setup(
            layouts,
            assets,
            topologies,
            list(cfg.model.kpis),
            cfg.model.engine.policy().flood,
            reserved_hotkeys(cfg),
            dict(cfg.model.theme.severity_colors),
        )

    def quit(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        log.info("shutting down")
        self.loop.stop()

    def shutdown(self) -> None:
        self.watcher.close()  # a layout parse under way is not waited for
        self.views.close()
        if self.outputs is not None:
            self.outputs.stop()  # first: the lamps say "not watched" before a standby takes the wall and re-asserts
        if self.outreach is not None:
            self.outreach.stop()  # before the runtime's last flush: what it queued is committed with it
        self.runtime.stop()
        if self.standby is not None:
            self.standby.stop()  # the entry says offline: the other takes over now, not after the lease
        if self.core.journal is not None:
            self.core.journal.close()
        close = getattr(self.sink, "close", None)
        if close is not None:
            close()
        if self.speaker is not None:
            self.speaker.close()
        self.loop.close()
