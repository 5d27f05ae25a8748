"""SNMP traps from snmptrapd's traphandle: linkDown and linkUp are one alarm per interface, numeric and MIB-name
OIDs alike; cold/warm start, authentication failure and other traps; the community is never republished."""

from __future__ import annotations

import orjson
import pytest

from tests.core.profiles.helpers import fixture, one
from wallctl.core.profiles import ProfileError, ProfileMaps, convert
from wallctl.core.profiles.base import SnmpMaps
from wallctl.core.profiles.snmptrap import canonical
from wallctl.core.severity import Severity


def key(e: dict[str, object]) -> tuple[object, object]:
    return (e["source"], e["type"])


def test_librenms_link_down() -> None:
    e = one("snmptrap", fixture("snmptrap/librenms_linkdown.txt"))
    assert key(e) == ("192.0.2.10", "link_down:GigabitEthernet0/5")
    assert (e["severity"], e["category"]) == ("major", "network")
    assert e["text"] == "link down: GigabitEthernet0/5 (ifAdminStatus down, ifOperStatus down)"
    a = e["attributes"]
    assert (a["interface"], a["ifIndex"], a["uptime"]) == ("GigabitEthernet0/5", "5", "2:15:07:12.87")
    assert a["varbinds"]["OLD-CISCO-INTERFACES-MIB::locIfReason.5"] == "down"  # unquoted
    assert a["trap_oid"] == "IF-MIB::linkDown"


@pytest.mark.parametrize(
    ("down", "up", "expected_key"),
    [
        ("cisco_v1_linkdown.txt", "cisco_v1_linkup.txt", ("198.51.100.1", "link_down:FastEthernet1/0")),
        ("vyos_linkdown.txt", "vyos_linkup.txt", ("172.16.178.130", "link_down:VMware VMXNET3 Ethernet Controller")),
    ],
)
def test_link_down_then_link_up_raise_and_clear_the_same_key(down: str, up: str, expected_key: tuple[str, str]) -> None:
    raised = one("snmptrap", fixture(f"snmptrap/{down}"))
    cleared = one("snmptrap", fixture(f"snmptrap/{up}"))
    assert key(raised) == key(cleared) == expected_key
    assert (raised["severity"], cleared["severity"]) == ("major", "cleared")
    assert raised["id"] != cleared["id"]


def test_interface_in_the_source_when_configured() -> None:
    maps = ProfileMaps(snmptrap=SnmpMaps(interface_key="source"))
    raised = one("snmptrap", fixture("snmptrap/vyos_linkdown.txt"), maps)
    cleared = one("snmptrap", fixture("snmptrap/vyos_linkup.txt"), maps)
    assert key(raised) == key(cleared) == ("172.16.178.130/VMware VMXNET3 Ethernet Controller", "link_down")


def test_source_is_the_address_or_the_host_name_when_configured() -> None:
    by_name = ProfileMaps(snmptrap=SnmpMaps(source="hostname"))
    assert one("snmptrap", fixture("snmptrap/vyos_linkdown.txt"), by_name)["source"] == "vyos-1"
    assert one("snmptrap", fixture("snmptrap/librenms_linkdown.txt"), by_name)["source"] == "192.0.2.10"  # <UNKNOWN>
    no_transport = fixture("snmptrap/cisco_v1_linkdown.txt").replace(
        b"UDP: [198.51.100.1]:53935->[198.51.100.2]:162", b""
    )
    assert one("snmptrap", no_transport)["source"] == "198.51.100.1"  # snmpTrapAddress.0


def test_numeric_oids_from_snmptrapd_dash_On() -> None:
    e = one("snmptrap", fixture("snmptrap/numeric_linkdown.txt"))
    assert key(e) == ("10.0.1.109", "link_down:ifIndex 63")  # no ifName or ifDescr in this trap
    assert (e["severity"], e["attributes"]["ifAdminStatus"], e["attributes"]["ifOperStatus"]) == ("major", "up", "down")


def test_bracketed_indexes_and_if_name() -> None:
    e = one("snmptrap", fixture("snmptrap/juniper_bracket_linkup.txt"))
    assert key(e) == ("192.168.168.222", "link_down:ge-0/0/21")
    assert (e["severity"], e["attributes"]["ifOperStatus"]) == ("cleared", "up")


def test_the_community_string_is_never_republished() -> None:
    for name in ("cisco_v1_linkdown.txt", "numeric_linkdown.txt", "cisco_v1_config_change.txt"):
        assert b"public" not in orjson.dumps(one("snmptrap", fixture(f"snmptrap/{name}")))


def test_cold_warm_start_and_authentication_failure() -> None:
    cold = one("snmptrap", fixture("snmptrap/librenms_coldstart.txt"))
    warm = one("snmptrap", fixture("snmptrap/librenms_coldstart.txt").replace(b"coldStart", b"warmStart"))
    auth = one("snmptrap", fixture("snmptrap/librenms_authfail.txt"))
    assert [(e["type"], e["severity"], e["category"]) for e in (cold, warm, auth)] == [
        ("cold_start", "warning", "network"),
        ("warm_start", "warning", "network"),
        ("authentication_failure", "minor", "security"),
    ]
    assert cold["source"] == "192.0.2.10"


def test_other_traps_are_warnings_typed_by_their_oid() -> None:
    e = one("snmptrap", fixture("snmptrap/cisco_v1_config_change.txt"))
    assert (e["type"], e["severity"]) == (".1.3.6.1.4.1.9.9.43.2.0.1", "warning")
    named = fixture("snmptrap/cisco_v1_config_change.txt").replace(
        b"SNMPv2-SMI::enterprises.9.9.43.2.0.1\n", b"CISCO-CONFIG-MAN-MIB::ciscoConfigManEvent\n"
    )
    assert one("snmptrap", named)["type"] == "CISCO-CONFIG-MAN-MIB::ciscoConfigManEvent"


def test_configured_severities() -> None:
    maps = ProfileMaps(snmptrap=SnmpMaps(severities={"link_down": Severity.CRITICAL, "other": Severity.MINOR}))
    assert one("snmptrap", fixture("snmptrap/vyos_linkdown.txt"), maps)["severity"] == "critical"
    assert one("snmptrap", fixture("snmptrap/vyos_linkup.txt"), maps)["severity"] == "cleared"
    assert one("snmptrap", fixture("snmptrap/cisco_v1_config_change.txt"), maps)["severity"] == "minor"
    assert one("snmptrap", fixture("snmptrap/librenms_coldstart.txt"), maps)["severity"] == "warning"


def test_ids_follow_the_trap_text_including_its_uptime() -> None:
    trap = fixture("snmptrap/vyos_linkdown.txt")
    assert one("snmptrap", trap)["id"] == one("snmptrap", trap)["id"]
    later = trap.replace(b"0:7:57:58.00", b"0:8:57:58.00")
    assert one("snmptrap", later)["id"] != one("snmptrap", trap)["id"]


def test_a_quoted_string_may_span_lines() -> None:
    trap = (
        fixture("snmptrap/librenms_coldstart.txt")
        + b'SNMPv2-MIB::sysDescr.0 "Cisco IOS\nVersion 15.2"\nIF-MIB::ifIndex.1 1\n'
    )
    varbinds = one("snmptrap", trap)["attributes"]["varbinds"]
    assert varbinds["SNMPv2-MIB::sysDescr.0"] == "Cisco IOS\nVersion 15.2"
    assert varbinds["IF-MIB::ifIndex.1"] == "1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"", "0 line(s)"),
        (b"host\nUDP: [192.0.2.1]:1->[192.0.2.2]:162\n", "2 line(s)"),
        (b"host\nUDP: [192.0.2.1]:1->[192.0.2.2]:162\n.1.3.6.1.2.1.1.3.0 0:0:00:05.00\n", "no snmpTrapOID.0"),
        (b"<UNKNOWN>\nUDP: somewhere\n.1.3.6.1.6.3.1.1.4.1.0 .1.3.6.1.6.3.1.1.5.1\n", "cannot tell the agent"),
    ],
)
def test_what_is_not_a_trap_is_refused(text: bytes, expected: str) -> None:
    with pytest.raises(ProfileError, match=r"^snmptrap: ") as err:
        convert("snmptrap", text, ProfileMaps(), 0.0)
    assert expected in str(err.value)


@pytest.mark.parametrize(
    ("oid", "numeric"),
    [
        (".1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.3"),
        ("1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.3"),
        ("iso.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.3"),
        ("IF-MIB::linkDown", "1.3.6.1.6.3.1.1.5.3"),
        ("linkUp", "1.3.6.1.6.3.1.1.5.4"),
        ("DISMAN-EVENT-MIB::sysUpTimeInstance", "1.3.6.1.2.1.1.3.0"),
        ("SNMPv2-MIB::sysUpTime.0", "1.3.6.1.2.1.1.3.0"),
        ("IF-MIB::ifIndex[544]", "1.3.6.1.2.1.2.2.1.1.544"),
        ("SNMPv2-SMI::enterprises.9.9.43.2.0.1", "1.3.6.1.4.1.9.9.43.2.0.1"),
        ("CISCO-CONFIG-MAN-MIB::ciscoConfigManEvent", None),
        ("IF-MIB::ifDescr.eth0", None),
    ],
)
def test_canonical_oids(oid: str, numeric: str | None) -> None:
    assert canonical(oid) == numeric
