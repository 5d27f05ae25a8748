"""Topology files (YAML and GraphML), positions, the live state model with site roll-up."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from wallctl.bench.topogen import write_synthetic
from wallctl.core.alarms.engine import AlarmEngine
from wallctl.core.alarms.event import Event
from wallctl.core.clock import ManualClock
from wallctl.core.files.yamldoc import ConfigError
from wallctl.core.severity import Severity
from wallctl.core.topology.files import load_topology
from wallctl.core.topology.state import TopologyState

S = Severity
ROOT = Path(__file__).resolve().parents[2]

GRAPHML = textwrap.dedent("""\
    <?xml version="1.0" encoding="UTF-8"?>
    <graphml xmlns="http://graphml.graphdrawing.org/xmlns">
      <key id="d0" for="node" attr.name="label" attr.type="string"/>
      <key id="d1" for="node" attr.name="kind" attr.type="string"/>
      <key id="d2" for="node" attr.name="site" attr.type="string"/>
      <key id="d3" for="edge" attr.name="a_if" attr.type="string"/>
      <key id="g0" for="graph" attr.name="root" attr.type="string"/>
      <graph id="G" edgedefault="undirected">
        <data key="g0">core</data>
        <node id="core"><data key="d0">Core</data><data key="d1">core_switch</data><data key="d2">dc</data></node>
        <node id="edge1"><data key="d1">router</data><data key="d2">br1</data></node>
        <node id="srv1"><data key="d1">server</data><data key="d2">br1</data></node>
        <edge source="core" target="edge1"><data key="d3">Te1/1</data></edge>
        <edge source="edge1" target="srv1"/>
      </graph>
    </graphml>
    """)


def test_graphml_loads_with_attributes_root_and_computed_positions(tmp_path: Path) -> None:
    f = tmp_path / "nms.graphml"
    f.write_text(GRAPHML)
    topo = load_topology(f)
    assert sorted(topo.graph.nodes) == ["core", "edge1", "srv1"] and topo.root == "core"
    assert topo.node("core")["label"] == "Core" and topo.node("srv1")["kind"] == "server"
    assert topo.groups() == {"dc": frozenset({"core"}), "br1": frozenset({"edge1", "srv1"})}
    assert set(topo.positions) == {"core", "edge1", "srv1"}  # computed once...
    assert (tmp_path / "nms.graphml.positions.json").exists()  # ...and cached beside the file
    assert topo.edge_for("core", {"interface": "Te1/1"}) == ("core", "edge1")


def test_bad_graphml_reports_the_line(tmp_path: Path) -> None:
    f = tmp_path / "bad.graphml"
    f.write_text(
        GRAPHML.replace('<data key="d1">server</data>', '<data key="d1">toaster</data>').replace(
            '<edge source="edge1" target="srv1"/>', '<edge source="edge1" target="ghost"/>'
        )
    )
    with pytest.raises(ConfigError) as info:
        load_topology(f)
    msgs = [str(p) for p in info.value.problems]
    assert any(m.startswith(f"{f}:12:1: node 'srv1': kind 'toaster' is not one of") for m in msgs), msgs
    assert f"{f}:14:1: edge 'edge1' -> 'ghost' names a node that does not exist" in msgs
    f.write_text("<graphml><graph>")
    with pytest.raises(ConfigError, match="not well-formed XML"):
        load_topology(f)


def test_state_per_node_link_and_site_roll_up() -> None:
    topo = load_topology(ROOT / "topology" / "estate.yaml")
    engine = AlarmEngine(ManualClock())
    state = TopologyState(topo, engine)
    engine.ingest(Event("br05-srv", "disk", S.MINOR, 0))
    engine.ingest(Event("br05-sw", "cpu", S.MAJOR, 0))
    engine.ingest(Event("dc1-dist-1", "link_down", S.CRITICAL, 0, attributes={"interface": "Te1/49"}))  # type: ignore[arg-type]
    assert state.node("br05-sw").severity is S.MAJOR and state.node("br05-sw").unacked
    assert state.node("dc1-core-2").severity is S.CLEARED
    sites = state.sites()
    assert sites["br05"].severity is S.MAJOR and sites["br05"].count == 2
    assert state.link("dc1-core-1", "dc1-dist-1").severity is S.CRITICAL  # matched by interface name
    engine.ack(("br05-sw", "cpu"))
    assert not state.node("br05-sw").unacked
    nodes, _ = state.take_dirty()
    assert {"br05-srv", "br05-sw", "dc1-dist-1"} <= nodes


def test_a_bulk_ack_updates_the_map_and_forgets_alarms_that_left() -> None:
    """An ``ack_all`` reaches the map as one bulk change: a node's and a link's alarms drawn acknowledged, and an
    alarm that was already back to normal (gone with its acknowledgement) no longer held by any link."""
    topo = load_topology(ROOT / "topology" / "estate.yaml")
    engine = AlarmEngine(ManualClock())
    state = TopologyState(topo, engine)
    engine.ingest(Event("br05-sw", "cpu", S.MAJOR, 0))
    link = {"interface": "Te1/49"}
    engine.ingest(Event("dc1-dist-1", "link_down", S.CRITICAL, 0, attributes=link))  # type: ignore[arg-type]
    engine.ingest(Event("dc1-dist-1", "link_down", S.CLEARED, 1, attributes=link))  # type: ignore[arg-type]
    engine.ingest(Event("off-map", "t", S.MINOR, 0))  # not on the map: costs two lookups
    assert state.link("dc1-core-1", "dc1-dist-1").unacked  # returned to normal, unacknowledged
    assert engine.ack_many([a.key for a in engine]) and engine.get(("dc1-dist-1", "link_down")) is None
    assert not state.node("br05-sw").unacked and state.node("br05-sw").severity is S.MAJOR
    assert state.link("dc1-core-1", "dc1-dist-1").severity is S.CLEARED
    assert ("dc1-dist-1", "link_down") not in state._alarm_link


def test_five_thousand_nodes_load_quickly_enough(tmp_path: Path) -> None:
    path = write_synthetic(tmp_path / "big.yaml", 5000, 10_000)
    topo = load_topology(path)
    assert len(topo.graph) == 5000 and topo.graph.number_of_edges() == 10_000
    assert len(topo.positions) == 5000  # shipped in the file: nothing computed
