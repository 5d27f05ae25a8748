"""The ``sites:`` section's checks and the Mosquitto bridge section written for a branch broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.problems import problems
from tests.support.wall import write_config
from wallctl.cli import main
from wallctl.core.config.bridge import BridgeOptions, bridge_section
from wallctl.core.config.settings import load_config
from wallctl.core.config.sites import Site, site_groups, site_subscriptions

CHENGDU = Site("chengdu", "branch/chengdu/", 60.0)


def test_the_bridge_section_carries_the_event_topics_out_only_under_the_prefix() -> None:
    text = bridge_section(CHENGDU, ["noc/events/#", "grafana/alerts/#", "noc/events/#"], "ho.example:1883")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[:2] == ["connection wallctl-chengdu", "address ho.example:1883"]
    for setting in (
        "remote_clientid wallctl-bridge-chengdu",
        "bridge_protocol_version mqttv50",
        "cleansession false",
        "notifications true",
        "notification_topic branch/chengdu/$bridge/state",
        "restart_timeout 5 60",
        "keepalive_interval 30",
    ):
        assert setting in lines
    topics = [line for line in lines if line.startswith("topic ")]
    assert topics == [
        'topic noc/events/# out 1 "" branch/chengdu/',
        'topic grafana/alerts/# out 1 "" branch/chengdu/',
    ]  # each filter once, out only: nothing the head office has comes back to the branch (no loop)
    # broker-wide limits are explained, never set: appended twice they would be a second value for one option
    assert not [line for line in lines if line.startswith(("max_queued", "persistence", "autosave"))]
    assert "#   max_queued_messages 100000" in text and "#   max_queued_bytes 104857600" in text
    assert "#   set_tcp_nodelay true" in text  # broker-wide as well: explained, not set
    assert "drops the NEWER events" in text


def test_bridge_options_and_bad_input_are_refused_with_the_reason() -> None:
    text = bridge_section(
        CHENGDU, ["noc/#"], "10.0.0.1:8883", BridgeOptions(keepalive_s=10, restart_base_s=2, restart_cap_s=2)
    )
    assert "keepalive_interval 10" in text and "restart_timeout 2 2" in text
    with pytest.raises(ValueError, match="not HOST:PORT"):
        bridge_section(CHENGDU, ["noc/#"], "ho.example")
    with pytest.raises(ValueError, match="split at spaces"):
        bridge_section(CHENGDU, ["noc/my events/#"], "ho:1883")
    with pytest.raises(ValueError, match="5 s at least"):
        BridgeOptions(keepalive_s=2)
    with pytest.raises(ValueError, match="base <= cap"):
        BridgeOptions(restart_base_s=10, restart_cap_s=5)


def test_the_wall_subscribes_to_each_prefix_before_each_filter_and_to_each_bridge_state() -> None:
    wuhan = Site("wuhan", "branch/wuhan/")
    got = site_subscriptions([CHENGDU, wuhan], [("noc/events/#", 1), ("grafana/#", 0)])
    assert got == (
        ("branch/chengdu/noc/events/#", 1),
        ("branch/chengdu/grafana/#", 0),
        ("branch/chengdu/$bridge/state", 1),
        ("branch/wuhan/noc/events/#", 1),
        ("branch/wuhan/grafana/#", 0),
        ("branch/wuhan/$bridge/state", 1),
    )
    groups = site_groups({"br05": frozenset({"br05-rtr"}), "dc1": frozenset({"dc1-core-1"})}, [Site("br05", "b/5/")])
    assert groups["br05"] == {"br05-rtr", "site/br05"} and groups["dc1"] == {"dc1-core-1"}


def test_sites_are_checked_where_they_are_written(tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path,
        extra="""\
sites:
  - {name: chengdu, topic_prefix: branch/chengdu/, heartbeat_s: 60}
  - {name: chengdu, topic_prefix: branch/chengdu/east/}
  - {name: wuhan, topic_prefix: branch/wuhan}
  - {name: "xi an", topic_prefix: branch/xian/}
  - {name: hz, topic_prefix: "branch/+/"}
  - {name: nj, topic_prefix: branch/nj/, heartbeat_s: 0}
""",
    )
    lines = problems(load_config, cfg)
    text = cfg.read_text().splitlines()
    first = next(i for i, line in enumerate(text, 1) if line.startswith("sites:"))
    expected = [
        (1, "sites[1].name: 'chengdu' is used twice (also sites[0])"),
        (1, "sites[1].topic_prefix: 'branch/chengdu/east/' overlaps sites[0]'s 'branch/chengdu/'"),
        (2, "sites[2]: topic_prefix 'branch/wuhan' must end with '/'"),
        (3, "sites[3]: name 'xi an': letters, digits"),
        (4, "sites[4]: topic_prefix 'branch/+/' holds an MQTT wildcard"),
        (5, "sites[5].heartbeat_s: 0.0 is out of range; expected at least 1"),
    ]
    for offset, message in expected:
        assert any(f"{cfg}:{first + 1 + offset}:" in line and message in line for line in lines), (message, lines)


def test_a_valid_site_loads_and_bridge_config_prints_its_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path, extra="sites:\n  - {name: chengdu, topic_prefix: branch/chengdu/, heartbeat_s: 60}\n")
    assert load_config(cfg).model.sites == (CHENGDU,)
    assert main(["bridge-config", "--config", str(cfg), "--site", "chengdu", "--head", "ho.example:1883"]) == 0
    out = capsys.readouterr().out
    assert out == bridge_section(CHENGDU, ["noc/events/#"], "ho.example:1883")
    assert main(["bridge-config", "--config", str(cfg), "--site", "wuhan", "--head", "ho.example:1883"]) == 2
    assert "unknown site 'wuhan'; known sites: chengdu" in capsys.readouterr().err
    args = [
        "bridge-config",
        "--config",
        str(cfg),
        "--site",
        "chengdu",
        "--head",
        "ho:1883",
        "--restart-timeout",
        "1",
        "2",
        "3",
    ]
    assert main(args) == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["bridge-config", "--config", str(cfg), "--site", "chengdu", "--head", "ho"])
    assert exit_info.value.code == 2
