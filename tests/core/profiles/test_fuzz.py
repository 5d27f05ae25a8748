"""Whatever arrives, a profile returns events the wall accepts, or a ProfileError that says what was wrong;
nothing else ever escapes, and no input reaches a profile's internal-error path."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.profiles.helpers import DEFAULTS, valid
from wallctl.core.profiles import PROFILES, ProfileError, ProfileMaps, convert, syslog_message
from wallctl.core.profiles.base import SnmpMaps, SyslogMaps

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)  # what JSON can carry: no lone surrogates
ANY_TEXT = st.text(max_size=40)  # lone surrogates too, for the str entry point
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
TREES = st.recursive(SCALARS, lambda c: st.lists(c, max_size=4) | st.dictionaries(TEXT, c, max_size=4), max_leaves=25)
TIMES = st.sampled_from(["2023-02-06T13:08:45.828Z", "0001-01-01T00:00:00Z", "1714989600", "", "99999999999"]) | TEXT
RECEIVED = st.floats(0, 4e9)


def check(profile: str, payload: bytes, maps: ProfileMaps = DEFAULTS, received: float = 1.7e9) -> None:
    try:
        out = convert(profile, payload, maps, received)
    except ProfileError as exc:
        assert "internal error" not in str(exc), str(exc)
        assert str(exc).startswith(f"{profile}: ")
        return
    assert isinstance(out, list)
    for obj in out:
        valid(obj, received)


@pytest.mark.parametrize("profile", sorted(PROFILES))
@FUZZ
@given(payload=st.binary(max_size=300), received=RECEIVED)
def test_random_bytes(profile: str, payload: bytes, received: float) -> None:
    check(profile, payload, received=received)


@pytest.mark.parametrize("profile", sorted(PROFILES))
@FUZZ
@given(tree=TREES)
def test_random_json_trees(profile: str, tree: Any) -> None:
    check(profile, orjson.dumps(tree))


LABEL_NAMES = st.sampled_from(["instance", "job", "alertname", "severity", "category", "grafana_folder"]) | TEXT
ALERTS = st.fixed_dictionaries(
    {"status": st.sampled_from(["firing", "resolved"])},
    optional={
        "labels": st.dictionaries(LABEL_NAMES, TEXT | st.sampled_from(["Watchdog", "critical", "info"]), max_size=6),
        "annotations": st.dictionaries(st.sampled_from(["summary", "description"]) | TEXT, TEXT, max_size=3),
        "startsAt": TIMES,
        "endsAt": TIMES,
        "fingerprint": TEXT,
        "generatorURL": TEXT,
        "values": TREES,
    },
)


@pytest.mark.parametrize("profile", ["alertmanager", "grafana"])
@FUZZ
@given(
    alerts=st.lists(ALERTS, max_size=4), extra=st.dictionaries(st.sampled_from(["receiver", "title", "orgId"]), SCALARS)
)
def test_alert_webhooks_with_random_fields(profile: str, alerts: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    check(profile, orjson.dumps({"version": "4", "status": "firing", "alerts": alerts, **extra}))


ZABBIX = st.fixed_dictionaries(
    {
        "event_id": st.sampled_from(["4711", "0", "99999999999999999999"]) | TEXT,
        "event_value": st.sampled_from(["0", "1", 1]) | TEXT,
        "host": TEXT,
        "trigger": TEXT,
    },
    optional={
        "severity": st.sampled_from(["0", "5", 3, "High", "{EVENT.NSEVERITY}"]) | TEXT,
        "event_time": TIMES,
        "event_update_status": st.sampled_from(["0", "1"]),
        "opdata": TEXT,
        "event_name": TEXT,
        "tags": TREES,
    },
)


@FUZZ
@given(doc=ZABBIX)
def test_zabbix_with_random_fields(doc: dict[str, Any]) -> None:
    check("zabbix", orjson.dumps(doc))


NAGIOS = st.fixed_dictionaries(
    {
        "notification_type": st.sampled_from(["PROBLEM", "RECOVERY", "ACKNOWLEDGEMENT", "FLAPPINGSTART"]) | TEXT,
        "host_name": TEXT,
    },
    optional={
        "service_description": TEXT,
        "state": st.sampled_from(["CRITICAL", "OK", "DOWN", "UNREACHABLE"]) | TEXT,
        "output": TEXT,
        "timestamp": TIMES | st.integers(-(2**63), 2**63 - 1),
    },
)


@pytest.mark.parametrize("profile", ["nagios", "icinga"])
@FUZZ
@given(doc=NAGIOS)
def test_notifications_with_random_fields(profile: str, doc: dict[str, Any]) -> None:
    check(profile, orjson.dumps(doc))


OIDS = st.sampled_from(
    [
        "DISMAN-EVENT-MIB::sysUpTimeInstance",
        ".1.3.6.1.6.3.1.1.4.1.0",
        "SNMPv2-MIB::snmpTrapOID.0",
        "IF-MIB::ifIndex.3",
        "IF-MIB::ifDescr[3]",
        ".1.3.6.1.2.1.31.1.1.1.1.7",
        "SNMP-COMMUNITY-MIB::snmpTrapAddress.0",
    ]
) | TEXT.filter(lambda t: "\n" not in t)
TRAP_VALUES = st.sampled_from(["IF-MIB::linkDown", ".1.3.6.1.6.3.1.1.5.4", "coldStart", '"quoted', '"x"']) | TEXT
TRANSPORTS = st.sampled_from(["UDP: [192.0.2.1]:5->[192.0.2.2]:162", "UDPv6: [fe80::1%eth0]:5->[::1]:162", ""]) | TEXT


@FUZZ
@given(
    host=TEXT,
    transport=TRANSPORTS,
    varbinds=st.lists(st.tuples(OIDS, TRAP_VALUES), max_size=8),
    maps=st.builds(
        SnmpMaps, source=st.sampled_from(["address", "hostname"]), interface_key=st.sampled_from(["type", "source"])
    ),
)
def test_traps_with_random_lines(host: str, transport: str, varbinds: list[tuple[str, str]], maps: SnmpMaps) -> None:
    text = "\n".join([host, transport, *(f"{oid} {value}" for oid, value in varbinds)])
    check("snmptrap", text.encode("utf-8"), ProfileMaps(snmptrap=maps))


HEADERS = st.sampled_from(["<13>1 ", "<191>1 2024-05-06T10:00:00Z ", "<0>Oct 11 22:14:15 ", "<999>", "", "<13>1 - "])


@FUZZ
@given(
    header=HEADERS,
    words=st.lists(st.sampled_from(["-", "host", "app:", '[id a="b"]', "[x", "tag[1]:", " "]) | ANY_TEXT, max_size=8),
    peer=st.none() | TEXT,
    pattern=st.none() | st.sampled_from([r"(?P<type>\w+)", r"(?P<type>)", r"^x(?P<type>.)"]),
)
def test_syslog_with_random_pieces(header: str, words: list[str], peer: str | None, pattern: str | None) -> None:
    maps = ProfileMaps(syslog=SyslogMaps(type_pattern=pattern, drop_below="debug"))
    text = header + " ".join(words)
    try:
        out = syslog_message(text, maps, 1.7e9, peer)
    except ProfileError as exc:
        assert "internal error" not in str(exc) and str(exc).startswith("syslog: ")
        return
    for obj in out:
        valid(obj, 1.7e9)
    check("syslog", text.encode("utf-8", "surrogatepass"), maps)


def test_oversized_payloads_are_refused_before_parsing() -> None:
    big = b'{"alerts": [' + b'{"status": "firing"},' * 60_000 + b"{}]}"
    for profile in PROFILES:
        with pytest.raises(ProfileError, match="at most 1,048,576"):
            convert(profile, big, DEFAULTS, 0.0)


def test_unknown_profile_and_internal_errors_are_profile_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ProfileError, match="unknown profile 'nagois'; expected one of alertmanager"):
        convert("nagois", b"{}", DEFAULTS, 0.0)

    def broken(payload: bytes, maps: ProfileMaps, received: float) -> list[dict[str, Any]]:
        raise KeyError("bug")

    monkeypatch.setitem(PROFILES, "zabbix", broken)
    with pytest.raises(ProfileError, match="zabbix: internal error while converting: KeyError: 'bug'"):
        convert("zabbix", b"{}", DEFAULTS, 0.0)


def test_huge_fields_are_bounded() -> None:
    label = "x" * 100_000
    doc = {"alerts": [{"status": "firing", "labels": {"instance": label, "alertname": label, "big": label}}]}
    [e] = convert("alertmanager", orjson.dumps(doc), DEFAULTS, 1.7e9)
    valid(e)
    assert len(e["source"]) == 256 and len(e["type"]) == 128 and e["attributes"]["truncated"] is True
    other = {"alerts": [{"status": "firing", "labels": {"instance": label + "y", "alertname": label}}]}
    assert convert("alertmanager", orjson.dumps(other), DEFAULTS, 1.7e9)[0]["source"] != e["source"]
    deep: Any = "leaf"
    for _ in range(100):  # 200 levels: orjson writes at most 254
        deep = {"k": [deep]}
    doc = {"alerts": [{"status": "firing", "labels": {"instance": "h", "alertname": "a"}, "values": deep}]}
    valid(convert("grafana", orjson.dumps(doc), DEFAULTS, 1.7e9)[0])
