"""``outputs:`` and ``lights:`` in config/wallctl.yaml: the beacons, stack lights and relays, and which pattern each of
their channels shows.

Everything that can be checked without the network is checked here, at its place in the file: a channel named by a
rule that no output has, a coil given to an MQTT relay, a placeholder a template does not know. Credentials live in
environment variables that only the controller and the lamp test need (:func:`check_output_credentials`).
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from typing import Any, Literal, get_type_hints

from wallctl.core.files.spec import Builder, did_you_mean, dotted, spec
from wallctl.core.files.template import Template
from wallctl.core.files.yamldoc import Doc, PathKey, Problem
from wallctl.core.severity import Severity

Pattern = Literal["off", "steady", "slow", "fast", "horn"]
Drive = Literal["off", "steady", "slow", "fast"]  # what a channel does now (``horn`` resolved)
DRIVES: tuple[Drive, ...] = ("off", "steady", "slow", "fast")
Driver = Literal["modbus_tcp", "mqtt", "http"]
Priority = Literal["high", "medium", "low", "cue"]
StateName = Literal["UNACK", "ACKED", "RTNUN", "SHLVD", "DSUPR", "OOSRV"]
Payload = int | str

TOPIC_FIELDS = ("output", "channel", "index")
REQUEST_FIELDS = ("output", "channel", "index", "value", "pattern")
DEFAULT_PAYLOADS: dict[str, dict[str, Payload]] = {
    "modbus_tcp": {"off": 0, "steady": 1},
    "mqtt": {"off": "OFF", "steady": "ON"},
    "http": {"off": "off", "steady": "on"},
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ONLY: dict[str, tuple[Driver, ...]] = {  # keys that mean something to some drivers only
    "unit": ("modbus_tcp",),
    "topic": ("mqtt",),
    "tls": ("mqtt",),
    "url": ("http",),
    "method": ("http",),
    "body": ("http",),
    "headers": ("http",),
    "token_env": ("http",),
    "check_url": ("http",),
    "username": ("mqtt", "http"),
    "password_env": ("mqtt", "http"),
}


@dataclass(frozen=True)
class ChannelSpec:
    """One lamp, buzzer or relay of an output."""

    coil: int | None = spec(
        "modbus_tcp: the coil (protocol address, from 0) switched on and off", default=None, minimum=0, maximum=65535
    )
    register: int | None = spec(
        "modbus_tcp: the holding register (from 0) written with the channel's payloads", default=None, minimum=0,
        maximum=65535,
    )  # fmt: skip
    index: int | None = spec(
        "mqtt, http: the relay's number, {index} in the topic, URL and body templates", default=None, minimum=0
    )
    payloads: dict[Drive, Payload] = spec(
        "what is written for each pattern (off, steady; slow and fast when the device flashes by itself, else "
        "wallctl switches steady and off); default the output's",
        default_factory=dict,
    )


@dataclass(frozen=True)
class OutputSpec:
    """A beacon, stack light or relay module, and the driver that reaches it."""

    name: str = spec("the output's name: its alarm is source output/<name>, type output_failed")
    driver: Driver = spec(
        "modbus_tcp: coils or holding registers (pymodbus); mqtt: a command topic and payloads (Tasmota, Shelly); "
        "http: a request per change (networked signal towers)"
    )
    channels: dict[str, ChannelSpec] = spec("its channels by name (red, amber, green, blue, buzzer, ...)")
    host: str | None = spec(
        "modbus_tcp: the device; mqtt: the broker the relays listen on (default the wall's broker)", default=None
    )
    port: int | None = spec("default 502 (modbus_tcp), 1883 (mqtt)", default=None, minimum=1, maximum=65535)
    unit: int = spec("modbus_tcp: the device id (unit id) on the gateway", default=1, minimum=0, maximum=255)
    topic: str | None = spec(
        "mqtt: the command topic, with {output}, {channel}, {index}: cmnd/tower-1/POWER{index}", default=None
    )
    tls: bool = spec("mqtt: TLS to the broker with the system's CAs", default=False)
    url: str | None = spec("http: the URL, with {output}, {channel}, {index}, {value}, {pattern}", default=None)
    method: Literal["GET", "POST", "PUT"] = spec("http: the request's method", default="POST")
    body: str | None = spec(
        "http: the request body (same placeholders; a JSON body gets its values JSON-escaped)", default=None
    )
    headers: dict[str, str] = spec("http: extra request headers", default_factory=dict)
    check_url: str | None = spec(
        "http: what 'wallctl outputs --check' GETs (default a HEAD of the URL's root: any answer will do)",
        default=None,
    )
    username: str | None = spec("mqtt, http: log in as this user (needs password_env)", default=None)
    password_env: str | None = spec("mqtt, http: the environment variable holding the password", default=None)
    token_env: str | None = spec(
        "http: the environment variable holding a bearer token (Authorization: Bearer ...)", default=None
    )
    payloads: dict[Drive, Payload] = spec(
        "what is written for each pattern, for every channel; default off/on (registers 0/1, MQTT OFF/ON)",
        default_factory=dict,
    )
    slow_hz: float = spec("slow flash rate (IEC 60073: 0.4 to 0.8 Hz)", default=0.6, minimum=0.4, maximum=0.8)
    fast_hz: float = spec("fast flash rate (IEC 60073: 1.4 to 2.8 Hz)", default=2.0, minimum=1.4, maximum=2.8)
    timeout_s: float = spec(
        "a write not answered within this time fails the output (alarm, retried)", default=1.0, minimum=0.05,
        maximum=30,
    )  # fmt: skip
    retry_min_s: float = spec("first retry after a failure (doubles each time)", default=1.0, minimum=0.1)
    retry_max_s: float = spec("longest wait between retries", default=30.0, minimum=0.1)
    refresh_s: float = spec(
        "every channel is written again this often (a device that was power-cycled gets its pattern back); "
        "0: only at start, reconnect and reload",
        default=30.0,
        minimum=0,
    )

    def payload(self, channel: str, drive: Drive) -> Payload | None:
        """What to write for ``drive`` on ``channel``: the channel's, the output's, the driver's default."""
        for table in (self.channels[channel].payloads, self.payloads, DEFAULT_PAYLOADS[self.driver]):
            if drive in table:
                return table[drive]
        return None

    def flashes_itself(self, channel: str, drive: Drive) -> bool:
        """The device has a payload for this flash rate: it flashes, wallctl does not switch it."""
        return (
            drive in ("slow", "fast")
            and self.channels[channel].coil is None
            and self.payload(channel, drive) is not None
        )

    def hz(self, drive: Drive) -> float:
        return self.slow_hz if drive == "slow" else self.fast_hz


@dataclass(frozen=True)
class LightWhen:
    """Alarms that make a rule match; all given criteria must hold, a list means any of its items."""

    priority: Priority | tuple[Priority, ...] = spec(
        "the sound map's priority of the alarm (high, medium, low, cue)", default=()
    )
    state: StateName | tuple[StateName, ...] = spec(
        "the alarm's ISA-18.2 state; default UNACK, ACKED and RTNUN (shelved and suppressed alarms light nothing)",
        default=(),
    )
    severity: Severity | tuple[Severity, ...] = spec("the alarm's severity (its peak once cleared)", default=())


@dataclass(frozen=True)
class LightRule:
    """``{when: ..., red: fast, buzzer: horn}``: first match wins, per channel; unmatched channels are off."""

    when: Literal["calm", "untrusted"] | LightWhen = spec(
        "an alarm condition, or calm (nothing active, every feed and link healthy), or untrusted (broker link or "
        "controller lost)"
    )
    channels: dict[str, Pattern] = spec(
        "channel: pattern (off, steady, slow, fast, horn: on while the horn sounds)", default_factory=dict, rest=True
    )

    def __post_init__(self) -> None:
        if not self.channels:
            raise ValueError("the rule sets no channel; add e.g. 'red: steady'")


def as_tuple(value: Any) -> tuple[Any, ...]:
    """A criterion given as one value or a list of them."""
    return value if isinstance(value, tuple) else (value,)


# ---------------------------------------------------------------------------- checks on the document as written
class _Found:
    """Problems of one document, each at its place (the value's, or its key's)."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def add(self, path: PathKey, message: str, *, key: bool = False, warning: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, key=key, level="warning" if warning else "error"))


def check_outputs(doc: Doc, warnings: list[Problem] | None = None) -> list[Problem]:
    """What one field cannot say about itself, at its place: what each driver needs and refuses, names used twice,
    channels no output has. An output with a broken field is still checked on its other fields (every independent
    problem in one run). Returns the errors; ``warnings`` (outputs nothing drives) go to that list when given
    (``validate``, the controller's log)."""
    data = doc.data if isinstance(doc.data, dict) else {}
    raw_outputs: list[Any] = data["outputs"] if isinstance(data.get("outputs"), list) else []
    found = _Found(doc)
    names: dict[str, int] = {}
    channels: set[str] = set()
    for i, raw in enumerate(raw_outputs):
        at: PathKey = ("outputs", i)
        if not isinstance(raw, dict):
            continue
        name = raw.get("name")
        if isinstance(name, str) and not _NAME.match(name):
            found.add((*at, "name"), f"outputs[{i}].name: {name!r}: letters, digits, '_', '.' and '-' only, at "
                      "most 64 (it names the alarm source output/<name>)")  # fmt: skip
        elif isinstance(name, str) and name in names:
            found.add((*at, "name"), f"outputs[{i}].name: {name!r} is used twice (also outputs[{names[name]}])")
        if isinstance(name, str):
            names.setdefault(name, i)
        if isinstance(raw.get("channels"), dict):
            channels |= {str(c) for c in raw["channels"]}
        o = _lenient(doc, raw, at)
        if o is not None:
            _check_driver(found, at, o, raw)
            _check_channels(found, at, o)
    rules = Builder(doc).build(tuple[LightRule, ...], data.get("lights"), ("lights",)) if "lights" in data else ()
    if not rules and names:
        found.add(("outputs",), "outputs: there are no 'lights' rules, so every channel stays off; add e.g. "
                  "'- {when: calm, green: steady}'", key=True, warning=True)  # fmt: skip
    for i, rule in enumerate(rules or ()):
        for channel in rule.channels if rule is not None else ():
            where = ("lights", i, channel)
            if not names:
                found.add(where, f"lights[{i}].{channel}: no outputs are configured", key=True, warning=True)
            elif channel not in channels:  # rules may be shared by walls whose towers differ: said, not refused
                hint = did_you_mean(channel, sorted(channels))
                known = ", ".join(sorted(channels))
                found.add(where, f"lights[{i}].{channel}: no output has a channel {channel!r}{hint}, so this lights "
                          f"nothing; channels: {known}", key=True, warning=True)  # fmt: skip
    if warnings is not None:
        warnings += [p for p in found.problems if p.level == "warning"]
    return [p for p in found.problems if p.level == "error"]


def _lenient(doc: Doc, raw: dict[str, Any], at: PathKey) -> OutputSpec | None:
    """The output built from its valid fields and channels only (the others are the model's problems), so that
    what can still be checked is; None without a valid driver."""
    hints = get_type_hints(OutputSpec)
    good: dict[str, Any] = {"name": "", "channels": {}}
    for f in dataclasses.fields(OutputSpec):
        value = raw.get(f.name)
        if f.name not in raw:
            continue
        if f.name == "channels" and isinstance(value, dict):
            built = {k: Builder(doc).build_model(ChannelSpec, v, (*at, f.name, k)) for k, v in value.items()}
            good[f.name] = {k: c for k, c in built.items() if c is not None}
            continue
        b = Builder(doc)
        value = b.build(hints[f.name], value, (*at, f.name))
        if not b.problems:
            good[f.name] = value
    return OutputSpec(**good) if "driver" in good else None


def _check_driver(found: _Found, at: PathKey, o: OutputSpec, raw: dict[str, Any]) -> None:
    """What the driver needs and refuses, and its templates."""
    d, name = o.driver, dotted(at)
    for key, drivers in _ONLY.items():
        if key in raw and d not in drivers:
            found.add((*at, key), f"{name}.{key}: only for the {' and '.join(drivers)} driver, not {d}", key=True)
    needs = {"modbus_tcp": "host", "mqtt": "topic", "http": "url"}[d]
    if getattr(o, needs) is None:
        found.add(at, f"{name}: the {d} driver needs '{needs}'")
    if (o.username is None) != (o.password_env is None):
        key = "username" if o.username is not None else "password_env"
        found.add((*at, key), f"{name}.{key}: username and password_env go together (log in with both, or neither)")
    if o.retry_max_s < o.retry_min_s:
        found.add((*at, "retry_max_s"), f"{name}.retry_max_s: {o.retry_max_s:g} is less than retry_min_s")
    for key, fields in (("topic", TOPIC_FIELDS), ("url", REQUEST_FIELDS), ("body", REQUEST_FIELDS)):
        text = getattr(o, key)
        try:
            if text is not None:
                Template(text, fields)
        except ValueError as exc:
            found.add((*at, key), f"{name}.{key}: {exc}")
    if o.topic is not None and ("+" in o.topic or "#" in o.topic):
        found.add((*at, "topic"), f"{name}.topic: {o.topic!r} holds an MQTT wildcard; a command goes to one topic")
    for key in ("url", "check_url"):
        text = getattr(o, key)
        if text is not None and not re.match(r"^https?://[^/\s{}]+", text):
            found.add((*at, key), f"{name}.{key}: {text!r} is not an http:// or https:// URL with a fixed host")


def _check_channels(found: _Found, at: PathKey, o: OutputSpec) -> None:
    """Modbus channels: one coil or register each, not shared; registers take 16-bit payloads; coils none."""
    taken: dict[tuple[str, int], str] = {}
    for channel, ch in o.channels.items():
        where, name = (*at, "channels", channel), dotted((*at, "channels", channel))
        if o.driver != "modbus_tcp":
            for kind in ("coil", "register"):
                if getattr(ch, kind) is not None:
                    found.add((*where, kind), f"{name}.{kind}: only for the modbus_tcp driver", key=True)
            _check_index(found, where, name, o, channel, ch.index, taken)
            continue
        if (ch.coil is None) == (ch.register is None):
            found.add(where, f"{name}: give exactly one of coil or register")
        for kind, address in (("coil", ch.coil), ("register", ch.register)):
            other = taken.setdefault((kind, address), channel) if address is not None else channel
            if other != channel:
                found.add((*where, kind), f"{name}.{kind}: {address} is channel {other}'s too")
        if ch.coil is not None and ch.payloads:
            found.add(
                (*where, "payloads"), f"{name}.payloads: a coil is on or off; payloads are for registers", key=True
            )
        for drive in DRIVES if ch.register is not None else ():
            value = o.payload(channel, drive)
            if value is not None and not (
                isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535
            ):
                found.add((*where, "payloads"), f"{name}: a register takes 0 to 65535, not {value!r} ({drive})")


def _check_index(
    found: _Found, where: PathKey, name: str, o: OutputSpec, channel: str, index: int | None, taken: dict[Any, str]
) -> None:
    """A topic or URL that names ``{index}`` needs one per channel, each its own: without it a Tasmota
    ``cmnd/dev/POWER`` switches relay 1, another channel's lamp."""
    uses = [k for k in ("topic", "url", "body") if "{index}" in (getattr(o, k) or "")]
    if not uses:
        return
    if index is None:
        found.add(where, f"{name}: the {uses[0]} names {{index}}: give this channel its relay's 'index'")
        return
    other = taken.setdefault(("index", index), channel)
    if other != channel:
        found.add((*where, "index"), f"{name}.index: {index} is channel {other}'s too")


def check_output_credentials(doc: Doc, environ: dict[str, str] | None = None) -> list[Problem]:
    """Each ``password_env``/``token_env`` of an output must name a variable that is set: an output that cannot log
    in would fail forever. Reported at the variable's name in the file."""
    env = os.environ if environ is None else environ
    raw = doc.data.get("outputs") if isinstance(doc.data, dict) else None
    problems: list[Problem] = []
    for i, item in enumerate(raw if isinstance(raw, list) else ()):
        if not isinstance(item, dict):
            continue
        for key in ("password_env", "token_env"):
            value = item.get(key)
            if isinstance(value, str) and not env.get(value):
                message = f"outputs[{i}].{key}: the environment variable {value} is not set (export {value}=...)"
                problems.append(doc.problem(("outputs", i, key), message))
    return problems
