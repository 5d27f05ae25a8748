"""What every payload profile shares: its error, its configurable maps, its signature.

A profile turns one foreign message (an Alertmanager webhook, a Zabbix media-type POST, an snmptrapd trap...)
into zero or more native event objects: plain dicts that :func:`wallctl.core.alarms.event.event_from_object`
then validates like any MQTT event. The maps are frozen dataclasses so ``config/profiles.yaml`` is validated by
the same :mod:`wallctl.core.files.spec` machinery as every other file, with ``file:line:col`` errors.

Map fields that are dictionaries are merged over their defaults (keys compared without case), so a file that
adds one label value does not silently drop the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from wallctl.core.files.spec import spec
from wallctl.core.severity import Severity


class ProfileError(ValueError):
    """A foreign payload the profile cannot take; the message names the field, its value and what was expected."""


# ---------------------------------------------------------------------------- defaults, spelled out once
ALERT_SEVERITIES: dict[str, Severity] = {
    "critical": Severity.CRITICAL,
    "warning": Severity.WARNING,
    "info": Severity.INDETERMINATE,
}
ZABBIX_SEVERITY_NAMES = ("Not classified", "Information", "Warning", "Average", "High", "Disaster")  # NSEVERITY 0-5
ZABBIX_SEVERITIES: dict[str, Severity] = {
    "Not classified": Severity.INDETERMINATE,
    "Information": Severity.INDETERMINATE,
    "Warning": Severity.WARNING,
    "Average": Severity.MINOR,
    "High": Severity.MAJOR,
    "Disaster": Severity.CRITICAL,
}
NAGIOS_STATES: dict[str, Severity] = {
    "CRITICAL": Severity.CRITICAL,
    "DOWN": Severity.CRITICAL,
    "UNREACHABLE": Severity.MAJOR,
    "WARNING": Severity.WARNING,
    "UNKNOWN": Severity.INDETERMINATE,
    "OK": Severity.CLEARED,
    "UP": Severity.CLEARED,
}
# Nagios and Icinga 2 notification types; those that do not change the object's state are ignored by default
NAGIOS_TYPES = (
    "PROBLEM",
    "RECOVERY",
    "ACKNOWLEDGEMENT",
    "FLAPPINGSTART",
    "FLAPPINGSTOP",
    "FLAPPINGEND",
    "FLAPPINGDISABLED",
    "DOWNTIMESTART",
    "DOWNTIMEEND",
    "DOWNTIMECANCELLED",
    "DOWNTIMEREMOVED",
    "CUSTOM",
)
NAGIOS_IGNORED = (
    "ACKNOWLEDGEMENT",
    "DOWNTIMESTART",
    "DOWNTIMEEND",
    "DOWNTIMECANCELLED",
    "DOWNTIMEREMOVED",
    "CUSTOM",
)
SNMP_KINDS = ("link_down", "cold_start", "warm_start", "authentication_failure", "other")
SNMP_SEVERITIES: dict[str, Severity] = {
    "link_down": Severity.MAJOR,
    "cold_start": Severity.WARNING,
    "warm_start": Severity.WARNING,
    "authentication_failure": Severity.MINOR,
    "other": Severity.WARNING,
}
SYSLOG_LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")  # index = RFC 5424 code
SyslogLevel = Literal["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
SyslogAction = Literal["critical", "major", "minor", "warning", "indeterminate", "cleared", "drop"]
SYSLOG_ACTIONS: dict[str, SyslogAction] = {
    "emerg": "critical",
    "alert": "critical",
    "crit": "critical",
    "err": "major",
    "warning": "warning",
    "notice": "indeterminate",
    "info": "indeterminate",
    "debug": "indeterminate",
}


def _merged(defaults: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` over ``defaults``, keyed without case (``High`` and ``high`` are one Zabbix severity)."""
    out = {k.casefold(): v for k, v in defaults.items()}
    out.update({str(k).casefold(): v for k, v in given.items()})
    return out


# ---------------------------------------------------------------------------- per-profile maps
@dataclass(frozen=True)
class AlertmanagerMaps:
    """Alertmanager webhook v4: which labels name the alarm, how the severity label reads, the Watchdog."""

    source_labels: tuple[str, ...] = spec(
        "labels tried in order for the alarm's source (the managed object); an alert with none is rejected",
        default=("instance", "job"),
    )
    default_source: str | None = spec(
        "source of an alert that has none of the source labels; null rejects such an alert", default=None
    )
    type_labels: tuple[str, ...] = spec("labels tried in order for the alarm's type", default=("alertname",))
    severity_label: str = spec("label holding the alert's severity", default="severity")
    severities: dict[str, Severity] = spec(
        "severity label value -> severity, merged over critical: critical, warning: warning, info: indeterminate",
        default_factory=dict,
    )
    default_severity: Severity = spec(
        "severity of a firing alert whose severity label is missing or not in 'severities'", default=Severity.WARNING
    )
    category_label: str | None = spec("label whose value becomes the event's category", default="category")
    category: str | None = spec("category when the alert has no category label", default=None)
    watchdog_alertname: str | None = spec(
        "alertname of the always-firing heartbeat alert: it becomes a heartbeat event, never an alarm; null: none",
        default="Watchdog",
    )
    watchdog_source: str = spec(
        "source of the heartbeat event (type 'watchdog'); watch it with a heartbeat entry in wallctl.yaml",
        default="alertmanager",
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "severities", _merged(ALERT_SEVERITIES, self.severities))


@dataclass(frozen=True)
class GrafanaMaps(AlertmanagerMaps):
    """Grafana alerting webhook and MQTT contact point: the same alert shape as Alertmanager's."""

    default_source: str | None = spec(
        "source of an alert that has none of the source labels (a rule over a query without instance or job)",
        default="grafana",
    )
    watchdog_alertname: str | None = spec(
        "alertname of an always-firing heartbeat rule, if you keep one; null: none", default=None
    )
    watchdog_source: str = spec("source of the heartbeat event (type 'watchdog')", default="grafana")


@dataclass(frozen=True)
class ZabbixMaps:
    """The JSON of the shipped Zabbix webhook media type (integrations/zabbix/wallctl_mediatype.yaml)."""

    severities: dict[str, Severity] = spec(
        "Zabbix severity name -> severity, merged over Disaster: critical, High: major, Average: minor, "
        "Warning: warning, Information and Not classified: indeterminate",
        default_factory=dict,
    )
    default_severity: Severity = spec(
        "severity of a problem whose Zabbix severity is missing or renamed", default=Severity.WARNING
    )
    category_tag: str | None = spec("event tag whose value becomes the category", default="category")
    category: str | None = spec("category when the event has no such tag", default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "severities", _merged(ZABBIX_SEVERITIES, self.severities))


@dataclass(frozen=True)
class NagiosMaps:
    """Nagios and Icinga notifications as the shipped integrations/icinga/wallctl-notify sends them."""

    states: dict[str, Severity] = spec(
        "state -> severity, merged over CRITICAL and DOWN: critical, UNREACHABLE: major, WARNING: warning, "
        "UNKNOWN: indeterminate, OK and UP: cleared",
        default_factory=dict,
    )
    ignore_types: tuple[str, ...] = spec(
        "notification types that change nothing on the wall (the wall has its own acknowledgement and "
        "maintenance windows)",
        default=NAGIOS_IGNORED,
    )
    host_type: str = spec("alarm type of host notifications (no service description)", default="host_down")
    category: str | None = spec("category of the events", default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "states", _merged(NAGIOS_STATES, self.states))


@dataclass(frozen=True)
class SnmpMaps:
    """Net-SNMP snmptrapd traphandle input (integrations/snmp/wallctl-traphandle)."""

    source: Literal["address", "hostname"] = spec(
        "address: the agent's IP as the trap arrived (then snmpTrapAddress.0, then the host name); "
        "hostname: snmptrapd's reverse lookup when it found one, else the address",
        default="address",
    )
    interface_key: Literal["type", "source"] = spec(
        "how linkDown/linkUp name one alarm per interface: type 'link_down:<ifName, ifDescr or ifIndex>' on the "
        "agent (topology links light up), or source '<agent>/<interface>' with type 'link_down'",
        default="type",
    )
    severities: dict[str, Severity] = spec(
        "trap kind (link_down, cold_start, warm_start, authentication_failure, other) -> severity, merged over "
        "major, warning, warning, minor, warning; linkUp always clears",
        default_factory=dict,
    )
    category: str = spec("category of traps (authenticationFailure is always 'security')", default="network")

    def __post_init__(self) -> None:
        object.__setattr__(self, "severities", _merged(SNMP_SEVERITIES, self.severities))


@dataclass(frozen=True)
class SyslogMaps:
    """RFC 5424 and RFC 3164 syslog messages."""

    levels: dict[str, SyslogAction] = spec(
        "syslog level (emerg..debug) -> severity or 'drop', merged over emerg, alert, crit: critical; err: major; "
        "warning: warning; notice, info, debug: indeterminate",
        default_factory=dict,
    )
    drop_below: SyslogLevel | None = spec(
        "drop every message less severe than this level (e.g. notice drops info and debug); null keeps all",
        default=None,
    )
    type_pattern: str | None = spec(
        "regular expression searched in the message; its named group 'type' becomes the alarm type "
        "(no match: the app-name or tag)",
        default=None,
    )
    source: Literal["hostname", "peer"] = spec(
        "hostname: the message's HOSTNAME (the sender's address when it has none); peer: always the sender's address",
        default="hostname",
    )
    category: str | None = spec("category of the events", default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", _merged(SYSLOG_ACTIONS, self.levels))


@dataclass(frozen=True)
class ProfileMaps:
    """config/profiles.yaml: how each payload profile turns a foreign message into native events."""

    alertmanager: AlertmanagerMaps = spec("Alertmanager webhook (POST /alertmanager)", default_factory=AlertmanagerMaps)
    grafana: GrafanaMaps = spec("Grafana alerting webhook or MQTT contact point", default_factory=GrafanaMaps)
    zabbix: ZabbixMaps = spec("the shipped Zabbix media type (POST /zabbix)", default_factory=ZabbixMaps)
    nagios: NagiosMaps = spec("Nagios notifications (wallctl-notify)", default_factory=NagiosMaps)
    icinga: NagiosMaps = spec("Icinga notifications (wallctl-notify, POST /icinga)", default_factory=NagiosMaps)
    snmptrap: SnmpMaps = spec("snmptrapd traphandle input", default_factory=SnmpMaps)
    syslog: SyslogMaps = spec("RFC 5424 / RFC 3164 syslog", default_factory=SyslogMaps)


Profile = Callable[[bytes, ProfileMaps, float], list[dict[str, Any]]]
"""(payload, maps, received epoch seconds) -> native event objects; raises :class:`ProfileError`."""
