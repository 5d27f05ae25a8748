"""A broken file is reported where the mistake starts (the opening quote, the unclosed element), with where the
parser gave up beside it: YAML layouts and rules, the sound map, GraphML topologies."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.core.test_topology import GRAPHML
from tests.support.problems import problems
from wallctl.core.files.yamldoc import parse_yaml
from wallctl.core.sound.soundmap import load_soundmap
from wallctl.core.topology.files import load_topology
from wallctl.core.wall.presets import load_layouts

ROOT = Path(__file__).resolve().parents[2]


def test_unterminated_quote_on_line_5_of_the_rules_is_reported_at_the_quote(layouts: Path) -> None:
    f = layouts / "rules.yaml"
    lines = f.read_text().splitlines()[1:]  # without the schema line, line 5 is the first rule's name
    assert lines[4] == "  - name: broker-link-lost"
    lines[4] = '  - name: "broker-link-lost'
    f.write_text("\n".join(lines) + "\n")
    end = len(lines) + 1
    assert problems(load_layouts, layouts) == [
        f"{f}:5:11: unterminated quoted string (started here; found end of file at {end}:1)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\nb: [1, 2\n", "2:4: unterminated '[' list (started here; found end of file at 3:1)"),
        (
            "a: {x: 1\nb: 2\n",
            "1:4: YAML syntax error in this '{' mapping (started here; did not find expected ',' or '}' at 2:2)",
        ),
        ("a: 1\nb\nc: 2\n", "2:1: YAML syntax error in this key (started here; could not find expected ':' at 3:1)"),
        ("a:\n\tb: 1\n", "2:1: YAML syntax error: found a tab: YAML indents with spaces only"),
        (
            "a:\n  b: 1\n c: 2\n",
            "3:2: YAML syntax error: did not find expected key (in the mapping from 1:1; check the indentation)",
        ),
        ("a: 1\n---\nb: 2\n", "2:1: a second YAML document ('---'): a wallctl file holds one"),
        ("a: *nowhere\n", "1:4: alias *nowhere names no anchor defined before it"),
        ("a: &x 1\nb: &x 2\n", "2:4: anchor &x is defined twice (first at line 1)"),
    ],
)
def test_yaml_syntax_errors_point_at_their_start(text: str, expected: str) -> None:
    assert problems(parse_yaml, text, "f.yaml") == [f"f.yaml:{expected}"]


def test_a_byte_that_is_not_utf8_is_located(tmp_path: Path) -> None:
    f = tmp_path / "rules.yaml"
    f.write_bytes(b"rules:\n  - name: caf\xe9\n")
    from wallctl.core.files.yamldoc import load_yaml

    assert problems(load_yaml, f) == [f"{f}:2:14: file is not UTF-8: byte 0xe9 cannot start a character"]


def test_sound_map_syntax_error_points_at_the_entry_that_starts_it(tmp_path: Path) -> None:
    f = tmp_path / "soundmap.yaml"
    lines = (ROOT / "sounds" / "soundmap.yaml").read_text().splitlines()
    i = next(n for n, line in enumerate(lines) if line.startswith("  network_medium:"))
    lines[i] = lines[i].rstrip("}")  # the flow mapping never closes
    f.write_text("\n".join(lines) + "\n")
    got = problems(load_soundmap, f)
    assert len(got) == 1
    assert got[0].startswith(f"{f}:{i + 1}:19: YAML syntax error in this '{{' mapping (started here; ")


def test_graphml_unclosed_element_is_reported_where_it_opens(tmp_path: Path) -> None:
    f = tmp_path / "nms.graphml"
    lines = GRAPHML.splitlines()
    i = next(n for n, line in enumerate(lines) if '<node id="edge1">' in line)
    lines[i] = lines[i].replace("</node>", "")
    f.write_text("\n".join(lines) + "\n")
    col = lines[i].index("<node") + 1
    close = next(n for n, line in enumerate(lines) if "</graph>" in line)
    assert problems(load_topology, f) == [
        f"{f}:{i + 1}:{col}: GraphML is not well-formed XML: <node> is not closed (started here; found a closing "
        f"tag that does not match at {close + 1}:{lines[close].index('</graph>') + 1})"
    ]
    f.write_text("<graphml>\n  <graph>\n    <node id='a'/>\n")
    assert problems(load_topology, f) == [
        f"{f}:2:3: GraphML is not well-formed XML: <graph> is not closed (started here; found end of file at 4:1)"
    ]


def test_graphml_bad_values_are_reported_on_the_line_of_their_data_element(tmp_path: Path) -> None:
    f = tmp_path / "nms.graphml"
    f.write_text(
        textwrap.dedent("""\
        <?xml version="1.0" encoding="UTF-8"?>
        <graphml xmlns="http://graphml.graphdrawing.org/xmlns">
          <key id="k" for="node" attr.name="kind" attr.type="string"/>
          <key id="x" for="node" attr.name="x" attr.type="double"/>
          <key id="y" for="node" attr.name="y" attr.type="double"/>
          <graph id="G" edgedefault="undirected">
            <node id="a">
              <data key="k">router</data>
              <data key="x">12</data>
              <data key="y">north</data>
            </node>
            <node id="b">
              <data key="k">toaster</data>
            </node>
          </graph>
        </graphml>
        """)
    )
    got = problems(load_topology, f)
    assert f"{f}:10:1: node 'a': y 'north' is not a number" in got
    assert any(p.startswith(f"{f}:13:1: node 'b': kind 'toaster' is not one of") for p in got), got
    assert len(got) == 2
