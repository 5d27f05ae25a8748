"""Assembling a wall's core from its configuration: everything but Qt and the network (layouts, topology, sound map,
journal, service, the inbound policy). The controller, the single-process wall, preview and the tests build it so."""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wallctl.controller.inbox import InboxPolicy
from wallctl.controller.journal import Journal
from wallctl.controller.service import ServiceParts, WallService
from wallctl.core.alarms.dominance import DominatorIndex
from wallctl.core.alarms.engine import MaintenanceWindow
from wallctl.core.alarms.event import TimeWindow, TopicTemplate
from wallctl.core.alarms.feeds import TopicRoutes, Watch
from wallctl.core.clock import Clock, SystemClock
from wallctl.core.config.settings import LoadedConfig
from wallctl.core.config.sites import site_groups, with_labels
from wallctl.core.files.yamldoc import ConfigError, Problem
from wallctl.core.profiles.base import ProfileMaps
from wallctl.core.profiles.maps import load_profile_maps
from wallctl.core.signal import Signal
from wallctl.core.sound.annunciator import AudioSink, NullSink
from wallctl.core.sound.soundmap import SoundMap, load_soundmap
from wallctl.core.topology.files import load_topology
from wallctl.core.topology.model import Topology
from wallctl.core.wall.presets import LayoutSet, load_layouts

log = logging.getLogger("wallctl.build")


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


def node_labels(topologies: list[Topology]) -> dict[str, str]:
    """Each site's and node's name as the map shows it (what a spoken sentence says instead of the id); nodes over
    sites, the main map last, so its names win."""
    labels = {s.id: s.label for t in topologies for s in t.sites.values() if s.label}
    labels.update({n: str(d.get("label") or n) for t in topologies for n, d in t.graph.nodes(data=True)})
    return labels


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
        topology = load_topology(config.resolve(m.topology), source_key=m.topology_source_key) if m.topology else None
    except ConfigError as exc:
        problems += exc.problems
    groups = site_groups(topology.groups(), m.sites) if topology is not None else None
    try:
        soundmap = load_soundmap(config.resolve(m.sounds), groups)
    except ConfigError as exc:
        problems += exc.problems
    maps = ProfileMaps()
    try:
        maps = load_maps(config)
    except ConfigError as exc:
        problems += exc.problems
    if problems or layouts is None or soundmap is None:
        raise ConfigError(problems)
    extra: dict[str, Topology] = {}
    for opts in layouts.tile_options.values():
        file = getattr(opts, "file", None)
        if file and file not in extra:
            extra[file] = load_topology(config.resolve(m.layouts) / file, source_key=m.topology_source_key)
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
        sites=with_labels(m.sites, {s.id: s.label for s in topology.sites.values()} if topology else {}),
        kpis=m.kpis,
        watches=watches,
        maintenance=maintenance,
        dominators=dominators,
        groups=groups,
        profile_maps=maps,
        labels=node_labels([*extra.values(), *([topology] if topology is not None else [])]),
    )
    journal = Journal(journal_path or config.resolve(m.journal), retention_days=m.journal_retention_days)
    for notice in journal.notices:
        log.warning("%s", notice)
    journal.prune(clock.now())
    if sink is None:
        sink = NullSink()
    service = WallService(parts, clock=clock, sink=sink, journal=journal)
    return Core(config, layouts, soundmap, topology, service, journal, extra)


def inbox_policy(config: LoadedConfig, token: str | None, maps: ProfileMaps | None = None) -> InboxPolicy:
    """How inbound messages are checked, from the config (the wall and the fuzz tests build it the same way);
    ``maps``: the payload profiles' maps as the core loaded them (default: loaded here)."""
    m = config.model
    profiled = [(s.filter, s.profile) for s in m.mqtt.subscriptions if s.profile]
    return InboxPolicy(
        cmd_topic=f"{config.state_prefix}/cmd",
        templates=tuple(TopicTemplate(t) for t in m.mqtt.topic_templates),
        max_bytes=m.mqtt.max_payload_bytes,
        window=TimeWindow(m.engine.max_event_age_s, m.engine.max_event_future_s),
        token=token,
        command_max_age_s=m.operator.command_max_age_s,
        profiles=TopicRoutes(profiled) if profiled else None,
        maps=maps if maps is not None else load_maps(config),
    )


def load_maps(config: LoadedConfig) -> ProfileMaps:
    """The payload profiles' maps the config names (the same loader ``wallctl validate`` checks them with)."""
    path = config.model.profiles
    return load_profile_maps(config.resolve(path)) if path else ProfileMaps()


def override_broker(config: LoadedConfig, broker: str | None, protocol: str | None) -> None:
    """``--broker HOST:PORT`` and a forced MQTT version (the embedded broker speaks 3.1.1 only) over the config."""
    mq = config.model.mqtt
    if broker:
        host, _, port = broker.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError([Problem("--broker", 1, 1, f"{broker!r} is not HOST:PORT")])
        object.__setattr__(mq, "host", host)
        object.__setattr__(mq, "port", int(port))
    if protocol:
        object.__setattr__(mq, "protocol", protocol)


def warn_if_commands_open(token: str | None, service: WallService) -> None:
    """No command token: anyone on the broker may act. Said in the log, on the diagnostics and on the banner."""
    if token is not None:
        return
    warning = (
        "commands are accepted WITHOUT a token (no mqtt.command_token_env or command_token in the config, or "
        "command_token: none): anyone on the broker can acknowledge, silence or shelve alarms"
    )
    log.warning("%s", warning)
    service.report_device_error(warning)
    service.commands_open = True


def install_excepthooks(service: WallService) -> None:
    """Whatever escapes (a subscriber, a thread) is logged and shown on the diagnostics, never lost silently."""
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
