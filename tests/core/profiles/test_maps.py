"""config/profiles.yaml: the shipped file is the defaults, every mistake is reported at file:line:col with the
field, the value and what was expected, and the JSON Schema matches the models."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from wallctl.core.config.schema import render
from wallctl.core.files.spec import json_schema
from wallctl.core.files.yamldoc import ConfigError
from wallctl.core.profiles import ProfileMaps, load_profile_maps
from wallctl.core.severity import Severity

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "config" / "profiles.yaml"
SCHEMA = ROOT / "wallctl" / "schemas" / "profiles.schema.json"
TITLE = "wallctl payload profiles (config/profiles.yaml)"


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "profiles.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_profile_maps(path)
    return [str(p).removeprefix(f"{path}:") for p in err.value.problems]


def test_the_shipped_file_spells_out_the_defaults() -> None:
    assert load_profile_maps(SHIPPED) == ProfileMaps()


def test_an_empty_file_or_a_partial_one_keeps_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("# nothing changed\n")
    assert load_profile_maps(tmp_path / "empty.yaml") == ProfileMaps()
    (tmp_path / "some.yaml").write_text("zabbix:\n  severities:\n    average: major\n")
    maps = load_profile_maps(tmp_path / "some.yaml")
    assert maps.zabbix.severities["average"] is Severity.MAJOR
    assert maps.zabbix.severities["disaster"] is Severity.CRITICAL
    assert maps.alertmanager == ProfileMaps().alertmanager


def test_unknown_profile(tmp_path: Path) -> None:
    assert problems(tmp_path, "alertmanager: {}\nzabix:\n  category: x\n") == [
        "2:1: the document: unknown key 'zabix' (did you mean 'zabbix'?); expected one of alertmanager, grafana, "
        "icinga, nagios, snmptrap, syslog, zabbix"
    ]


def test_unknown_severity_name_in_a_map(tmp_path: Path) -> None:
    found = problems(tmp_path, "alertmanager:\n  severities:\n    page: critcal\n")
    assert found == [
        "3:11: alertmanager.severities.page: 'critcal' is not a severity; expected one of critical, major, minor, "
        "warning, indeterminate, cleared (did you mean 'critical'?)"
    ]


def test_unknown_map_keys_are_located_at_the_key(tmp_path: Path) -> None:
    text = (
        "zabbix:\n  severities:\n    Hgh: major\n"
        "icinga:\n  states: {CRITICAL: major, CRITCAL: major}\n"
        "snmptrap:\n  severities:\n    linkdown: critical\n"
        "syslog:\n  levels:\n    error: drop\n"
    )
    assert problems(tmp_path, text) == [
        "3:5: zabbix.severities: 'Hgh' is not a Zabbix severity; expected one of Not classified, Information, "
        "Warning, Average, High, Disaster (did you mean 'High'?)",
        "5:29: icinga.states: 'CRITCAL' is not a Nagios/Icinga state; expected one of CRITICAL, DOWN, UNREACHABLE, "
        "WARNING, UNKNOWN, OK, UP (did you mean 'CRITICAL'?)",
        "8:5: snmptrap.severities: 'linkdown' is not a trap kind; expected one of link_down, cold_start, warm_start, "
        "authentication_failure, other (did you mean 'link_down'?)",
        "11:5: syslog.levels: 'error' is not a syslog level; expected one of emerg, alert, crit, err, warning, "
        "notice, info, debug (did you mean 'err'?)",
    ]


def test_syslog_values(tmp_path: Path) -> None:
    text = "syslog:\n  levels: {info: dorp}\n  drop_below: notic\n"
    assert problems(tmp_path, text) == [
        "2:18: syslog.levels.info: 'dorp' is not one of critical, major, minor, warning, indeterminate, cleared, "
        "drop (did you mean 'drop'?)",
        "3:15: syslog.drop_below: 'notic' is not one of emerg, alert, crit, err, warning, notice, info, debug "
        "(did you mean 'notice'?)",
    ]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("'(?P<type>[A-Z+'", "'(?P<type>[A-Z+' is not a valid regular expression: unterminated character set"),
        ("'^([A-Z_]+):'", "'^([A-Z_]+):' has no named group 'type'; write it as (?P<type>...)"),
    ],
)
def test_type_pattern(tmp_path: Path, pattern: str, expected: str) -> None:
    found = problems(tmp_path, f"syslog:\n  type_pattern: {pattern}\n")
    assert len(found) == 1 and found[0].startswith(f"2:17: syslog.type_pattern: {expected}")


def test_lists(tmp_path: Path) -> None:
    text = "nagios:\n  ignore_types: [ACKNOWLEDGMENT, CUSTOM]\nalertmanager:\n  source_labels: []\n"
    assert problems(tmp_path, text) == [
        "2:18: nagios.ignore_types[0]: 'ACKNOWLEDGMENT' is not a notification type; expected one of PROBLEM, "
        "RECOVERY, ACKNOWLEDGEMENT, FLAPPINGSTART, FLAPPINGSTOP, FLAPPINGEND, FLAPPINGDISABLED, DOWNTIMESTART, "
        "DOWNTIMEEND, DOWNTIMECANCELLED, DOWNTIMEREMOVED, CUSTOM (did you mean 'ACKNOWLEDGEMENT'?)",
        "4:18: alertmanager.source_labels: name at least one label",
    ]


def test_every_problem_at_once(tmp_path: Path) -> None:
    text = "grafana:\n  severity_lable: sev\nzabbix:\n  severities: {Hgh: major}\nsnmptrap:\n  source: ip\n"
    found = problems(tmp_path, text)
    assert [f.split(": ")[0] for f in found] == ["2:3", "4:16", "6:11"]
    assert "unknown key 'severity_lable' (did you mean 'severity_label'?)" in found[0]
    assert "snmptrap.source: 'ip' is not one of address, hostname" in found[2]


def test_shipped_schema_is_up_to_date_and_checks_the_file() -> None:
    schema = json_schema(ProfileMaps, TITLE)
    assert SCHEMA.read_text() == render(schema), "profiles.schema.json is stale: regenerate it from ProfileMaps"
    validator = jsonschema.Draft202012Validator(schema)
    assert [e.message for e in validator.iter_errors(yaml.safe_load(SHIPPED.read_text()))] == []
    bad = {"zabix": {}, "syslog": {"levels": {"info": "dorp"}}, "snmptrap": {"interface_key": "port"}}
    messages = sorted(e.message for e in validator.iter_errors(bad))
    assert any("'zabix' was unexpected" in m for m in messages)
    assert any("'dorp' is not one of" in m for m in messages)
    assert any("'port' is not one of" in m for m in messages)
