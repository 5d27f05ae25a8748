"""Syslog: RFC 5424 (``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG``) and RFC 3164
(``<PRI>Mmm dd hh:mm:ss HOST TAG[pid]: MSG``, also without PRI, timestamp or host).

util-linux ``logger --rfc5424`` sends ``<13>1 2015-10-01T14:07:59.168662+02:00 ws kzak - - [timeQuality
tzKnown="1" isSynced="1" syncAccuracy="218616"] this is message``: nil PROCID and MSGID, the user as APP-NAME
unless ``-t``. The alarm is (host, app-name or tag), or a type a configured pattern finds in the message;
severity is PRI % 8 through the level map, where a level may be dropped. An RFC 3164 timestamp has neither year
nor zone, so those events take the time of receipt (the text is kept in the attributes).
"""

from __future__ import annotations

import re
from typing import Any

from wallctl.core.profiles.base import SYSLOG_LEVELS, ProfileError, ProfileMaps, SyslogMaps
from wallctl.core.profiles.common import decode_text, epoch, finish, key_text

FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
    "ntp", "security", "console", "clock",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
)  # fmt: skip
_PRI = re.compile(r"<([0-9]{1,3})>")
_RFC5424 = re.compile(r"([1-9][0-9]?) (-|[0-9]{4}-[0-9]{2}-[0-9]{2}T\S+) (\S+) (\S+) (\S+) (\S+) ?")
_RFC3164_TIME = re.compile(
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} "
)
_TAG = re.compile(r"([^\s:\[\]]{1,48})(?:\[([^\]\s]{1,128})\])?: ?")
_SD_ELEMENT = re.compile(r'\[([^\s=\]"]{1,32})((?: [^\s=\]"]{1,32}="(?:[^"\\]|\\.)*")*)\]')
_SD_PARAM = re.compile(r'([^\s=\]"]{1,32})="((?:[^"\\]|\\.)*)"')


def syslog(payload: bytes, maps: ProfileMaps, received: float) -> list[dict[str, Any]]:
    """One syslog message (a UDP datagram, or one framed TCP message) with no sender address."""
    return syslog_message(decode_text(payload, "syslog"), maps, received, None)


def syslog_message(text: str, maps: ProfileMaps, received: float, peer: str | None) -> list[dict[str, Any]]:
    """One syslog message; ``peer`` is the sender's address (the UDP/TCP listener knows it), the source when the
    message names no host or the config says so. Returns [] for a dropped level."""
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be republished
    text = text.rstrip("\r\n\x00")
    if len(text) > 1 << 20:
        raise ProfileError(f"syslog: message is {len(text):,} characters; at most {1 << 20:,} are accepted")
    m = maps.syslog
    pri_match = _PRI.match(text)
    pri = int(pri_match.group(1)) if pri_match else 13  # RFC 3164 4.3.3: no PRI means user.notice
    if pri > 191:
        raise ProfileError(f"syslog: PRI <{pri}> is out of range; expected 0-191 (facility * 8 + severity)")
    rest = text[pri_match.end() :] if pri_match else text
    v5424 = _RFC5424.match(rest) if pri_match else None
    fields = _parse_5424(v5424, rest) if v5424 else _parse_3164(rest)
    level = SYSLOG_LEVELS[pri % 8]
    action = _action(level, m)
    if action == "drop":
        return []
    host = fields.pop("hostname", None)
    source = peer if m.source == "peer" and peer else (host or peer)
    if not source:
        raise ProfileError(f"syslog: the message names no host and no sender address is known: {text[:80]!r}")
    msg = fields.pop("msg", "")
    etype = _type_from_pattern(msg, m) or fields.get("app_name") or fields.get("tag") or "syslog"
    when = fields.pop("time", None)
    facility = pri // 8
    attributes = {
        "facility": FACILITIES[facility],
        "level": level,
        "pri": pri,
        **fields,
    }
    if host and peer:
        attributes["peer"] = peer
    where = "syslog"
    event = {
        "source": key_text(source, "source", where),
        "type": key_text(etype, "type", where),
        "severity": action,
        "category": key_text(m.category, "category", where) if m.category else None,
        "time": when,
        "text": msg,
        "attributes": attributes,
    }
    return [finish("syslog", event, level)]


def _action(level: str, m: SyslogMaps) -> str:
    if m.drop_below is not None and SYSLOG_LEVELS.index(level) > SYSLOG_LEVELS.index(m.drop_below):
        return "drop"
    return str(m.levels.get(level, "indeterminate"))


def _nil(value: str) -> str | None:
    return None if value == "-" else value


def _parse_5424(header: re.Match[str], rest: str) -> dict[str, Any]:
    version, stamp, hostname, app, procid, msgid = header.groups()
    fields: dict[str, Any] = {"format": "rfc5424", "version": int(version)}
    if stamp != "-":
        fields["timestamp"] = stamp
        try:
            fields["time"] = epoch(stamp, "TIMESTAMP", "syslog")
        except ProfileError:
            pass  # a sender's odd clock costs the time (receipt is used), not the message
    for name, value in (("hostname", hostname), ("app_name", app), ("procid", procid), ("msgid", msgid)):
        if _nil(value) is not None:
            fields[name] = value
    body = rest[header.end() :]
    if header.group(0).endswith(" ") or body:
        sd, msg = _structured_data(body)
        if sd:
            fields["structured_data"] = sd
        fields["msg"] = msg.removeprefix("\ufeff")
    return fields


def _structured_data(body: str) -> tuple[dict[str, dict[str, str]], str]:
    """RFC 5424 STRUCTURED-DATA (``-`` or ``[id name="value" ...]...``) and the MSG after it."""
    if body.startswith("-"):
        return {}, body[2:] if body[1:2] == " " else body[1:]
    sd: dict[str, dict[str, str]] = {}
    pos = 0
    while body.startswith("[", pos):
        element = _SD_ELEMENT.match(body, pos)
        if element is None:
            raise ProfileError(
                f"syslog: malformed STRUCTURED-DATA at character {pos}: {body[pos : pos + 60]!r}; expected "
                '[SD-ID PARAM="VALUE" ...] with ", \\ and ] escaped by \\'
            )
        params = {p.group(1): re.sub(r'\\([\\"\]])', r"\1", p.group(2)) for p in _SD_PARAM.finditer(element.group(2))}
        sd[element.group(1)] = params
        pos = element.end()
    if pos == 0:
        raise ProfileError(f"syslog: STRUCTURED-DATA must be '-' or start with '[', got {body[:40]!r}")
    msg = body[pos:]
    return sd, msg[1:] if msg.startswith(" ") else msg


def _parse_3164(rest: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"format": "rfc3164"}
    stamp = _RFC3164_TIME.match(rest)
    if stamp is not None:
        fields["timestamp"] = stamp.group(0).strip()
        rest = rest[stamp.end() :]
        first, sep, after = rest.partition(" ")
        if sep and first and not first.endswith(":") and not _TAG.fullmatch(first + " ") and "[" not in first:
            fields["hostname"] = first  # after a timestamp comes the host, unless the word is already a tag
            rest = after
    tag = _TAG.match(rest)
    if tag is not None:
        fields["tag"] = tag.group(1)
        if tag.group(2):
            fields["procid"] = tag.group(2)
        rest = rest[tag.end() :]
    fields["msg"] = rest
    return fields


def _type_from_pattern(msg: str, m: SyslogMaps) -> str | None:
    if not m.type_pattern:
        return None
    try:
        pattern = re.compile(m.type_pattern)
    except re.error as exc:
        raise ProfileError(f"syslog: type_pattern {m.type_pattern!r} does not compile: {exc}") from None
    found = pattern.search(msg)
    if found is None or "type" not in pattern.groupindex:
        return None
    value = found.group("type")
    return value if value and value.strip() else None
