"""The main configuration file (``config/wallctl.yaml``): where things are, the broker, the engine's policy.

Paths in the file are relative to the file itself, so a config directory can be moved as a whole.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wallctl.core.alarms.engine import CorrelationGroup, EnginePolicy
from wallctl.core.alarms.event import MAX_PAYLOAD_BYTES, TopicTemplate
from wallctl.core.alarms.flood import FloodPolicy
from wallctl.core.alarms.match import AlarmMatch
from wallctl.core.config.sites import Site, check_sites
from wallctl.core.files.spec import build_doc, spec
from wallctl.core.files.yamldoc import ConfigError, load_yaml
from wallctl.core.incidents.config import EscalationConfig, IncidentsConfig
from wallctl.core.kpi import KpiSpec
from wallctl.core.lights.config import LightRule, OutputSpec, check_outputs
from wallctl.core.severity import SEVERITY_NAMES

DEFAULT_CONFIG = Path("config/wallctl.yaml")
# the payload profiles (wallctl.core.profiles) a subscription or a gateway route may name
ProfileName = Literal["alertmanager", "grafana", "zabbix", "nagios", "icinga", "snmptrap", "syslog"]


@dataclass(frozen=True)
class Subscription:
    filter: str = spec("MQTT topic filter; + and # wildcards allowed")
    qos: int = spec("QoS for this filter (1 keeps events across reconnects)", default=1, minimum=0, maximum=2)
    profile: ProfileName | None = spec(
        "the format of the messages on this filter when it is not wallctl's own event JSON (e.g. alertmanager for "
        "Grafana's MQTT contact point or a tool's own publisher)",
        default=None,
    )


@dataclass(frozen=True)
class TlsConfig:
    ca_file: str | None = spec("CA certificate file (PEM) that signed the broker's certificate", default=None)
    cert_file: str | None = spec("client certificate (PEM) for mutual TLS", default=None)
    key_file: str | None = spec("client private key (PEM)", default=None)
    check_hostname: bool = spec("verify that the broker's certificate names the host", default=True)


@dataclass(frozen=True)
class MqttConfig:
    host: str = spec("broker host", default="127.0.0.1")
    port: int = spec("broker port", default=1883, minimum=1, maximum=65535)
    client_id: str | None = spec("fixed client id, for a persistent session; default wallctl-<wall_id>", default=None)
    protocol: Literal["5", "3.1.1"] = spec("MQTT protocol version", default="5")
    subscriptions: tuple[Subscription, ...] = spec(
        "event topic filters", default_factory=lambda: (Subscription("noc/events/#", 1),)
    )
    topic_templates: tuple[str, ...] = spec(
        "fill missing payload fields from topic levels, e.g. noc/events/{category}/{source}",
        default_factory=lambda: ("noc/events/{category}/{source}",),
    )
    username: str | None = spec("user name", default=None)
    password_env: str | None = spec("environment variable that holds the password", default=None)
    tls: TlsConfig | None = spec("TLS settings; absent means plain TCP", default=None)
    keepalive_s: int = spec("MQTT keep-alive", default=15, minimum=5, maximum=3600)
    session_expiry_s: int = spec(
        "how long the broker keeps the session (and queues QoS 1 events) while the wall is away",
        default=7 * 86400,
        minimum=0,
    )
    reconnect_min_s: float = spec("first reconnect delay (doubles each try)", default=0.5, minimum=0.05)
    reconnect_max_s: float = spec("longest reconnect delay", default=30.0, minimum=0.1)
    max_payload_bytes: int = spec("largest accepted event", default=MAX_PAYLOAD_BYTES, minimum=256)
    state_prefix: str | None = spec("prefix of the wall's own topics; default wallctl/<wall_id>", default=None)
    command_token_env: str | None = spec("environment variable holding the command token", default=None)
    command_token: str | None = spec("command token (prefer command_token_env)", default=None)
    link_grace_s: float = spec("broker link down longer than this raises an alarm", default=10.0, minimum=0)
    alarms_topic_max: int = spec(
        "most alarms listed on <prefix>/alarms (the most important first, with the total)",
        default=1000,
        minimum=1,
        maximum=100_000,
    )


@dataclass(frozen=True)
class Heartbeat:
    interval_s: float = spec("a feed silent longer than this raises a stale-feed alarm", minimum=1)
    source: str | None = spec("watch events from this source", default=None)
    topic: str | None = spec("or watch messages on this topic filter", default=None)
    name: str | None = spec("name shown in the alarm; default the source or topic", default=None)

    def __post_init__(self) -> None:
        if (self.source is None) == (self.topic is None):
            raise ValueError("a heartbeat needs exactly one of 'source' or 'topic'")


@dataclass(frozen=True)
class CorrelationSpec:
    alarm_type: str = spec("the alarm type the group's events fold into")
    raise_types: tuple[str, ...] = spec("event types that raise it", alias="raise")
    clear_types: tuple[str, ...] = spec("event types that clear it", default=(), alias="clear")


@dataclass(frozen=True)
class MaintenanceSpec:
    start: str = spec("RFC 3339 start")
    end: str = spec("RFC 3339 end")
    match: AlarmMatch = spec("which alarms the window suppresses")
    reason: str = spec("shown with the suppressed alarms", default="")


@dataclass(frozen=True)
class EngineConfig:
    chatter_transitions: int = spec("transitions that make an alarm chattering", default=3, minimum=2)
    chatter_window_s: float = spec("...within this many seconds", default=60.0, minimum=1)
    stale_after_s: float = spec("active longer than this is stale", default=86400.0, minimum=60)
    max_shelve_s: float = spec("longest shelve an operator may ask for", default=28800.0, minimum=60)
    flood_window_s: float = spec("EEMUA 191 rate window", default=600.0, minimum=10)
    flood_start_above: int = spec("new alarms per window that start a flood", default=10, minimum=1)
    flood_end_below: int = spec("new alarms per window below which a flood ends", default=5, minimum=1)
    correlation: tuple[CorrelationSpec, ...] = spec("event types that are one alarm", default=())
    latching: tuple[AlarmMatch, ...] = spec("alarm classes that stay until reset (acknowledged)", default=())
    suppression_root: str | None = spec("topology node seen as the root for consequence analysis", default=None)
    down_types: tuple[str, ...] = spec(
        "alarm types that mean 'node down'",
        default=("node_down", "host_down", "device_down", "unreachable", "ping_lost"),
    )
    maintenance: tuple[MaintenanceSpec, ...] = spec("planned windows that suppress alarms by design", default=())
    clock_skew_s: float = spec(
        "tolerance between sources' clocks: a clear stamped more than this before the raise it would clear does "
        "not clear it, and a raise stamped more than this before the last clear does not raise again",
        default=60.0,
        minimum=0,
    )
    max_event_age_s: float = spec(
        "a live event stamped longer ago than this is rejected (bad_time); retained ones are the current picture",
        default=7 * 86400.0,
        minimum=60,
    )
    max_event_future_s: float = spec(
        "an event stamped further ahead of the wall's clock than this is rejected (bad_time)",
        default=3600.0,
        minimum=1,
    )

    def policy(self) -> EnginePolicy:
        return EnginePolicy(
            chatter_transitions=self.chatter_transitions,
            chatter_window_s=self.chatter_window_s,
            stale_after_s=self.stale_after_s,
            max_shelve_s=self.max_shelve_s,
            flood=FloodPolicy(self.flood_window_s, self.flood_start_above, self.flood_end_below),
            correlation=tuple(
                CorrelationGroup(c.alarm_type, frozenset(c.raise_types), frozenset(c.clear_types))
                for c in self.correlation
            ),
            latching=self.latching,
            down_types=frozenset(self.down_types),
            clock_skew_s=self.clock_skew_s,
        )


@dataclass(frozen=True)
class HotkeyConfig:
    ack: str = spec("acknowledge the selected (or highest) alarm", default="A")
    ack_all: str = spec("acknowledge all", default="Shift+A")
    silence: str = spec("silence the horn for silence_s", default="S")
    shelve: str = spec("shelve the selected (or highest) alarm for shelve_s", default="H")
    pin: str = spec("pin the current mode for pin_s", default="P")
    release: str = spec("release a pin, back to the rules", default="R")
    diagnostics: str = spec("show or hide the diagnostics view", default="D")
    next_alarm: str = spec("select the next alarm", default="Down")
    previous_alarm: str = spec("select the previous alarm", default="Up")
    audio_test: str = spec("sound self-test: every sound once, named on the banner", default="Ctrl+T")
    quit: str = spec("close the wall (asks nothing: the wall PC is attended)", default="Ctrl+Q")


@dataclass(frozen=True)
class OperatorConfig:
    pin_s: float = spec("how long a manual mode switch pins the mode", default=900.0, minimum=10)
    silence_s: float = spec("how long the silence key mutes the horn", default=120.0, minimum=5)
    shelve_s: float = spec("how long the shelve key shelves an alarm", default=3600.0, minimum=60)
    hotkeys: HotkeyConfig = spec("key bindings", default_factory=HotkeyConfig)
    command_max_age_s: float = spec(
        "a command older than this (its 'time' field), or queued while the wall was offline, is refused as stale",
        default=30.0,
        minimum=1,
    )


@dataclass(frozen=True)
class AudioConfig:
    enabled: bool = spec("play sounds at all (the wall still shows what would sound)", default=True)
    retry_s: float = spec("retry the audio device this often after an error", default=10.0, minimum=1)
    card: str | None = spec(
        "ALSA sound card (name or number, as 'aplay -l' lists them) the alarm sounds go to; sets ALSA_CARD for "
        "ALSA's default device. Default: the system's default card",
        default=None,
    )
    open_timeout_s: float = spec(
        "an audio device that takes longer than this to open or accept a sound is failed (shown, retried)",
        default=0.5,
        minimum=0.05,
    )


@dataclass(frozen=True)
class ControllerConfig:
    id: str | None = spec(
        "this controller's name; set it (or --id) on each of two controllers of one wall for hot standby: both "
        "ingest and journal everything, one at a time is active. Unset: the only controller, always active",
        default=None,
    )
    role: Literal["primary", "standby"] = spec(
        "which of the two takes the wall when both are up (a controller that comes back joins as standby)",
        default="primary",
    )
    lease_s: float = spec(
        "a controller silent this long (killed, or its PC off the network) is gone: the other takes over",
        default=2.0,
        minimum=1.0,
        maximum=30.0,
    )


@dataclass(frozen=True)
class GatewayTls:
    cert_file: str = spec("server certificate (PEM)")
    key_file: str = spec("its private key (PEM)")


@dataclass(frozen=True)
class GatewayConfig:
    enabled: bool = spec("wallctl run and demo also start the gateway", default=False)
    http: str | None = spec("HOST:PORT of the webhook routes; none turns HTTP off", default="127.0.0.1:9464")
    syslog: str | None = spec("HOST:PORT of the syslog listener (UDP and TCP); default off", default=None)
    token_env: str | None = spec("environment variable holding the bearer token senders must present", default=None)
    token: str | None = spec("the bearer token itself (prefer token_env)", default=None)
    tls: GatewayTls | None = spec("serve HTTPS with this certificate; absent means plain HTTP", default=None)
    max_body_bytes: int = spec("largest request body accepted (413 above)", default=1024 * 1024, minimum=1024)
    publish_timeout_s: float = spec(
        "the broker must acknowledge a request's events within this time, or the sender gets 503 and retries",
        default=5.0,
        minimum=0.1,
    )
    topic_base: str | None = spec(
        "where converted events are published: <topic_base>/<profile>/<source>; default the base of the first "
        "subscribed topic filter (noc/events)",
        default=None,
    )


_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class ThemeConfig:
    severity_colors: dict[str, str] = spec(
        "colour per severity as #rrggbb (critical, major, minor, warning, indeterminate, cleared); the defaults "
        "stay apart for colour-blind eyes, and shape and label remain a second cue",
        default_factory=dict,
    )

    def __post_init__(self) -> None:
        for name, colour in self.severity_colors.items():
            if name not in SEVERITY_NAMES:
                raise ValueError(f"severity_colors: {name!r} is not a severity; expected {', '.join(SEVERITY_NAMES)}")
            if not _HEX.match(colour):
                raise ValueError(f"severity_colors.{name}: {colour!r} is not a #rrggbb colour")


@dataclass(frozen=True)
class WallctlConfig:
    wall_id: str = spec("this wall's id; names its MQTT topics", default="wall")
    layouts: str = spec("directory with wall.yaml, modes and rules.yaml", default="../layouts")
    topology: str | None = spec("topology file (YAML or GraphML)", default="../topology/estate.yaml")
    topology_source_key: str | None = spec(
        "GraphML topologies: the node attribute whose value events name a node by (their 'source'), e.g. name; "
        "default the node's GraphML id",
        default=None,
    )
    sounds: str = spec("sound map file", default="../sounds/soundmap.yaml")
    journal: str = spec("SQLite journal of alarm state and audit log", default="../var/journal.sqlite3")
    journal_retention_days: float = spec("audit entries older than this are deleted", default=400.0, minimum=1)
    mqtt: MqttConfig = spec("broker connection", default_factory=MqttConfig)
    heartbeats: tuple[Heartbeat, ...] = spec("feeds that must speak regularly", default=())
    engine: EngineConfig = spec("alarm engine policy", default_factory=EngineConfig)
    operator: OperatorConfig = spec("operator actions", default_factory=OperatorConfig)
    audio: AudioConfig = spec("audio output", default_factory=AudioConfig)
    kpis: tuple[KpiSpec, ...] = spec("KPI series read from MQTT, for KPI tiles; thresholds raise alarms", default=())
    theme: ThemeConfig = spec("colours of the wall", default_factory=ThemeConfig)
    profiles: str | None = spec(
        "payload profile maps (severity maps, labels, syslog levels); default the built-in maps", default=None
    )
    controller: ControllerConfig = spec("hot standby: this controller's id and role", default_factory=ControllerConfig)
    gateway: GatewayConfig = spec(
        "wallctl gateway: webhooks and syslog from tools that cannot speak MQTT", default_factory=GatewayConfig
    )
    sites: tuple[Site, ...] = spec(
        "branch sites whose brokers are bridged to this one (wallctl bridge-config writes the bridge)", default=()
    )
    incidents: IncidentsConfig | None = spec(
        "open an incident per cause in the center's ticket system (webhook or Request Tracker)", default=None
    )
    escalation: EscalationConfig | None = spec(
        "tell people by e-mail and SMS when alarms stay unacknowledged", default=None
    )
    outputs: tuple[OutputSpec, ...] = spec("beacons, stack lights and relays (modbus_tcp, mqtt, http)", default=())
    lights: tuple[LightRule, ...] = spec("which pattern each output channel shows; first match wins", default=())

    def __post_init__(self) -> None:
        for t in self.mqtt.topic_templates:
            TopicTemplate(t)  # raises ValueError with the reason


@dataclass(frozen=True)
class LoadedConfig:
    model: WallctlConfig
    path: Path

    def resolve(self, relative: str) -> Path:
        p = Path(os.path.expandvars(os.path.expanduser(relative)))
        return p if p.is_absolute() else (self.path.parent / p).resolve()

    @property
    def state_prefix(self) -> str:
        return self.model.mqtt.state_prefix or f"wallctl/{self.model.wall_id}"

    @property
    def client_id(self) -> str:
        """Two controllers of one wall need sessions of their own (one client id would kick the other off)."""
        base = self.model.mqtt.client_id or f"wallctl-{self.model.wall_id}"
        cid = self.model.controller.id
        return f"{base}-{cid}" if cid else base

    def command_token(self) -> str | None:
        """The token commands must carry; None only when the config says so (``command_token: none``).

        A config that names ``command_token_env`` looks protected: with that variable unset the wall would take
        commands from anyone, so that is refused (:class:`TokenMissing`) instead of silently accepted."""
        m = self.model.mqtt
        value = os.environ.get(m.command_token_env) if m.command_token_env else None
        if value:
            return value
        if m.command_token and m.command_token.lower() != "none":
            return m.command_token
        if m.command_token_env and not m.command_token:
            raise TokenMissing(
                f"{self.path}: mqtt.command_token_env names {m.command_token_env}, but that variable is not set, "
                "so anyone on the broker could acknowledge, silence or shelve alarms. Set it (export "
                f"{m.command_token_env}=...), or write 'command_token: none' under mqtt to run without a token "
                "on purpose"
            )
        return None

    def password(self) -> str | None:
        env = self.model.mqtt.password_env
        return os.environ.get(env) if env else None

    def gateway_token(self) -> str | None:
        g = self.model.gateway
        value = os.environ.get(g.token_env) if g.token_env else None
        if g.token_env and not value and not g.token:
            raise TokenMissing(
                f"{self.path}: gateway.token_env names {g.token_env}, but that variable is not set, so anyone could "
                f"post alarms to the wall. Set it (export {g.token_env}=...), or remove token_env to run without one"
            )
        return value or g.token

    def event_topic_base(self) -> str:
        """Where the gateway publishes: the configured base, else the first subscribed filter up to its first
        wildcard (``noc/events/#`` gives ``noc/events``), so the wall hears what the gateway sends."""
        base = self.model.gateway.topic_base
        if base:
            return base.rstrip("/")
        native = [s.filter for s in self.model.mqtt.subscriptions if s.profile is None]
        first = native[0] if native else "noc/events/#"
        levels = []
        for level in first.split("/"):
            if level in ("#", "+"):
                break
            levels.append(level)
        return "/".join(levels) or "noc/events"


class TokenMissing(RuntimeError):
    """The config names a command-token variable that is not set (a usage error: exit 2)."""


def config_path(explicit: str | None) -> Path:
    """--config, then $WALLCTL_CONFIG, then config/wallctl.yaml (the contract's order)."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("WALLCTL_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


def load_config(path: str | Path) -> LoadedConfig:
    doc = load_yaml(path)
    if doc.data is None:
        raise ConfigError([doc.problem((), "the configuration file is empty")])
    return LoadedConfig(build_doc(WallctlConfig, doc, checks=(check_sites, check_outputs)), Path(path).resolve())
