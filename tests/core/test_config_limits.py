"""Every YAML load (run, live reload, validate, preview) is bounded: file size, alias expansion, values, depth.

A 534-byte alias bomb once took a validating process past 3 GB and a 5 MB layout froze the wall for 13 s; both
are now refused at once with a location, while real files (a 5,000-node estate included) still load. The same
loaders refuse layouts that would leave the wall blind (no rules) and log what would leave it blind or deaf.
"""

from __future__ import annotations

import shutil
import time
import tracemalloc
from pathlib import Path

import pytest

from tests.support.problems import problems
from wallctl.bench.topogen import write_synthetic
from wallctl.core.config.settings import load_config
from wallctl.core.files.yamldoc import LIMITS, TOPOLOGY_LIMITS, Problem, load_yaml, parse_yaml
from wallctl.core.sound.soundmap import load_soundmap
from wallctl.core.topology.files import load_topology
from wallctl.core.wall.presets import load_layouts

ROOT = Path(__file__).resolve().parents[2]


def billion_laughs() -> str:
    """The classic: nine levels of nine aliases, 9**9 (387 million) strings once expanded, in 534 bytes."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "# a billion laughs\n" + "\n".join(lines) + "\n"
    return text + "#" * (534 - len(text) - 1) + "\n"


def test_alias_bomb_is_refused_at_once_with_bounded_memory() -> None:
    bomb = billion_laughs()
    assert len(bomb.encode()) == 534
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        got = problems(parse_yaml, bomb, "bomb.yaml")
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 2.0
    assert peak < 5 << 20  # a few megabytes at most (the bomb expanded would be tens of gigabytes)
    assert got == [
        "bomb.yaml:7:8: alias *e repeats 66,430 values and takes the document past 100,000, the limit for layout, "
        "rule, sound map and configuration files: refused (an alias bomb?)"
    ]


def test_alias_bomb_in_a_mode_file_is_refused_by_the_layouts_loader(layouts: Path) -> None:
    """The loader ``run``, live reload and preview use: the wall keeps its last good layout."""
    bomb = layouts / "modes" / "07-bomb.yaml"
    bomb.write_text(billion_laughs())
    got = problems(load_layouts, layouts)
    assert any(p.startswith(f"{bomb}:7:8: alias *e repeats") for p in got), got


def test_aliases_within_the_limit_still_work() -> None:
    doc = parse_yaml("base: &b {severity_at_least: major}\nrules: [{when: *b}, {when: *b}]\n", "f.yaml")
    assert doc.data["rules"] == [{"when": {"severity_at_least": "major"}}] * 2


def test_recursive_alias_is_refused() -> None:
    assert problems(parse_yaml, "a: &x [1, *x]\n", "f.yaml") == [
        "f.yaml:1:11: alias *x refers to a node that contains it"
    ]


def test_a_5_mb_layout_file_is_refused_with_its_size(layouts: Path) -> None:
    big = layouts / "modes" / "07-big.yaml"
    big.write_text("name: big\nregions: []\n" + "# padding\n" * 500_000)  # 5,000,022 bytes
    got = problems(load_layouts, layouts)
    assert (
        f"{big}:1:1: file is 4.8 MiB (5,000,022 bytes); layout, rule, sound map and configuration files may be at "
        "most 1 MiB"
    ) in got


def test_too_many_values_and_too_deep_are_refused() -> None:
    many = "[" + ",".join(["1"] * (LIMITS.max_values + 1)) + "]\n"
    assert len(many) < LIMITS.max_bytes
    got = problems(parse_yaml, many, "f.yaml")
    assert len(got) == 1 and got[0].startswith("f.yaml:1:") and f"more than {LIMITS.max_values:,} values" in got[0]
    deep = "a: " + "[" * 70 + "]" * 70 + "\n"
    assert problems(parse_yaml, deep, "f.yaml") == ["f.yaml:1:67: nested deeper than 64 levels"]


def test_shipped_files_load() -> None:
    load_layouts(ROOT / "layouts")
    load_config(ROOT / "config" / "wallctl.yaml")
    load_soundmap(ROOT / "sounds" / "soundmap.yaml")
    assert len(load_topology(ROOT / "topology" / "estate.yaml").graph) > 100


def test_a_5000_node_topology_over_the_layout_limit_still_loads(tmp_path: Path) -> None:
    path = write_synthetic(tmp_path / "big.yaml", 5000, 10_000)
    with path.open("a") as f:  # a real export carries comments and labels: push it past the 1 MiB layout limit
        f.write(("# " + "x" * 98 + "\n") * 4000)
    assert LIMITS.max_bytes < path.stat().st_size < TOPOLOGY_LIMITS.max_bytes
    topo = load_topology(path)
    assert len(topo.graph) == 5000 and topo.graph.number_of_edges() == 10_000
    assert problems(load_yaml, path)[0].startswith(f"{path}:1:1: file is 1.1 MiB")  # the default limit would refuse


def test_topology_files_have_their_own_size_limit(tmp_path: Path) -> None:
    for name in ("huge.yaml", "huge.graphml"):
        path = tmp_path / name
        with path.open("wb") as f:
            f.truncate(TOPOLOGY_LIMITS.max_bytes + 1)
        assert problems(load_topology, path) == [
            f"{path}:1:1: file is 32.0 MiB (33,554,433 bytes); topology files may be at most 32 MiB"
        ]


# ---------------------------------------------------------------------------- configuration that leaves the wall blind
def test_rules_that_leave_the_wall_blind_are_refused_at_load(layouts: Path) -> None:
    rules = layouts / "rules.yaml"
    for text, where in (("", "1:1: rules.yaml is empty"), ("rules: []\n", "1:8: no rules")):
        rules.write_text(text)
        got = problems(load_layouts, layouts)
        assert len(got) == 1 and got[0].startswith(f"{rules}:{where}: without rules the wall never leaves"), got


def test_no_rule_for_a_lost_broker_link_is_logged_at_load(layouts: Path, caplog: pytest.LogCaptureFixture) -> None:
    rules = layouts / "rules.yaml"
    rules.write_text(rules.read_text().replace("link_down: true, ", ""))
    with caplog.at_level("WARNING", logger="wallctl.config"):
        load_layouts(layouts)  # valid: the wall runs, and the log says what it will not show
    assert [r.getMessage() for r in caplog.records] == [
        f"{rules}:5:1: warning: no rule for a lost broker link (when: {{link_down: true, count_at_least: 0}}): while "
        "no events arrive the wall would look calm instead of saying it is blind"
    ]
    collected: list[Problem] = []
    caplog.clear()
    load_layouts(layouts, warnings=collected)
    assert len(collected) == 1 and not caplog.records  # a caller that collects (validate) gets them instead


def test_a_sound_map_without_a_sound_for_critical_is_logged_at_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sounds = tmp_path / "sounds"
    shutil.copytree(ROOT / "sounds", sounds)
    f = sounds / "soundmap.yaml"
    f.write_text(f.read_text().replace("critical: {sound: network_high, repeat_s: 15}", "critical: null"))
    with caplog.at_level("WARNING", logger="wallctl.config"):
        load_soundmap(f)
    assert len(caplog.records) == 1
    assert "critical alarms that no 'map' entry matches make no sound: 'defaults' silences critical (null)" in (
        caplog.records[0].getMessage()
    )
    f.write_text(
        f.read_text().replace("\nmap:\n", "\nmap:\n  - {match: {severity_at_least: critical}, sound: network_high}\n")
    )
    caplog.clear()
    with caplog.at_level("WARNING", logger="wallctl.config"):
        load_soundmap(f)  # a catch-all entry for critical: nothing to warn about
    assert not caplog.records
