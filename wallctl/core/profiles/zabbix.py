"""Zabbix: the JSON the shipped webhook media type (integrations/zabbix/wallctl_mediatype.yaml) POSTs.

The alarm is (host, trigger name): Zabbix keeps a trigger's name across its problem and recovery as long as the
name holds no item values (Zabbix's advice too: changing values belong in operational data, kept here as text).
A recovery message carries the problem's ``{EVENT.ID}`` with ``{EVENT.VALUE}`` 0, so ids are
``zabbix:<event id>:<value>:<hash>``. Problem updates (acknowledgements, comments) change nothing on the wall:
the wall has its own acknowledgement.
"""

from __future__ import annotations

import re
from typing import Any

from wallctl.core.profiles.base import ZABBIX_SEVERITY_NAMES, ProfileError, ProfileMaps, ZabbixMaps
from wallctl.core.profiles.common import decode_object, epoch, finish, key_text, optional_str, show
from wallctl.core.severity import Severity

_UNRESOLVED = re.compile(r"\{\$?[A-Z0-9_.]+(?::[^}]*)?\}|\*UNKNOWN\*")  # a macro Zabbix could not expand
_EVENT_ID = re.compile(r"[0-9]{1,20}")
_KEPT = (
    "event_id",
    "event_value",
    "event_name",
    "severity",
    "host_host",
    "host_ip",
    "trigger_id",
    "trigger_url",
    "opdata",
    "event_date",
    "event_time",
    "event_source",
    "recovery_id",
    "zabbix_url",
)


def zabbix(payload: bytes, maps: ProfileMaps, received: float) -> list[dict[str, Any]]:
    """One Zabbix trigger notification: a problem raises, a recovery clears, an update is ignored."""
    doc = {k: v for k, v in decode_object(payload, "zabbix").items() if not _unresolved(v)}
    m = maps.zabbix
    where = "zabbix"
    event_id = optional_str(doc, "event_id", where)
    if event_id is None or not _EVENT_ID.fullmatch(event_id.strip()):
        raise ProfileError(f"zabbix: field 'event_id' is {show(doc.get('event_id'))}; expected {{EVENT.ID}}, a number")
    event_id = event_id.strip()
    value = optional_str(doc, "event_value", where)
    if value not in ("0", "1"):
        raise ProfileError(
            f"zabbix: field 'event_value' is {show(doc.get('event_value'))}; expected {{EVENT.VALUE}}: "
            "1 (problem) or 0 (recovery)"
        )
    if optional_str(doc, "event_update_status", where) == "1":
        return []  # an acknowledgement or comment in Zabbix: the wall keeps its own
    host = optional_str(doc, "host", where)
    trigger = optional_str(doc, "trigger", where) or optional_str(doc, "event_name", where)
    if host is None:
        raise ProfileError("zabbix: field 'host' ({HOST.NAME}) is missing or empty")
    if trigger is None:
        raise ProfileError("zabbix: field 'trigger' ({TRIGGER.NAME}) is missing or empty")
    severity = Severity.CLEARED if value == "0" else _severity(doc.get("severity"), m)
    tags = doc.get("tags")
    category = _tag(tags, m.category_tag) or m.category
    time_raw = doc.get("event_time")
    when = epoch(time_raw, "event_time", where) if _is_stamp(time_raw) else None  # HH:MM:SS has no zone
    opdata = optional_str(doc, "opdata", where)
    text = optional_str(doc, "event_name", where) or trigger
    attributes: dict[str, Any] = {k: doc[k] for k in _KEPT if doc.get(k) not in (None, "")}
    if tags not in (None, "", []):
        attributes["tags"] = tags
    event = {
        "source": key_text(host, "source", where),
        "type": key_text(trigger, "type", where),
        "severity": severity.label,
        "category": key_text(category, "category", where) if category and category.strip() else None,
        "time": when,
        "text": f"{text} ({opdata})" if opdata else text,
        "attributes": attributes,
    }
    return [finish("zabbix", event, event_id, value)]


def _unresolved(value: Any) -> bool:
    return isinstance(value, str) and _UNRESOLVED.fullmatch(value.strip()) is not None


def _is_stamp(value: Any) -> bool:
    """Epoch seconds ({EVENT.TIMESTAMP}) or RFC 3339; not {EVENT.TIME}'s bare server-local clock time."""
    if value is None or isinstance(value, bool):
        return False
    return not (isinstance(value, str) and re.fullmatch(r"\s*\d{1,2}:\d{2}(:\d{2})?\s*", value))


def _severity(raw: Any, m: ZabbixMaps) -> Severity:
    """{EVENT.NSEVERITY} (0-5) or a severity name; a renamed severity falls to the default."""
    if raw is None or raw == "":
        return m.default_severity
    if isinstance(raw, int | str) and not isinstance(raw, bool) and str(raw).strip().isdigit():
        code = int(str(raw).strip())
        if 0 <= code < len(ZABBIX_SEVERITY_NAMES):
            return m.severities[ZABBIX_SEVERITY_NAMES[code].casefold()]
        raise ProfileError(f"zabbix: field 'severity' is {show(raw)}; expected {{EVENT.NSEVERITY}} 0-5 or a name")
    if not isinstance(raw, str):
        raise ProfileError(f"zabbix: field 'severity' must be a number or a name, got {show(raw)}")
    return m.severities.get(raw.strip().casefold(), m.default_severity)


def _tag(tags: Any, name: str | None) -> str | None:
    """A tag's value from {EVENT.TAGSJSON} (``[{"tag": .., "value": ..}]``) or a ``{tag: value}`` object."""
    if name is None:
        return None
    if isinstance(tags, dict):
        value = tags.get(name)
        return value if isinstance(value, str) else None
    if isinstance(tags, list):
        for t in tags:
            if isinstance(t, dict) and t.get("tag") == name and isinstance(t.get("value"), str):
                return str(t["value"])
    return None
