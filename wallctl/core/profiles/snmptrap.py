"""SNMP traps as Net-SNMP's snmptrapd hands them to a ``traphandle`` program on standard input.

The format (snmptrapd.conf(5), ``traphandle``; Net-SNMP's EXECUTE_FORMAT ``%B\\n%b\\n%V\\n%v\\n`` with quick
print): the host name (``<UNKNOWN>`` when the reverse lookup failed), the transport address
(``UDP: [192.0.2.1]:40222->[192.0.2.9]:162``), then one ``OID value`` line per varbind, sysUpTime.0 and
snmpTrapOID.0 first. SNMPv1 traps arrive converted to that form (RFC 3584), with snmpTrapAddress.0 and
snmpTrapCommunity.0 appended. OIDs are numeric with ``snmptrapd -On``, MIB names otherwise; both are read.

linkDown and linkUp of one interface are ONE alarm: by default the agent is the source (so its topology node and
the link on that interface light up) and the type is ``link_down:<ifName, else ifDescr, else ifIndex N>``;
``interface_key: source`` makes it source ``<agent>/<interface>``, type ``link_down`` instead. The community
string is never republished.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from wallctl.core.profiles.base import ProfileError, ProfileMaps, SnmpMaps
from wallctl.core.profiles.common import decode_text, finish, key_text

# MIB object names snmptrapd prints for the OIDs this profile reads -> their numeric OID
_NAMED = {
    "sysUpTimeInstance": "1.3.6.1.2.1.1.3.0",
    "sysUpTime": "1.3.6.1.2.1.1.3",
    "snmpTrapOID": "1.3.6.1.6.3.1.1.4.1",
    "snmpTrapEnterprise": "1.3.6.1.6.3.1.1.4.3",
    "snmpTrapAddress": "1.3.6.1.6.3.18.1.3",
    "snmpTrapCommunity": "1.3.6.1.6.3.18.1.4",
    "snmpTraps": "1.3.6.1.6.3.1.1.5",
    "coldStart": "1.3.6.1.6.3.1.1.5.1",
    "warmStart": "1.3.6.1.6.3.1.1.5.2",
    "linkDown": "1.3.6.1.6.3.1.1.5.3",
    "linkUp": "1.3.6.1.6.3.1.1.5.4",
    "authenticationFailure": "1.3.6.1.6.3.1.1.5.5",
    "ifIndex": "1.3.6.1.2.1.2.2.1.1",
    "ifDescr": "1.3.6.1.2.1.2.2.1.2",
    "ifAdminStatus": "1.3.6.1.2.1.2.2.1.7",
    "ifOperStatus": "1.3.6.1.2.1.2.2.1.8",
    "ifName": "1.3.6.1.2.1.31.1.1.1.1",
    "ifAlias": "1.3.6.1.2.1.31.1.1.1.18",
    "mib-2": "1.3.6.1.2.1",
    "enterprises": "1.3.6.1.4.1",
    "snmpModules": "1.3.6.1.6.3",
}
_UPTIME = "1.3.6.1.2.1.1.3.0"
_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
_TRAP_ADDRESS = "1.3.6.1.6.3.18.1.3.0"
_COMMUNITY = "1.3.6.1.6.3.18.1.4.0"
_KINDS = {
    "1.3.6.1.6.3.1.1.5.1": "cold_start",
    "1.3.6.1.6.3.1.1.5.2": "warm_start",
    "1.3.6.1.6.3.1.1.5.3": "link_down",
    "1.3.6.1.6.3.1.1.5.4": "link_up",
    "1.3.6.1.6.3.1.1.5.5": "authentication_failure",
}
_IF_COLUMNS = {
    "1.3.6.1.2.1.2.2.1.1": "ifIndex",
    "1.3.6.1.2.1.2.2.1.2": "ifDescr",
    "1.3.6.1.2.1.2.2.1.7": "ifAdminStatus",
    "1.3.6.1.2.1.2.2.1.8": "ifOperStatus",
    "1.3.6.1.2.1.31.1.1.1.1": "ifName",
    "1.3.6.1.2.1.31.1.1.1.18": "ifAlias",
}
_IF_STATUS = {"1": "up", "2": "down", "3": "testing", "4": "unknown", "5": "dormant", "6": "notPresent"}
_NUMERIC = re.compile(r"\.?[0-9]+(?:\.[0-9]+)+")
_BRACKET = re.compile(r"\[([^\]]*)\]")
_ADDRESS = re.compile(r"\[([0-9A-Fa-f:.]+)(?:%[^\]]*)?\]")


def snmptrap(payload: bytes, maps: ProfileMaps, received: float) -> list[dict[str, Any]]:
    """One trap, as snmptrapd's traphandle input: zero or one event."""
    lines = decode_text(payload, "snmptrap").replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) < 3:
        raise ProfileError(
            f"snmptrap: {len(lines)} line(s); expected the host name, the transport address and then "
            "'OID value' lines (sysUpTime.0, snmpTrapOID.0, varbinds), as snmptrapd's traphandle sends them"
        )
    hostname, transport = lines[0].strip(), lines[1].strip()
    varbinds = _varbinds(lines[2:])
    by_oid = {canon: value for _, canon, value in varbinds if canon}
    trap = next((value for _, canon, value in varbinds if canon == _TRAP_OID), None)
    if trap is None or not trap.strip():
        raise ProfileError("snmptrap: no snmpTrapOID.0 (.1.3.6.1.6.3.1.1.4.1.0) line; this is not a trap")
    trap_canon = canonical(trap)
    kind = _KINDS.get(trap_canon or "", "other")
    m = maps.snmptrap
    agent = _agent(hostname, transport, by_oid.get(_TRAP_ADDRESS), m)
    attributes: dict[str, Any] = {
        "hostname": hostname,
        "transport": transport,
        "uptime": by_oid.get(_UPTIME),
        "trap_oid": trap,
        "varbinds": {oid: value for oid, canon, value in varbinds if canon not in (_COMMUNITY, _UPTIME, _TRAP_OID)},
    }
    source, etype, text = agent, kind, _trap_name(trap, trap_canon)
    if kind in ("link_down", "link_up"):
        iface = _interface(varbinds)
        attributes.update(iface)
        name = iface.get("interface")
        etype = "link_down"  # linkUp clears the linkDown's alarm: one key for both
        if name is not None and m.interface_key == "type":
            etype = f"link_down:{name}"
        elif name is not None:
            source = f"{agent}/{name}"
        text = _link_text(kind, iface)
    elif kind == "other":
        etype = f".{trap_canon}" if trap_canon else trap.strip()
    severity = "cleared" if kind == "link_up" else m.severities[kind].label
    category = "security" if kind == "authentication_failure" else m.category
    where = "snmptrap"
    event = {
        "source": key_text(source, "source", where),
        "type": key_text(etype, "type", where),
        "severity": severity,
        "category": key_text(category, "category", where) if category else None,
        "text": text,
        "attributes": {k: v for k, v in attributes.items() if v not in (None, "")},
    }
    return [finish("snmptrap", event, kind)]


def canonical(oid: str) -> str | None:
    """The numeric OID (no leading dot) of ``oid`` as snmptrapd prints it: ``.1.3.6...``, ``iso.3.6...``,
    ``IF-MIB::ifIndex.3``, ``IF-MIB::ifIndex[3]``, ``SNMPv2-SMI::enterprises.9.9``; None for a MIB name this
    profile does not know."""
    text = _BRACKET.sub(lambda mt: "." + mt.group(1), oid.strip())
    if _NUMERIC.fullmatch(text):
        return text.lstrip(".")
    if text.startswith("iso.") and _NUMERIC.fullmatch(text[3:]):
        return "1" + text[3:]
    name = text.split("::", 1)[-1]
    base, _, suffix = name.partition(".")
    prefix = _NAMED.get(base)
    if prefix is None or (suffix and not re.fullmatch(r"[0-9]+(?:\.[0-9]+)*", suffix)):
        return None
    return f"{prefix}.{suffix}" if suffix else prefix


def _varbinds(lines: list[str]) -> list[tuple[str, str | None, str]]:
    """(oid as printed, numeric oid or None, value unquoted); a quoted string value may span lines."""
    out: list[tuple[str, str | None, str]] = []
    open_quote = False
    for line in lines:
        if open_quote and out:
            oid, canon, value = out[-1]
            out[-1] = (oid, canon, value + "\n" + line)
            open_quote = not _closed(out[-1][2])
            continue
        if not line.strip():
            continue
        oid, _, value = line.strip().partition(" ")
        value = value.strip()
        out.append((oid, canonical(oid), value))
        open_quote = value.startswith('"') and not _closed(value)
    return [(oid, canon, _unquote(value)) for oid, canon, value in out]


def _closed(value: str) -> bool:
    body = value[1:].replace("\\\\", "").replace('\\"', "")
    return body.endswith('"')


def _unquote(value: str) -> str:
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def _agent(hostname: str, transport: str, trap_address: str | None, m: SnmpMaps) -> str:
    """The agent: its transport IP, else snmpTrapAddress.0 (SNMPv1's agent-addr), else the host name; or the host
    name first when configured so."""
    named = hostname if hostname and hostname != "<UNKNOWN>" else None
    address = _ip(transport) or _ip(trap_address or "")
    found = (named or address) if m.source == "hostname" else (address or named)
    if found is None:
        raise ProfileError(
            f"snmptrap: cannot tell the agent: host name {hostname!r:.60}, transport {transport!r:.80} holds no "
            "IP address and there is no snmpTrapAddress.0"
        )
    return found


def _ip(text: str) -> str | None:
    candidates = [mt.group(1) for mt in _ADDRESS.finditer(text)] or [text.strip()]
    for c in candidates:
        try:
            return str(ipaddress.ip_address(c))
        except ValueError:
            continue
    return None


def _interface(varbinds: list[tuple[str, str | None, str]]) -> dict[str, str]:
    """ifIndex, ifName, ifDescr, statuses of a linkDown/linkUp; ``interface`` names it for the alarm key."""
    out: dict[str, str] = {}
    for _, canon, value in varbinds:
        if canon is None:
            continue
        column, _, index = canon.rpartition(".")
        name = _IF_COLUMNS.get(column)
        if name is None:
            continue
        value = value.strip()
        out.setdefault(name, _IF_STATUS.get(value, value) if name.endswith("Status") else value)
        out.setdefault("ifIndex", index)
    label = out.get("ifName") or out.get("ifDescr") or (f"ifIndex {out['ifIndex']}" if out.get("ifIndex") else None)
    if label:
        out["interface"] = label
    return {k: v for k, v in out.items() if v}


def _link_text(kind: str, iface: dict[str, str]) -> str:
    what = "link down" if kind == "link_down" else "link up"
    name = iface.get("interface", "an interface")
    details = [f"{k} {iface[k]}" for k in ("ifAdminStatus", "ifOperStatus") if k in iface]
    return f"{what}: {name}" + (f" ({', '.join(details)})" if details else "")


def _trap_name(trap: str, canon: str | None) -> str:
    names = {v: k for k, v in _NAMED.items()}
    return f"SNMP trap {names.get(canon or '', trap.strip())}"
