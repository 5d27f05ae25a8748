"""GraphML from the tools people already have: networkx, yEd, the Topology Zoo, Gephi, network management exports.

Foreign node kinds draw as 'other' with one summary warning; labels and positions come from where each tool puts
them; other attributes are kept (bounded) for the hover; ``source_key`` maps the ids events use onto the nodes."""

from __future__ import annotations

import logging
import math
import shutil
import textwrap
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from wallctl.core.alarms.engine import AlarmEngine
from wallctl.core.alarms.event import Event
from wallctl.core.clock import ManualClock
from wallctl.core.files.yamldoc import ConfigError, Problem
from wallctl.core.severity import Severity
from wallctl.core.topology.files import load_topology
from wallctl.core.topology.graphml_dialects import MAX_ATTRIBUTES, MAX_VALUE
from wallctl.core.topology.model import Topology
from wallctl.core.topology.state import TopologyState
from wallctl.validate import validate_paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "graphml"


def fixture(name: str, tmp_path: Path) -> Path:
    """A copy in tmp_path: loading may write a positions cache beside the file."""
    return Path(shutil.copy(FIXTURES / name, tmp_path / name))


def load(path: Path, source_key: str | None = None) -> tuple[Topology, list[Problem]]:
    warnings: list[Problem] = []
    return load_topology(path, source_key=source_key, warnings=warnings), warnings


def errors_of(path: Path, source_key: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_topology(path, source_key=source_key)
    return [str(p) for p in info.value.problems if p.level == "error"]


# ------------------------------------------------------------------------------------------------------ networkx
def test_networkx_internet_graph_loads_with_one_notice_naming_the_foreign_kinds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    g = nx.random_internet_as_graph(1000, seed=1)
    path = tmp_path / "as.graphml"
    nx.write_graphml(g, path)
    counts = Counter(str(d["type"]) for _, d in g.nodes(data=True))
    assert set(counts) == {"T", "M", "CP", "C"}  # none of them a wallctl kind

    topo, warnings = load(path)
    assert len(topo.graph) == 1000 and topo.graph.number_of_edges() == g.number_of_edges()
    assert {d["kind"] for _, d in topo.graph.nodes(data=True)} == {"other"}
    assert len(warnings) == 1 and warnings[0].level == "warning", warnings
    notice = warnings[0].message
    assert notice.startswith("1,000 nodes of kinds not known to wallctl (") and "drawn as 'other'" in notice
    for kind, n in counts.items():
        assert f"{kind}: {n:,}" in notice
    assert topo.node("0")["attributes"]["type"] == "T"  # the foreign kind is kept, shown on hover

    caplog.set_level(logging.WARNING)
    problems, _ = validate_paths([path])  # `wallctl validate`: valid (exit 0), the notice is shown
    assert [p for p in problems if p.level == "error"] == []
    shown = [p.message for p in problems] + [r.getMessage() for r in caplog.records]
    assert sum("nodes of kinds not known to wallctl" in m for m in shown) == 1, shown


def test_wallctls_own_kind_word_stays_strict_and_known_types_draw_by_shape(tmp_path: Path) -> None:
    path = tmp_path / "nms.graphml"
    path.write_text(
        textwrap.dedent("""\
        <graphml xmlns="http://graphml.graphdrawing.org/xmlns">
          <key id="t" for="node" attr.name="type" attr.type="string"/>
          <key id="k" for="node" attr.name="kind" attr.type="string"/>
          <graph edgedefault="undirected">
            <node id="a"><data key="t">Router</data></node>
            <node id="b"><data key="t">core-switch</data></node>
            <node id="c"><data key="k">toaster</data></node>
          </graph>
        </graphml>
        """)
    )
    got = errors_of(path)
    assert len(got) == 1 and got[0].startswith(f"{path}:7:1: node 'c': kind 'toaster' is not one of"), got
    path.write_text(path.read_text().replace('<data key="k">toaster</data>', ""))
    topo, warnings = load(path)
    assert [topo.node(n)["kind"] for n in "abc"] == ["router", "core_switch", "other"] and warnings == []


# ----------------------------------------------------------------------------------------------------------- yEd
def test_yed_file_loads_labels_geometry_groups_and_attributes(tmp_path: Path) -> None:
    topo, warnings = load(fixture("yed-groups.graphml", tmp_path))
    assert warnings == []
    labels = {n: topo.node(n)["label"] for n in topo.nodes}
    assert labels == {"n0": "Ivrea", "n1": "Turin", "n2::n0": "Savona", "n2::n1": "Brescia", "n2::n2::n0": "Savona"}
    assert topo.positions["n0"] == (20.0 + 15.0, 98.37646484375 + 15.0)  # the centre of its y:Geometry
    assert topo.positions["n1"] == (102.68888888888888 + 15.0, 15.0)  # y down, as yEd draws it (so does the map)
    # a yEd group is a site named by its (first, open) realizer's label; nested groups are sites of their own
    assert {s.id: s.label for s in topo.sites.values()} == {"n2": "Northern Italy", "n2::n2": "Group 2"}
    assert topo.groups() == {"n2": frozenset({"n2::n0", "n2::n1"}), "n2::n2": frozenset({"n2::n2::n0"})}
    assert topo.graph.number_of_edges() == 4
    attrs = topo.node("n1")["attributes"]
    assert attrs["url"] == "http://www.comune.torino.it" and attrs["description"].startswith("Turin is the capital")
    assert not (tmp_path / "yed-groups.graphml.positions.json").exists()  # every position came from the file


def test_a_yed_file_resaved_without_its_y_prefixes_still_gives_labels_and_positions(tmp_path: Path) -> None:
    path = fixture("yed-groups.graphml", tmp_path)
    path.write_text(path.read_text().replace("<y:", "<").replace("</y:", "</"))  # yEd's elements in GraphML's namespace
    topo, _ = load(path)
    assert topo.node("n2::n1")["label"] == "Brescia" and topo.positions["n0"] == (35.0, 113.37646484375)
    assert topo.sites["n2"].label == "Northern Italy"


# ------------------------------------------------------------------------------------------------- Topology Zoo
def test_topology_zoo_file_loads_labels_lon_lat_north_up_and_keeps_country(tmp_path: Path) -> None:
    topo, warnings = load(fixture("zoo-abilene.graphml", tmp_path))
    assert warnings == []
    assert len(topo.graph) == 11 and topo.graph.number_of_edges() == 14
    by_label = {topo.node(n)["label"]: n for n in topo.nodes}
    ny, seattle, houston = by_label["New York"], by_label["Seattle"], by_label["Houston"]
    assert topo.positions[ny] == (-74.00597, -40.71427)  # x = longitude, y = -latitude
    assert topo.positions[seattle][1] < topo.positions[houston][1]  # north is up (the map's y points down)
    assert topo.positions[seattle][0] < topo.positions[ny][0]  # west is left
    assert topo.node(ny)["attributes"] == {"Internal": "1", "Country": "United States", "id": "0"}  # lat/lon used
    assert topo.details(ny)[:2] == [("id", ny), ("kind", "other")]
    assert not (tmp_path / "zoo-abilene.graphml.positions.json").exists()


def test_a_zoo_node_without_coordinates_is_placed_beside_its_neighbours(tmp_path: Path) -> None:
    """Zoo files leave external nodes without coordinates: they go beside their neighbours, in degrees, instead
    of a computed layout (units of 1,000) that would shrink the real map to a dot."""
    path = fixture("zoo-abilene.graphml", tmp_path)
    text = path.read_text()
    indy = text.index('<node id="10">')
    node = text[indy : text.index("</node>", indy)]
    bare = "\n".join(line for line in node.splitlines() if 'key="d29"' not in line and 'key="d32"' not in line)
    path.write_text(text.replace(node, bare))
    topo, _ = load(path)
    (x, y), (cx, cy) = topo.positions["10"], topo.positions["1"]  # Chicago and Kansas City are its neighbours
    kx, ky = topo.positions["7"]
    assert math.dist((x, y), ((cx + kx) / 2, (cy + ky) / 2)) < 5.0  # within a few degrees of them
    assert topo.positions["0"] == (-74.00597, -40.71427)  # the others keep the file's coordinates


# ---------------------------------------------------------------------------------------------------------- Gephi
def test_gephi_export_has_its_y_flipped_so_the_map_matches_gephi(tmp_path: Path) -> None:
    """Gephi's GraphML exporter (ExporterGraphML.java) writes label, Edge Id, r/g/b, x/y and size keys; its y
    points up."""
    path = tmp_path / "gephi.graphml"
    path.write_text(
        textwrap.dedent("""\
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <graphml xmlns="http://graphml.graphdrawing.org/xmlns">
          <key attr.name="label" attr.type="string" for="node" id="label"/>
          <key attr.name="Edge Id" attr.type="string" for="edge" id="edgeid"/>
          <key attr.name="r" attr.type="int" for="node" id="r"/>
          <key attr.name="x" attr.type="float" for="node" id="x"/>
          <key attr.name="y" attr.type="float" for="node" id="y"/>
          <graph edgedefault="undirected">
            <node id="0"><data key="label">north</data><data key="r">153</data>
              <data key="x">10.5</data><data key="y">200.0</data></node>
            <node id="1"><data key="label">south</data><data key="r">153</data>
              <data key="x">10.5</data><data key="y">-200.0</data></node>
            <edge source="0" target="1"><data key="edgeid">0</data></edge>
          </graph>
        </graphml>
        """)
    )
    topo, _ = load(path)
    assert topo.positions["0"] == (10.5, -200.0) and topo.positions["1"] == (10.5, 200.0)
    assert topo.node("0")["label"] == "north" and topo.node("0")["attributes"] == {"r": "153"}


# ------------------------------------------------------------------------------------------------------ source_key
NMS = textwrap.dedent("""\
    <?xml version="1.0" encoding="UTF-8"?>
    <graphml xmlns="http://graphml.graphdrawing.org/xmlns">
      <key id="d0" for="node" attr.name="name" attr.type="string"/>
      <key id="d1" for="node" attr.name="type" attr.type="string"/>
      <key id="d2" for="edge" attr.name="a_if" attr.type="string"/>
      <graph edgedefault="undirected">
        <node id="101"><data key="d0">core-rtr-1</data><data key="d1">router</data></node>
        <node id="102"><data key="d0">dist-sw-7</data><data key="d1">distribution_switch</data></node>
        <node id="103"><data key="d0">srv-42</data></node>
        <edge source="101" target="102"><data key="d2">Te0/1</data></edge>
        <edge source="102" target="103"/>
      </graph>
    </graphml>
    """)


def test_source_key_makes_events_hit_the_node_named_by_that_attribute(tmp_path: Path) -> None:
    path = tmp_path / "nms.graphml"
    path.write_text(NMS)
    topo, warnings = load(path, source_key="name")
    assert warnings == []
    assert sorted(topo.nodes) == ["core-rtr-1", "dist-sw-7", "srv-42"]
    assert topo.node("core-rtr-1")["kind"] == "router" and topo.node("core-rtr-1")["label"] == "core-rtr-1"
    assert topo.graph.has_edge("dist-sw-7", "srv-42")
    assert topo.edge_for("core-rtr-1", {"interface": "Te0/1"}) == ("core-rtr-1", "dist-sw-7")
    engine = AlarmEngine(ManualClock())
    state = TopologyState(topo, engine)
    engine.ingest(Event("core-rtr-1", "down", Severity.CRITICAL, 0.0))
    assert state.node("core-rtr-1").severity is Severity.CRITICAL
    assert state.node("dist-sw-7").severity is Severity.CLEARED
    assert sorted(load(path, source_key="NAME")[0].nodes) == sorted(topo.nodes)  # a single match in any case
    assert sorted(load(path)[0].nodes) == ["101", "102", "103"]  # without it, the GraphML ids


def test_source_key_problems_are_specific(tmp_path: Path) -> None:
    path = tmp_path / "nms.graphml"
    path.write_text(NMS)
    assert errors_of(path, source_key="hostname") == [
        f"{path}:6:1: source_key 'hostname' is not a node attribute of this file (it has: name, type)"
    ]
    path.write_text(NMS.replace("srv-42", "core-rtr-1"))
    assert errors_of(path, source_key="name") == [
        f"{path}:9:1: node '103': name 'core-rtr-1' is also node '101''s (line 7); events naming 'core-rtr-1' "
        "could not tell them apart"
    ]
    path.write_text(NMS.replace('<data key="d0">srv-42</data>', ""))
    topo, warnings = load(path, source_key="name")
    assert "103" in topo.graph and [str(w) for w in warnings] == [
        f"{path}:9:1: warning: 1 node(s) have no 'name': events name them by their GraphML id ('103')"
    ]


# ----------------------------------------------------------------------------------------------- bounded and safe
def test_entity_declarations_are_refused_where_they_are(tmp_path: Path) -> None:
    path = tmp_path / "laughs.graphml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE graphml [\n  <!ENTITY lol "lol">\n  <!ENTITY lol2 "&lol;&lol;&lol;">\n]>\n'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph><node id="&lol2;"/></graph></graphml>\n'
    )
    got = errors_of(path)
    assert len(got) == 1 and got[0].startswith(f"{path}:3:") and "declares an entity" in got[0], got


def test_kept_attributes_are_bounded_and_bad_geometry_is_an_error_on_its_line(tmp_path: Path) -> None:
    keys = "".join(f'<key id="k{i}" for="node" attr.name="a{i}"/>' for i in range(40))
    data = "".join(f'<data key="k{i}">{"v" * (1000 if i == 0 else 3)}</data>' for i in range(40))
    path = tmp_path / "wide.graphml"
    path.write_text(
        f'<graphml xmlns="http://graphml.graphdrawing.org/xmlns">{keys}<graph><node id="a">{data}</node>'
        "</graph></graphml>"
    )
    topo, warnings = load(path)
    attrs = topo.node("a")["attributes"]
    assert len(attrs) == MAX_ATTRIBUTES and len(attrs["a0"]) == MAX_VALUE and attrs["a0"].endswith("…")
    assert len(warnings) == 1 and f"more than {MAX_ATTRIBUTES} attributes" in warnings[0].message
    yed = tmp_path / "bad-yed.graphml"
    yed.write_text(
        (FIXTURES / "yed-groups.graphml").read_text().replace('x="20.0" y="98.37646484375"', 'x="left" y="98"', 1)
    )
    line = next(i for i, t in enumerate(yed.read_text().splitlines(), 1) if 'x="left"' in t)
    assert errors_of(yed) == [f"{yed}:{line}:1: node 'n0': y:Geometry x/y are not numbers"]
