"""Every problem in layouts, rules, config, sound map and topology is reported at once, at its file:line:col."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.support.problems import problems
from wallctl.core.config.settings import load_config
from wallctl.core.sound.soundmap import load_soundmap
from wallctl.core.topology.files import load_topology
from wallctl.core.wall.presets import load_layouts

ROOT = Path(__file__).resolve().parents[2]


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def test_shipped_files_are_valid() -> None:
    ls = load_layouts(ROOT / "layouts")
    assert set(ls.modes) == {"normal", "incident", "environment", "flood", "briefing", "deaf"}
    assert ls.default_mode == "normal" and len(ls.rules.rules) == 6
    load_config(ROOT / "config" / "wallctl.yaml")
    load_soundmap(ROOT / "sounds" / "soundmap.yaml")
    topo = load_topology(ROOT / "topology" / "estate.yaml")
    assert len(topo.graph) > 100


def test_broken_mode_file_reports_each_problem_with_location(layouts: Path) -> None:
    f = write(
        layouts / "modes" / "09-broken.yaml",
        """\
        name: broken
        hotkey: F1
        focus: nowhere
        regions:
          - {name: a, row: 0, column: 0, columns: 2, tile: {type: clock}}
          - {name: b, row: 0, column: 1, tile: {type: text, options: {txt: hi}}}
          - {name: c, row: 1, column: 2, columns: 3, tile: {type: alarm_list}}
          - {name: a, row: 1, column: 0, tile: {type: alarm_summary}}
        """,
    )
    got = problems(load_layouts, layouts, reserved_hotkeys={"ack": "A"})
    assert (
        f"{f}:6:63: regions[1].tile.options: unknown key 'txt' (did you mean 'text'?); expected one of align, font_pt, text"
        in got
    )
    assert f"{f}:6:5: region 'b' overlaps region 'a' at row 0, column 1" in got
    assert len(got) == 6  # all of them in one run


def test_cross_checks(layouts: Path) -> None:
    f = write(
        layouts / "modes" / "09-x.yaml",
        """\
        name: x
        hotkey: F1
        focus: nowhere
        regions:
          - {name: a, row: 0, column: 0, columns: 2, tile: {type: clock}}
          - {name: b, row: 0, column: 1, tile: {type: text}}
          - {name: c, row: 1, column: 2, columns: 3, tile: {type: alarm_list}}
          - {name: a, row: 1, column: 0, tile: {type: alarm_summary}}
        """,
    )
    got = problems(load_layouts, layouts, reserved_hotkeys={"ack": "A"})
    assert f"{f}:6:5: region 'b' overlaps region 'a' at row 0, column 1" in got
    assert f"{f}:7:5: region 'c' (rows 1..1, columns 2..4) is off the 2x3 grid" in got
    assert f"{f}:8:12: region name 'a' is used twice in mode 'x'" in got
    assert any(p.startswith(f"{f}:3:8: focus region 'nowhere' is not a region of mode 'x'") for p in got)
    assert f"{f}:2:9: hotkey F1 of mode 'x' is already bound to mode 'normal'" in got


def test_unknown_tile_type_and_bad_types(layouts: Path) -> None:
    f = write(
        layouts / "modes" / "09-y.yaml",
        """\
        name: y
        regions:
          - {name: a, row: zero, column: 0, tile: {type: topolgy}}
        """,
    )
    got = problems(load_layouts, layouts)
    assert f"{f}:3:20: regions[0].row: expected an integer, got 'zero'" in got
    assert any(
        p.startswith(f"{f}:3:50: regions[0].tile.type: 'topolgy' is not one of") and "did you mean 'topology'" in p
        for p in got
    )


def test_rules_unknown_mode_region_and_severity(layouts: Path) -> None:
    f = write(
        layouts / "rules.yaml",
        """\
        rules:
          - name: r1
            mode: nope
            when: {severity_at_least: critical}
          - name: r2
            mode: incident
            focus_region: sidebar
          - name: r1
            mode: normal
            when: {count_at_least: 2, count_exit_below: 5}
        """,
    )
    got = problems(load_layouts, layouts)
    assert any(p.startswith(f"{f}:3:11: rule 'r1' names unknown mode 'nope'") for p in got)
    assert any(p.startswith(f"{f}:7:19: region 'sidebar' is not in mode 'incident'") for p in got)
    assert f"{f}:8:11: rule name 'r1' is used twice" in got
    assert any(p.startswith(f"{f}:10:49: count_exit_below (5) must not exceed count_at_least (2)") for p in got)


def test_yaml_syntax_error_location(layouts: Path) -> None:
    f = layouts / "rules.yaml"
    f.write_text("rules:\n  - name: a\n    mode: [unclosed\n")
    got = problems(load_layouts, layouts)
    assert got == [f"{f}:3:11: unterminated '[' list (started here; found end of file at 4:1)"]


def test_duplicate_keys_are_errors(layouts: Path) -> None:
    f = layouts / "rules.yaml"
    f.write_text("rules: []\nrules: []\n")
    assert problems(load_layouts, layouts) == [f"{f}:2:1: duplicate key 'rules' (first defined at line 1)"]


def test_wall_problems(layouts: Path) -> None:
    f = write(
        layouts / "wall.yaml",
        """\
        wall:
          rows: 2
          columns: 3
          focus_zone: {row: 1, column: 2, rows: 2}
          monitors:
            - {row: 0, column: 0, screen: A}
            - {row: 0, column: 0, screen: A}
            - {row: 3, column: 0}
          colums: 4
        """,
    )
    got = problems(load_layouts, layouts)
    assert (
        f"{f}:9:3: wall: unknown key 'colums' (did you mean 'columns'?); expected one of banner, bezel_compensation, "
        "bezel_mm, columns, default_mode, focus_zone, monitors, name, panel, rows, viewing_distance_m" in got
    )


def test_wall_cross_checks(layouts: Path) -> None:
    f = write(
        layouts / "wall.yaml",
        """\
        wall:
          rows: 2
          columns: 3
          focus_zone: {row: 1, column: 2, rows: 2}
          monitors:
            - {row: 0, column: 0, screen: A}
            - {row: 0, column: 0, screen: A}
            - {row: 3, column: 0}
        """,
    )
    got = problems(load_layouts, layouts)
    assert f"{f}:7:7: two monitors in cell row 0, column 0 (also monitors[0])" in got
    assert f"{f}:7:35: screen 'A' is used twice (also monitors[0])" in got
    assert f"{f}:8:7: monitor at row 3, column 0 is off the 2x3 grid" in got
    assert f"{f}:4:15: focus_zone runs off the 2x3 grid" in got


def test_config_problems(tmp_path: Path) -> None:
    f = write(
        tmp_path / "c.yaml",
        """\
        wall_id: w
        mqtt:
          port: 99999
          protocol: 4
          subscriptions:
            - {filter: "a/#", qos: 3}
          topic_templates: ["noc/{bogus}"]
        heartbeats:
          - {interval_s: 60}
        """,
    )
    got = problems(load_config, f)
    assert f"{f}:3:9: mqtt.port: 99999 is out of range; expected between 1 and 65535" in got
    assert f"{f}:4:13: mqtt.protocol: 4 is not one of 5, 3.1.1" in got
    assert f"{f}:6:28: mqtt.subscriptions[0].qos: 3 is out of range; expected between 0 and 2" in got
    assert f"{f}:9:5: heartbeats[0]: a heartbeat needs exactly one of 'source' or 'topic'" in got


def test_soundmap_problems(tmp_path: Path) -> None:
    f = write(
        tmp_path / "s.yaml",
        """\
        sounds:
          a: {file: missing.wav}
        map:
          - {sound: b}
        defaults:
          critcal: {sound: a}
        specials: {ringback: a}
        """,
    )
    got = problems(load_soundmap, f)
    assert f"{f}:2:13: sound file '{tmp_path / 'missing.wav'}' not found" in got
    assert f"{f}:4:13: unknown sound 'b'; defined: a" in got
    assert any(p.startswith(f"{f}:6:3: unknown severity 'critcal'") for p in got)
    assert any(p.startswith(f"{f}:7:12: unknown special 'ringback'") for p in got)


def test_topology_problems(tmp_path: Path) -> None:
    f = write(
        tmp_path / "t.yaml",
        """\
        root: r0
        sites: [{id: s1}]
        nodes:
          - {id: a, site: s2, kind: router}
          - {id: a, kind: toaster}
          - {id: b, x: 1}
        links:
          - {a: a, b: zz}
          - {a: b, b: b}
        """,
    )
    got = problems(load_topology, f)
    assert f"{f}:1:7: root 'r0' is not a node" in got
    assert f"{f}:4:19: node 'a' names unknown site 's2'" in got
    assert any(p.startswith(f"{f}:5:19: nodes[1].kind: 'toaster' is not one of") for p in got)
    assert f"{f}:6:5: node 'b' needs both x and y, or neither" in got
    assert f"{f}:8:15: link end 'zz' is not a node" in got
    assert f"{f}:9:5: link from 'b' to itself" in got
