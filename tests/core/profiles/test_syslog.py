"""Syslog: RFC 5424 (the RFC's examples, logger --rfc5424) and RFC 3164; PRI % 8 to severity, dropped levels,
the type pattern, the sender's address when the message names no host."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.core.profiles.helpers import DEFAULTS, RECEIVED, lines, one, run, valid
from wallctl.core.profiles import ProfileError, ProfileMaps, convert, syslog_message
from wallctl.core.profiles.base import SyslogMaps

RFC5424 = lines("syslog/rfc5424.txt")
RFC3164 = lines("syslog/rfc3164.txt")
LOGGER = lines("syslog/logger.txt")


def message(text: str, maps: ProfileMaps = DEFAULTS, peer: str | None = None) -> list[dict[str, Any]]:
    out = syslog_message(text, maps, RECEIVED, peer)
    for e in out:
        valid(e)
    return out


def sts(e: dict[str, Any]) -> tuple[Any, Any, Any]:
    return (e["source"], e["type"], e["severity"])


def test_rfc5424_examples() -> None:
    e1, e2, e3, e4 = (one("syslog", m) for m in RFC5424)
    assert (e1["source"], e1["type"], e1["severity"]) == ("mymachine.example.com", "su", "critical")  # auth.crit
    assert e1["text"] == "'su root' failed for lonvick on /dev/pts/8"  # the BOM is not text
    assert e1["time"] == datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=UTC).timestamp()
    a1 = e1["attributes"]
    assert (a1["msgid"], a1["facility"], a1["level"]) == ("ID47", "auth", "crit")
    assert (e2["source"], e2["type"], e2["severity"]) == ("192.0.2.1", "myproc", "indeterminate")  # local4.notice
    assert e2["attributes"]["procid"] == "8710" and e2["text"] == "%% It's time to make the do-nuts."
    when = datetime(2003, 8, 24, 5, 14, 15, 3, tzinfo=timezone(timedelta(hours=-7)))
    assert e2["time"] == when.timestamp()
    sd = {"exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"}}
    assert e3["attributes"]["structured_data"] == sd and e3["text"] == "An application event log entry..."
    assert e4["attributes"]["structured_data"] == {**sd, "examplePriority@32473": {"class": "high"}}
    assert e4["text"] == ""


def test_logger_rfc5424_and_rfc3164_lines() -> None:
    man, err, notice, bsd = (one("syslog", m) for m in LOGGER)
    assert (man["source"], man["type"], man["severity"]) == ("ws", "kzak", "indeterminate")  # user.notice
    assert man["attributes"]["structured_data"]["manager@123"] == {"onMeeting": "yes"}
    assert (err["source"], err["type"], err["severity"], err["attributes"]["facility"]) == (
        "vm",
        "wallctl-test",
        "major",
        "local0",
    )
    assert err["text"] == "disk /dev/sda1 is 97% full"
    assert (notice["type"], notice["attributes"]["procid"], notice["attributes"]["msgid"]) == ("root", "4242", "ID47")
    assert sts(bsd) == ("vm", "sshd", "warning") and bsd["attributes"]["procid"] == "812"
    assert "time" not in bsd and bsd["attributes"]["timestamp"] == "Nov 30 22:39:01"  # no year, no zone


def test_rfc3164_examples() -> None:
    su = one("syslog", RFC3164[0])
    assert (su["source"], su["type"], su["severity"], su["text"]) == (
        "mymachine",
        "su",
        "critical",
        "'su root' failed for lonvick on /dev/pts/8",
    )
    with pytest.raises(ProfileError, match="no host"):
        convert("syslog", RFC3164[1], ProfileMaps(), RECEIVED)  # "Use the BFG!": nothing but a message
    bfg = message(RFC3164[1].decode(), peer="192.0.2.7")[0]
    assert sts(bfg) == ("192.0.2.7", "syslog", "indeterminate") and bfg["text"] == "Use the BFG!"
    relayed = one("syslog", RFC3164[2])
    assert (relayed["source"], relayed["text"]) == ("10.0.0.99", "Use the BFG!")
    for odd in RFC3164[3:]:  # a timestamp RFC 3164 itself calls unusual: still one valid event, or a clear refusal
        assert len(message(odd.decode(), peer="192.0.2.7")) == 1
    relayed_sched = one("syslog", RFC3164[5])
    assert (relayed_sched["source"], relayed_sched["severity"]) == ("scapegoat", "critical")  # kern.emerg


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (0, "critical"),
        (1, "critical"),
        (2, "critical"),
        (3, "major"),
        (4, "warning"),
        (5, "indeterminate"),
        (6, "indeterminate"),
        (7, "indeterminate"),
    ],
)
def test_pri_mod_8_is_the_severity(level: int, expected: str) -> None:
    for facility in (0, 3, 23):
        e = message(f"<{facility * 8 + level}>1 - host app - - - text")[0]
        assert e["severity"] == expected
        assert e["attributes"]["pri"] == facility * 8 + level


def test_levels_can_be_dropped_or_remapped() -> None:
    maps = ProfileMaps(syslog=SyslogMaps(levels={"debug": "drop", "notice": "minor"}))
    assert message("<15>1 - host app - - - debug", maps) == []
    assert message("<13>1 - host app - - - notice", maps)[0]["severity"] == "minor"
    assert message("<14>1 - host app - - - info", maps)[0]["severity"] == "indeterminate"  # default kept
    below = ProfileMaps(syslog=SyslogMaps(drop_below="notice"))
    assert [len(message(f"<{8 + lv}>1 - host app - - - x", below)) for lv in range(8)] == [1, 1, 1, 1, 1, 1, 0, 0]
    assert [len(message(f"<{8 + lv}>1 - host app - - - x")) for lv in range(8)] == [1] * 8  # by default none


def test_type_from_a_configured_pattern() -> None:
    maps = ProfileMaps(syslog=SyslogMaps(type_pattern=r"%(?P<type>[A-Z0-9_]+-\d-[A-Z_]+):"))
    cisco = "<187>Jan 12 10:00:01 core-1 123: %LINEPROTO-5-UPDOWN: Line protocol on Interface Gi0/1, changed state"
    assert message(cisco, maps)[0]["type"] == "LINEPROTO-5-UPDOWN"
    assert message("<11>1 - host app - - - no match here", maps)[0]["type"] == "app"


def test_source_from_the_peer() -> None:
    host_named = message("<11>1 - host app - - - x", peer="192.0.2.9")[0]
    assert host_named["source"] == "host" and host_named["attributes"]["peer"] == "192.0.2.9"
    maps = ProfileMaps(syslog=SyslogMaps(source="peer"))
    assert message("<11>1 - host app - - - x", maps, peer="192.0.2.9")[0]["source"] == "192.0.2.9"
    assert message("<11>1 - - app - - - x", peer="192.0.2.9")[0]["source"] == "192.0.2.9"


def test_ids_follow_the_raw_message() -> None:
    assert one("syslog", LOGGER[1])["id"] == one("syslog", LOGGER[1])["id"]
    assert one("syslog", LOGGER[1])["id"] != one("syslog", LOGGER[1].replace(b"97%", b"98%"))["id"]


def test_odd_input_is_kept_or_refused_clearly() -> None:
    assert "time" not in message("<11>1 2024-05-06T10:00:00 host app - - - no offset")[0]  # receipt time instead
    assert message("<11>1 - host app - - - \udcff lone surrogate")[0]["text"].endswith("lone surrogate")
    assert run("syslog", b"<11>1 - host app - - - bad \xff byte\r\n")[0]["text"] == "bad \ufffd byte"
    with pytest.raises(ProfileError, match="PRI <192>"):
        convert("syslog", b"<192>1 - host app - - - x", ProfileMaps(), RECEIVED)
    with pytest.raises(ProfileError, match="STRUCTURED-DATA"):
        convert("syslog", b'<11>1 - host app - - [broken x="1" message', ProfileMaps(), RECEIVED)
