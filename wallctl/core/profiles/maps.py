"""``config/profiles.yaml``: the profiles' maps, validated with every problem located at ``file:line:col``.

Types, unknown keys and severity names are the spec builder's; what it cannot know is checked here on the raw
document (so one broken section does not hide another's problems): the keys of the maps (a Zabbix severity, a
Nagios state, a syslog level, a trap kind), notification types, and the syslog type pattern.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from wallctl.core.files.spec import Builder
from wallctl.core.files.yamldoc import ConfigError, Doc, Problem, load_yaml
from wallctl.core.profiles.base import (
    NAGIOS_STATES,
    NAGIOS_TYPES,
    SNMP_KINDS,
    SYSLOG_LEVELS,
    ZABBIX_SEVERITY_NAMES,
    ProfileMaps,
)

# (section, field) -> (allowed keys, what they are); keys compare without case
_MAP_KEYS: dict[tuple[str, str], tuple[Iterable[str], str]] = {
    ("zabbix", "severities"): (ZABBIX_SEVERITY_NAMES, "a Zabbix severity"),
    ("nagios", "states"): (NAGIOS_STATES, "a Nagios/Icinga state"),
    ("icinga", "states"): (NAGIOS_STATES, "a Nagios/Icinga state"),
    ("snmptrap", "severities"): (SNMP_KINDS, "a trap kind"),
    ("syslog", "levels"): (SYSLOG_LEVELS, "a syslog level"),
}
_LISTS: dict[tuple[str, str], tuple[Iterable[str], str]] = {
    ("nagios", "ignore_types"): (NAGIOS_TYPES, "a notification type"),
    ("icinga", "ignore_types"): (NAGIOS_TYPES, "a notification type"),
}
_NON_EMPTY = (
    ("alertmanager", "source_labels"),
    ("alertmanager", "type_labels"),
    ("grafana", "source_labels"),
    ("grafana", "type_labels"),
)


def load_profile_maps(path: str | Path) -> ProfileMaps:
    """Load and check a profiles file; raises :class:`ConfigError` listing every problem. An empty file is the
    defaults."""
    doc = load_yaml(path)
    b = Builder(doc)
    model = b.build_model(ProfileMaps, doc.data, ())
    problems = [*b.problems, *check_document(doc)]
    if problems or model is None:
        raise ConfigError(problems or [doc.problem((), "invalid profiles file")])
    return model


def check_document(doc: Doc) -> list[Problem]:
    """What the types cannot say, on the raw document (sections of the wrong shape are the builder's to report)."""
    data = doc.data if isinstance(doc.data, dict) else {}
    problems: list[Problem] = []
    for (section, name), (allowed, what) in _MAP_KEYS.items():
        value = _field(data, section, name)
        if isinstance(value, dict):
            for key in value:
                message = _unknown(key, allowed, what, f"{section}.{name}")
                if message:
                    problems.append(doc.problem((section, name, key), message, key=True))
    for (section, name), (allowed, what) in _LISTS.items():
        value = _field(data, section, name)
        if isinstance(value, list):
            for i, item in enumerate(value):
                message = _unknown(item, allowed, what, f"{section}.{name}[{i}]")
                if message:
                    problems.append(doc.problem((section, name, i), message))
    for section, name in _NON_EMPTY:
        if _field(data, section, name) == []:
            problems.append(doc.problem((section, name), f"{section}.{name}: name at least one label"))
    pattern = _field(data, "syslog", "type_pattern")
    if isinstance(pattern, str):
        message = pattern_problem(pattern)
        if message:
            problems.append(doc.problem(("syslog", "type_pattern"), f"syslog.type_pattern: {message}"))
    return problems


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot name the alarm type, or None."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return f"{pattern!r} is not a valid regular expression: {exc}"
    if "type" not in compiled.groupindex:
        return f"{pattern!r} has no named group 'type'; write it as (?P<type>...) around the part that names the alarm"
    return None


def _field(data: dict[str, Any], section: str, name: str) -> Any:
    part = data.get(section)
    return part.get(name) if isinstance(part, dict) else None


def _unknown(value: Any, allowed: Iterable[str], what: str, where: str) -> str | None:
    names = list(allowed)
    if isinstance(value, str) and value.casefold() in {n.casefold() for n in names}:
        return None
    close = difflib.get_close_matches(str(value), names, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{where}: {value!r} is not {what}; expected one of {', '.join(names)}{hint}"
