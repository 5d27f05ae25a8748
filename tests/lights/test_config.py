"""``outputs:`` and ``lights:`` as the loading pipeline reads them (``run``, the controller and ``validate`` alike):
every mistake is one located line naming the field, the value and what was expected."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from tests.support.wall import write_config
from wallctl.core.config.schema import schemas
from wallctl.core.config.settings import load_config
from wallctl.core.files.yamldoc import ConfigError, load_yaml
from wallctl.core.lights.config import check_output_credentials
from wallctl.validate import validate_paths

GOOD = """
outputs:
  - name: tower-1
    driver: modbus_tcp
    host: 127.0.0.1
    port: 5020
    channels: {red: {coil: 0}, amber: {coil: 1}, green: {coil: 2}, blue: {coil: 3}, buzzer: {coil: 4}}
  - name: relay-1
    driver: mqtt
    topic: cmnd/relay-1/POWER{index}
    channels: {red: {index: 1}, buzzer: {index: 2}}
  - name: tower-2
    driver: http
    url: http://tower-2.noc.example/api/{channel}
    body: '{"state": "{value}"}'
    payloads: {fast: blink}
    channels: {red: {}, green: {}}
lights:
  - {when: {priority: high, state: UNACK}, red: fast, buzzer: horn}
  - {when: {priority: high}, red: steady}
  - {when: {priority: [medium, low]}, amber: steady}
  - {when: untrusted, blue: fast}
  - {when: calm, green: steady, red: off}
"""


def problems(tmp_path: Path, extra: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, extra=extra))
    return [f"{p.line}:{p.col}: {p.message}" for p in info.value.problems]


def line_of(text: str, needle: str) -> int:
    """The line of ``needle`` in the written config (the test's section follows the base config's lines)."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


def test_the_contract_s_example_loads_and_bare_off_is_the_pattern(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path, extra=GOOD)).model
    assert [o.name for o in cfg.outputs] == ["tower-1", "relay-1", "tower-2"]
    assert cfg.lights[4].channels == {"green": "steady", "red": "off"}  # YAML 1.1's false, read as the word
    tower2 = cfg.outputs[2]
    assert tower2.payload("red", "fast") == "blink" and tower2.flashes_itself("red", "fast")
    assert not cfg.outputs[0].flashes_itself("red", "fast")  # a coil: wallctl flashes it


def test_every_mistake_is_located_and_says_what_was_expected(tmp_path: Path) -> None:
    bad = """
outputs:
  - name: tower-1
    driver: modbus_tcp
    channels: {red: {coil: 0}, amber: {coil: 0}, green: {index: 2}}
    fast_hz: 5
  - name: relay-1
    driver: mqtt
    topic: cmnd/relay-1/POWER{relay}
    url: http://nope
    channels: {red: {coil: 1}}
  - name: tower-1
    driver: http
    url: http://t/api
    payloads: {blink: 3}
    channels: {red: {}}
lights:
  - {when: {priority: hihg}, red: fast}
  - {when: calmm, green: steady}
  - {when: calm, gren: steady}
  - {when: untrusted, blue: blink}
"""
    text = write_config(tmp_path, extra=bad).read_text()
    found = problems(tmp_path, bad)
    expected = [
        (line_of(text, "fast_hz: 5"), "outputs[0].fast_hz: 5.0 is out of range; expected between 1.4 and 2.8"),
        (line_of(text, "name: tower-1"), "outputs[0]: the modbus_tcp driver needs 'host'"),
        (line_of(text, "amber: {coil: 0}"), "outputs[0].channels.amber.coil: 0 is channel red's too"),
        (line_of(text, "amber: {coil: 0}"), "outputs[0].channels.green: give exactly one of coil or register"),
        (line_of(text, "POWER{relay}"), "outputs[1].topic: template 'cmnd/relay-1/POWER{relay}': unknown placeholder"),
        (line_of(text, "url: http://nope"), "outputs[1].url: only for the http driver, not mqtt"),
        (line_of(text, "red: {coil: 1}"), "outputs[1].channels.red.coil: only for the modbus_tcp driver"),
        (0, "outputs[2].name: 'tower-1' is used twice (also outputs[0])"),
        (line_of(text, "payloads: {blink: 3}"), "outputs[2].payloads: 'blink' is not one of off, steady, slow, fast"),
        (
            line_of(text, "hihg"),
            "lights[0].when.priority: 'hihg' is not one of high, medium, low, cue (did you mean 'high'?)",
        ),
        (line_of(text, "calmm"), "lights[1].when: 'calmm' is not one of calm, untrusted (did you mean 'calm'?)"),
        (line_of(text, "blink}"), "lights[3].blue: 'blink' is not one of off, steady, slow, fast, horn"),
    ]
    for line, message in expected:
        hits = [f for f in found if message in f and (line == 0 or f.startswith(f"{line}:"))]
        assert hits, f"{line}: {message}\nnot in:\n" + "\n".join(found)


def test_validate_reports_them_and_warns_of_outputs_nothing_drives(tmp_path: Path) -> None:
    lonely = """
outputs:
  - {name: tower-1, driver: modbus_tcp, host: 127.0.0.1, channels: {red: {coil: 0}}}
"""
    found, _ = validate_paths([write_config(tmp_path, extra=lonely)])
    warnings = [p for p in found if "no 'lights' rules" in p.message]
    assert warnings and warnings[0].level == "warning"
    assert not [p for p in found if p.level == "error" and "outputs" in p.message]
    found, _ = validate_paths([write_config(tmp_path, extra=lonely.replace("coil: 0", "coil: -1"))])
    assert [p for p in found if "outputs[0].channels.red.coil: -1 is out of range" in p.message]
    typo = lonely + "lights:\n  - {when: calm, rde: steady}\n"
    found, _ = validate_paths([write_config(tmp_path, extra=typo)])
    [warning] = [p for p in found if "lights[0].rde" in p.message]
    assert warning.level == "warning" and "no output has a channel 'rde' (did you mean 'red'?)" in warning.message


def test_credentials_come_from_the_environment_and_a_missing_one_is_located(tmp_path: Path) -> None:
    section = """
outputs:
  - name: tower-2
    driver: http
    url: http://t/api/{channel}
    token_env: TOWER_TOKEN
    channels: {red: {}}
lights:
  - {when: calm, red: steady}
"""
    doc = load_yaml(write_config(tmp_path, extra=section))
    missing = check_output_credentials(doc, environ={})
    assert (
        len(missing) == 1
        and "outputs[0].token_env: the environment variable TOWER_TOKEN is not set" in missing[0].message
    )
    assert check_output_credentials(doc, environ={"TOWER_TOKEN": "t"}) == []


def test_the_schema_knows_the_channels_of_a_rule(tmp_path: Path) -> None:
    import yaml

    validator = jsonschema.Draft202012Validator(schemas()["wallctl.schema.json"])
    data = yaml.safe_load(GOOD.replace("red: off", "red: steady"))
    assert list(validator.iter_errors(data)) == []
    data["lights"][0]["red"] = "blink"
    assert [e.message for e in validator.iter_errors(data)]


def test_the_shipped_example_is_valid_once_uncommented(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """config/wallctl.yaml carries the outputs and lights example commented out (the demo has no tower)."""
    text = (Path(__file__).resolve().parents[2] / "config" / "wallctl.yaml").read_text()
    block = text[text.index("# outputs:") : text.index("\nengine:")]
    example = "\n".join(line[2:] for line in block.splitlines() if line.startswith("# "))
    monkeypatch.setenv("TOWER_TOKEN", "t")
    cfg = load_config(write_config(tmp_path, extra=example)).model
    assert [o.name for o in cfg.outputs] == ["tower-1", "beacon-hall", "tower-2"] and len(cfg.lights) == 6
    assert check_output_credentials(load_yaml(tmp_path / "wallctl.yaml")) == []


def test_a_command_topic_with_a_wildcard_is_refused(tmp_path: Path) -> None:
    section = """
outputs:
  - {name: relay-1, driver: mqtt, topic: "cmnd/+/POWER{index}", channels: {red: {index: 1}}}
lights:
  - {when: calm, red: steady}
"""
    assert any(
        "outputs[0].topic: 'cmnd/+/POWER{index}' holds an MQTT wildcard" in p for p in problems(tmp_path, section)
    )


def test_a_relay_topic_with_index_needs_one_per_channel_each_its_own(tmp_path: Path) -> None:
    """Without it a Tasmota ``cmnd/dev/POWER`` switches relay 1: another channel's lamp (a newcomer's trial)."""
    bad = GOOD.replace("channels: {red: {index: 1}, buzzer: {index: 2}}", "channels: {red: {index: 1}, buzzer: {}}")
    found = problems(tmp_path, bad)
    assert len(found) == 1 and "outputs[1].channels.buzzer: the topic names {index}" in found[0], found
    shared = GOOD.replace("buzzer: {index: 2}}", "buzzer: {index: 1}}")
    (found,) = problems(tmp_path, shared)
    assert "outputs[1].channels.buzzer.index: 1 is channel red's too" in found
