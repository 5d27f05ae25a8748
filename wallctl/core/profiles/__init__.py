"""Payload profiles: foreign monitoring messages (Alertmanager, Grafana, Zabbix, Nagios/Icinga, SNMP traps,
syslog) converted into native wallctl event objects, for the gateway and for topic filters that name a profile.

Pure functions of (payload, maps, time of receipt): no I/O, no clock. Their output is validated afterwards by
:func:`wallctl.core.alarms.event.event_from_object` like any MQTT event.
"""

from __future__ import annotations

from typing import Any

from wallctl.core.profiles.alerts import alertmanager, grafana
from wallctl.core.profiles.base import Profile, ProfileError, ProfileMaps
from wallctl.core.profiles.maps import load_profile_maps
from wallctl.core.profiles.nagios import icinga, nagios
from wallctl.core.profiles.snmptrap import snmptrap
from wallctl.core.profiles.syslog import syslog, syslog_message
from wallctl.core.profiles.zabbix import zabbix

__all__ = [
    "PROFILES",
    "Profile",
    "ProfileError",
    "ProfileMaps",
    "convert",
    "load_profile_maps",
    "syslog_message",
]

PROFILES: dict[str, Profile] = {
    "alertmanager": alertmanager,
    "grafana": grafana,
    "zabbix": zabbix,
    "nagios": nagios,
    "icinga": icinga,
    "snmptrap": snmptrap,
    "syslog": syslog,
}


def convert(name: str, payload: bytes, maps: ProfileMaps, received: float) -> list[dict[str, Any]]:
    """Run profile ``name`` on one payload; raises :class:`ProfileError` and nothing else."""
    profile = PROFILES.get(name)
    if profile is None:
        raise ProfileError(f"unknown profile {name!r}; expected one of {', '.join(PROFILES)}")
    try:
        return profile(payload, maps, received)
    except ProfileError:
        raise
    except Exception as exc:  # a bug in a profile costs this payload only, and says where (the gateway logs it)
        raise ProfileError(f"{name}: internal error while converting: {type(exc).__name__}: {exc}") from exc
