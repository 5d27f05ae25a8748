"""The sub-commands behind ``wallctl``: each takes the parsed arguments and returns an exit code."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from wallctl.core.files.yamldoc import ConfigError, Problem

if TYPE_CHECKING:
    from wallctl.core.config.settings import LoadedConfig
    from wallctl.core.sound.soundmap import Sound, SoundMap


class _App(Protocol):
    def run(self) -> int: ...


def _start(what: str, build: Callable[[], _App]) -> int:
    """Build a process's application and run it; a start-up refusal is said the same way by every command:
    configuration problems (exit 1, one located line each), a command-token variable not set (exit 2, a usage
    error), a journal another process holds (exit 1)."""
    from wallctl.controller.journal_files import JournalLocked
    from wallctl.core.config.settings import TokenMissing

    label = f"wallctl: {what + ' ' if what else ''}not started"
    try:
        return build().run()
    except ConfigError as exc:
        _print_problems(exc)
        print(f"{label}: fix the problems above (wallctl validate checks them)", file=sys.stderr)
        return 1
    except (TokenMissing, JournalLocked) as exc:
        print(f"{label}: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, TokenMissing) else 1


def _config(args: argparse.Namespace) -> Path:
    """``--config``, else ``$WALLCTL_CONFIG``, else the default (the parser lives in cli.py, which imports this)."""
    from wallctl.core.config.settings import config_path

    return config_path(getattr(args, "config", None) or os.environ.get("WALLCTL_CONFIG"))


def _print_problems(exc: ConfigError) -> None:
    for p in exc.problems:
        print(p, file=sys.stderr)


# --------------------------------------------------------------------------- run
def cmd_run(args: argparse.Namespace) -> int:
    if args.one_process:
        return _run_one_process(args)
    from wallctl.controller.build import load_config_layouts
    from wallctl.core.config.settings import load_config
    from wallctl.supervisor import Supervisor

    supervisor = Supervisor(duration_s=args.duration)
    config = _config(args)
    try:  # the nodes to start; every other check is the controller's, which says what is wrong and exits
        loaded = load_config(config)
        nodes = load_config_layouts(loaded).wall.nodes()
    except ConfigError as exc:
        _print_problems(exc)
        print("wallctl: not started: fix the problems above (wallctl validate checks them)", file=sys.stderr)
        return 1
    base = [sys.executable, "-m", "wallctl", *(["-v"] * args.verbose)]
    common = ["--config", str(config), *(["--broker", args.broker] if args.broker else [])]
    controller = [*base, "controller", *common]
    controller += ["--no-audio"] if args.no_audio else []
    controller += ["--journal", str(args.journal)] if args.journal else []
    displays = {}
    for node in nodes:
        argv = [*base, "display", *common, "--node", node, *(["--windowed"] if args.windowed else [])]
        if args.screenshot:
            shot = args.screenshot if len(nodes) == 1 else args.screenshot.with_stem(f"{args.screenshot.stem}-{node}")
            argv += ["--screenshot", str(shot)]
        displays[node] = argv
    gateway = [*base, "gateway", *common] if loaded.model.gateway.enabled else None
    return supervisor.run(controller, displays, {"gateway": gateway} if gateway else None)


def _run_one_process(args: argparse.Namespace) -> int:
    """The whole wall in one process and one Qt thread (a desk, a laptop demo, the benchmark's baseline)."""
    from wallctl.app import RunOptions, WallApp

    return _start(
        "",
        lambda: WallApp(
            RunOptions(
                config=_config(args),
                broker=args.broker,
                windowed=args.windowed,
                audio=not args.no_audio,
                screenshot=args.screenshot,
                screenshot_every_s=args.screenshot_every,
                duration_s=args.duration,
                journal=args.journal,
            )
        ),
    )


# --------------------------------------------------------------------------- controller
def cmd_controller(args: argparse.Namespace) -> int:
    from wallctl.controller_app import ControllerApp, ControllerOptions

    return _start(
        "controller",
        lambda: ControllerApp(
            ControllerOptions(
                config=_config(args),
                broker=args.broker,
                audio=not args.no_audio,
                duration_s=args.duration,
                journal=args.journal,
                protocol=args.mqtt_protocol,
                controller_id=args.controller_id,
                role=args.role,
            )
        ),
    )


# --------------------------------------------------------------------------- gateway
def cmd_gateway(args: argparse.Namespace) -> int:
    from wallctl.gateway_app import GatewayApp, GatewayOptions

    return _start(
        "gateway",
        lambda: GatewayApp(
            GatewayOptions(
                config=_config(args),
                broker=args.broker,
                http=args.http,
                syslog=args.syslog,
                duration_s=args.duration,
                protocol=args.mqtt_protocol,
            )
        ),
    )


# --------------------------------------------------------------------------- display
def cmd_display(args: argparse.Namespace) -> int:
    from wallctl.display_app import DisplayApp, DisplayOptions

    return _start(
        "display",
        lambda: DisplayApp(
            DisplayOptions(
                config=_config(args),
                node=args.node,
                broker=args.broker,
                windowed=args.windowed,
                screenshot=args.screenshot,
                duration_s=args.duration,
                protocol=args.mqtt_protocol,
            )
        ),
    )


# --------------------------------------------------------------------------- demo
def cmd_demo(args: argparse.Namespace) -> int:
    from wallctl.adapters.broker import EmbeddedBroker
    from wallctl.adapters.simulator import Simulator, load_scenario
    from wallctl.core.config.settings import load_config
    from wallctl.core.topology.files import load_topology
    from wallctl.qt.platform import has_display

    config_file = _config(args)
    try:
        scenario = load_scenario(args.scenario)
        cfg = load_config(config_file)
    except ConfigError as exc:
        _print_problems(exc)
        return 1
    broker = EmbeddedBroker()
    broker.start()
    print(
        f"wallctl demo: embedded MQTT broker on {broker.address}; scenario '{scenario.name}' "
        f"({len(scenario.steps)} steps, {scenario.cycle_s:g} s cycle)",
        file=sys.stderr,
    )
    offscreen = not has_display()
    shot = args.screenshot.resolve() if offscreen else None
    journal = cfg.resolve("../var/demo-journal.sqlite3")
    for suffix in ("", "-wal", "-shm"):
        Path(str(journal) + suffix).unlink(missing_ok=True)
    nodes: dict[str, str] = {}
    if cfg.model.topology:
        topo = load_topology(cfg.resolve(cfg.model.topology), source_key=cfg.model.topology_source_key)
        nodes = {n: str(d.get("kind")) for n, d in topo.graph.nodes(data=True)}
    token_env = cfg.model.mqtt.command_token_env
    if token_env and not os.environ.get(token_env) and not cfg.model.mqtt.command_token:
        os.environ[token_env] = secrets.token_urlsafe(12)  # the demo's own: commands still need a token
        print(f"wallctl demo: commands need the token in ${token_env} (set for this demo only)", file=sys.stderr)
    sim = Simulator(
        scenario,
        broker.host,
        broker.port,
        cmd_topic=f"{cfg.state_prefix}/cmd",
        nodes=nodes,
        speed=args.speed,
        token=cfg.command_token(),
    )
    if offscreen:
        print(
            f"wallctl demo: a picture of the whole wall is written to {shot} every second; stop with Ctrl-C. To "
            "watch the wall in a window instead, run it under a virtual display: "
            "xvfb-run -a -s '-screen 0 1920x1080x24' make demo",
            file=sys.stderr,
        )
    from wallctl.adapters.mqtt import read_retained
    from wallctl.supervisor import Supervisor

    supervisor = Supervisor(duration_s=args.duration)
    base = [sys.executable, "-m", "wallctl", *(["-v"] * args.verbose)]
    common = ["--config", str(config_file), "--broker", broker.address, "--mqtt-protocol", "3.1.1"]
    controller = [*base, "controller", *common, "--journal", str(journal), *(["--no-audio"] if args.no_audio else [])]
    display = [*base, "display", *common, "--node", "main", "--windowed"]
    display += ["--screenshot", str(shot)] if shot is not None else []
    started = False

    def start_sim() -> None:  # once the controller is subscribed: the scenario's first events must reach it
        nonlocal started
        mq = cfg.model.mqtt
        object.__setattr__(mq, "host", broker.host)
        object.__setattr__(mq, "port", broker.port)
        for _ in range(60):
            if (
                read_retained(mq, f"{cfg.state_prefix}/status", client_id="wallctl-demo-wait", timeout_s=1.0)
                == b"online"
            ):
                break
        sim.start()
        started = True

    threading.Thread(target=start_sim, name="wallctl-demo-scenario", daemon=True).start()
    try:
        gateway = [*base, "gateway", *common] if cfg.model.gateway.enabled else None
        return supervisor.run(controller, {"main": display}, {"gateway": gateway} if gateway else None)
    finally:
        if started:
            sim.stop()
        broker.stop()
        if shot is not None and shot.exists():
            print(f"wallctl demo: last picture of the wall: {shot}", file=sys.stderr)


# --------------------------------------------------------------------------- validate
def cmd_validate(args: argparse.Namespace) -> int:
    """Exit 1 when any problem is an error; warnings are printed but leave the exit code at 0."""
    from wallctl.validate import validate_paths

    paths = [Path(p) for p in args.paths] or [_config(args)]
    problems, checked = validate_paths(paths)
    for prob in problems:
        print(prob)
    errors = sum(p.level == "error" for p in problems)
    warnings = len(problems) - errors
    also = f", {warnings} warning(s)" if warnings else ""
    if errors:
        print(f"{errors} error(s){also} in {checked} file(s)", file=sys.stderr)
        return 1
    print(f"ok: {checked} file(s) valid{also}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------- preview
def cmd_preview(args: argparse.Namespace) -> int:
    from wallctl.preview import run_preview

    try:
        return run_preview(
            _config(args), layouts=args.layouts, mode=args.mode, png_dir=args.png, sample_alarms=args.sample_alarms
        )
    except ConfigError as exc:
        _print_problems(exc)
        return 1


# --------------------------------------------------------------------------- sounds
def cmd_sounds(args: argparse.Namespace) -> int:
    from wallctl.adapters.audio import SimpleAudioSink
    from wallctl.core.config.settings import load_config
    from wallctl.core.sound.soundmap import load_soundmap

    try:
        cfg = load_config(_config(args))
        sm = load_soundmap(cfg.resolve(cfg.model.sounds))
    except ConfigError as exc:
        _print_problems(exc)
        return 1
    errors: list[str] = []
    if cfg.model.audio.card:
        os.environ["ALSA_CARD"] = cfg.model.audio.card
    sink = SimpleAudioSink(retry_s=0, open_timeout_s=cfg.model.audio.open_timeout_s, on_error=errors.append)
    problems = sink.preload(list(sm.sounds.values()))
    for p in problems:
        print(f"sound file problem: {p}", file=sys.stderr)
    if args.check:
        from wallctl.adapters.audio import probe_device
        from wallctl.adapters.speech import check_engine

        device_error = probe_device()
        if device_error:
            print(f"audio device: FAILED: {device_error}", file=sys.stderr)
        else:
            print("audio device: ok")
        print(f"sound files: {len(sm.sounds) - len(problems)} of {len(sm.sounds)} ok")
        spec = sm.spec.voice
        voice_error = check_engine(spec) if spec is not None and spec.engine != "off" else None
        if spec is not None and spec.engine != "off":
            where = f"voice in {cfg.resolve(cfg.model.sounds)}"
            print(f"voice: FAILED: {voice_error} ({where})" if voice_error else f"voice: ok ({spec.engine})")
        return 1 if problems or device_error or voice_error else 0
    clips = [(name, sound, sound.description) for name, sound in sm.sounds.items()]
    voice = _voice_samples(cfg, sm)
    if voice is not None:
        if voice[0]:
            print(f"voice: FAILED: {voice[0]}", file=sys.stderr)
            problems.append(voice[0])
        clips += [(sound.name, sound, sound.description) for sound in voice[1]]
    for name, sound, description in clips:
        print(f"playing {name:24s} {description}", flush=True)
        sink.play(sound, 1.0)
        sink.wait_idle(sink.STARTUP_S + sink.open_timeout_s)
        if errors:
            print(f"audio device: FAILED: {errors[0]}", file=sys.stderr)
            return 1
        while sink.is_playing():
            time.sleep(0.05)
        time.sleep(0.3)
    sink.close()
    return 1 if problems else 0


def _voice_samples(cfg: LoadedConfig, sm: SoundMap) -> tuple[str | None, list[Sound]] | None:
    """A sample sentence of every spoken template about a node of the configured map (its name said as the room
    will hear it), synthesised: the first problem, the clips; None without a voice."""
    from wallctl.adapters.speech import sample_clips
    from wallctl.controller.build import node_labels
    from wallctl.core.clock import SystemClock
    from wallctl.core.sound.voice import Phrasebook, Voice
    from wallctl.core.topology.files import load_topology

    spec = sm.spec.voice
    if spec is None or spec.engine == "off":
        return None
    labels: dict[str, str] = {}
    source = "core-router-1"
    if cfg.model.topology:
        try:
            topo = load_topology(cfg.resolve(cfg.model.topology), source_key=cfg.model.topology_source_key)
        except ConfigError:
            pass  # the map's own problems are validate's to report; the samples use an id then
        else:
            labels = node_labels([topo])
            source = next((n for n, d in topo.graph.nodes(data=True) if d.get("label") not in (None, n)), source)
    voice = Voice(SystemClock(), spec, Phrasebook(spec, lambda s: labels.get(s, s)))
    return sample_clips(spec, voice.samples(source))


# --------------------------------------------------------------------------- outputs
def cmd_outputs(args: argparse.Namespace) -> int:
    from wallctl.adapters.outputs.lamptest import LampTest

    return _start(
        "outputs",
        lambda: LampTest(_config(args), check=args.check, step_s=args.step, say=lambda line: print(line, flush=True)),
    )


# --------------------------------------------------------------------------- bench
def cmd_bench(args: argparse.Namespace) -> int:
    from wallctl.bench.suite import SECTIONS, run_suite
    from wallctl.core.config.settings import load_config

    unknown = [s for s in args.only if s not in SECTIONS]
    if unknown:
        print(f"wallctl bench: unknown section {unknown[0]!r}; expected one of: {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    try:
        load_config(_config(args))  # the benchmarks run the configured wall: say so early if it is broken
    except ConfigError as exc:
        _print_problems(exc)
        return 1
    return run_suite(quick=args.quick, json_path=args.json, only=frozenset(args.only))


# --------------------------------------------------------------------------- report
def cmd_report(args: argparse.Namespace) -> int:
    from wallctl.report.command import run_report

    return run_report(
        config=_config(args),
        journal=args.journal,
        start=args.start,
        end=args.end,
        html=args.html,
        json_path=args.json,
    )


# --------------------------------------------------------------------------- bridge-config
def cmd_bridge_config(args: argparse.Namespace) -> int:
    from wallctl.bridge_config import run_bridge_config

    return run_bridge_config(
        _config(args), args.site, args.head, keepalive_s=args.keepalive, restart_s=args.restart_timeout
    )


__all__ = ["Problem", "cmd_bench", "cmd_demo", "cmd_preview", "cmd_run", "cmd_sounds", "cmd_validate"]
