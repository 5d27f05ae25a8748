"""The estate's topology: nodes, links and sites as a networkx graph, plus the live state painted on it.

Files: a hand-editable YAML form (``topology/*.yaml``) and GraphML (what network management tools export).
Positions come from the file; a file without them gets a layout computed once and cached beside it
(``<file>.positions.json``), never on the wall's start-up path when the cache is there.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import networkx as nx

from wallctl.core.files.spec import spec

NodeKind = Literal[
    "internet",
    "wan",
    "router",
    "firewall",
    "core_switch",
    "distribution_switch",
    "access_switch",
    "load_balancer",
    "server",
    "database",
    "storage",
    "ups",
    "pdu",
    "cooling",
    "sensor",
    "other",
]


@dataclass(frozen=True)
class Site:
    id: str = spec("site id, used by nodes' 'site'")
    label: str = spec("shown on the map", default="")
    kind: Literal["datacenter", "dr", "branch", "wan", "other"] = spec("kind of site", default="other")


@dataclass(frozen=True)
class Node:
    id: str = spec("node id; events name it as their 'source'")
    label: str = spec("shown on the map; default the id", default="")
    kind: NodeKind = spec("what the node is (drawn by shape)", default="other")
    site: str | None = spec("site id", default=None)
    x: float | None = spec("position; computed once when absent", default=None)
    y: float | None = spec("position", default=None)


@dataclass(frozen=True)
class Link:
    a: str = spec("one end (node id)")
    b: str = spec("the other end (node id)")
    kind: str = spec("e.g. fiber, copper, wan, power", default="copper")
    a_if: str | None = spec("interface name on a", default=None)
    b_if: str | None = spec("interface name on b", default=None)


@dataclass(frozen=True)
class TopologySpec:
    name: str = spec("shown on the map", default="estate")
    root: str | None = spec("where monitoring sees the estate from (for consequence analysis)", default=None)
    sites: tuple[Site, ...] = spec("sites and groups", default=())
    nodes: tuple[Node, ...] = spec("the nodes", default=())
    links: tuple[Link, ...] = spec("the links", default=())


@dataclass
class Topology:
    """Node data: ``label``, ``kind``, ``site``, and ``attributes`` where the file carried more (GraphML)."""

    name: str
    graph: nx.Graph
    root: str | None
    sites: dict[str, Site]
    positions: dict[str, tuple[float, float]]
    path: Path | None = None
    link_index: dict[tuple[str, str], int] = field(default_factory=dict)
    interface_index: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # (node, ifname) -> edge

    @property
    def nodes(self) -> list[str]:
        return list(self.graph.nodes)

    def node(self, node_id: str) -> dict[str, Any]:
        return dict(self.graph.nodes[node_id])

    def details(self, node_id: str) -> list[tuple[str, str]]:
        """What a hover shows under a node's label: its id, kind and site, then what its file said about it."""
        d = self.graph.nodes[node_id]
        rows = [("id", node_id), ("kind", str(d.get("kind")))]
        rows += [("site", str(d["site"]))] if d.get("site") else []
        return rows + list((d.get("attributes") or {}).items())

    def groups(self) -> dict[str, frozenset[str]]:
        """Site id -> its nodes: usable as source groups by rules, sound map and maintenance windows."""
        out: dict[str, set[str]] = {}
        for n, data in self.graph.nodes(data=True):
            if data.get("site"):
                out.setdefault(data["site"], set()).add(n)
        return {k: frozenset(v) for k, v in out.items()}

    def edge_for(self, source: str, attributes: dict[str, Any]) -> tuple[str, str] | None:
        """The link an event is about: by both endpoints (peer/neighbor) or by interface name."""
        peer = attributes.get("peer") or attributes.get("neighbor") or attributes.get("remote")
        if isinstance(peer, str) and self.graph.has_edge(source, peer):
            return _edge(source, peer)
        ifname = attributes.get("interface") or attributes.get("ifname")
        if isinstance(ifname, str):
            return self.interface_index.get((source, ifname))
        return None


def _edge(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def build_topology(
    model: TopologySpec, path: Path | None = None, attributes: Mapping[str, Mapping[str, str]] | None = None
) -> Topology:
    """``attributes``: what a node's file said beyond the model (GraphML), by node id, kept for the hover."""
    g = nx.Graph()
    for n in model.nodes:
        g.add_node(n.id, label=n.label or n.id, kind=n.kind, site=n.site)
        if attributes and attributes.get(n.id):
            g.nodes[n.id]["attributes"] = dict(attributes[n.id])
    ifindex: dict[tuple[str, str], tuple[str, str]] = {}
    for link in model.links:
        g.add_edge(link.a, link.b, kind=link.kind, a_if=link.a_if, b_if=link.b_if)
        if link.a_if:
            ifindex[(link.a, link.a_if)] = _edge(link.a, link.b)
        if link.b_if:
            ifindex[(link.b, link.b_if)] = _edge(link.a, link.b)
    positions = {n.id: (n.x, n.y) for n in model.nodes if n.x is not None and n.y is not None}
    topo = Topology(model.name, g, model.root, {s.id: s for s in model.sites}, positions, path)
    topo.interface_index = ifindex
    topo.link_index = {_edge(a, b): i for i, (a, b) in enumerate(g.edges)}
    return topo


def place_near_positioned(topo: Topology) -> None:
    """Give the nodes a file left without a position (a Topology Zoo node without coordinates) one beside their
    positioned neighbours, in the file's own units, so that a computed layout never mixes with the file's map.
    Nodes with no positioned node in reach go in a row under the map. Nothing happens when no node has one."""
    pos = topo.positions
    if not pos or len(pos) == len(topo.graph):
        return
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    step = span * 0.03
    g = topo.graph
    queue = deque(n for n in g.nodes if n not in pos and any(m in pos for m in g.neighbors(n)))
    seen = set(pos) | set(queue)
    i = 0
    while queue:  # outward from the positioned nodes, each placed once: O(nodes + links)
        n = queue.popleft()
        near = [pos[m] for m in g.neighbors(n) if m in pos]
        angle = i * 2.39996  # the golden angle: the neighbours of one node fan out instead of stacking
        cx, cy = sum(p[0] for p in near) / len(near), sum(p[1] for p in near) / len(near)
        pos[n] = (cx + step * math.cos(angle), cy + step * math.sin(angle))
        i += 1
        for m in g.neighbors(n):
            if m not in seen:
                seen.add(m)
                queue.append(m)
    for j, rest in enumerate([m for m in g.nodes if m not in pos]):
        pos[rest] = (min(xs) + (j % 50) * step, max(ys) + step * (2 + j // 50))


def ensure_positions(topo: Topology) -> None:
    """Fill missing positions from the cache beside the file, or compute them once and write the cache."""
    missing = [n for n in topo.graph.nodes if n not in topo.positions]
    if not missing:
        return
    cache = topo.path.with_name(topo.path.name + ".positions.json") if topo.path else None
    if cache is not None and cache.exists():
        try:
            cached = json.loads(cache.read_text())
            topo.positions.update({k: (float(v[0]), float(v[1])) for k, v in cached.items() if k in topo.graph})
        except (ValueError, KeyError, TypeError, IndexError):
            pass  # a broken cache is recomputed below
    missing = [n for n in topo.graph.nodes if n not in topo.positions]
    if not missing:
        return
    computed = compute_layout(topo)
    for n in missing:
        topo.positions[n] = computed[n]
    if cache is not None:
        try:
            cache.write_text(json.dumps({k: [round(v[0], 2), round(v[1], 2)] for k, v in topo.positions.items()}))
        except OSError:
            pass  # read-only topology folder: positions are recomputed next time


def compute_layout(topo: Topology) -> dict[str, tuple[float, float]]:
    """Hierarchical (by hop distance from the root) where there is a root, else a fast spectral/spring mix."""
    g = topo.graph
    if len(g) == 0:
        return {}
    if topo.root is not None and topo.root in g:
        depth = nx.single_source_shortest_path_length(g, topo.root)
        layers: dict[int, list[str]] = {}
        far = max(depth.values(), default=0) + 1
        for n in g.nodes:
            layers.setdefault(depth.get(n, far), []).append(n)
        pos: dict[str, tuple[float, float]] = {}
        for d, nodes in layers.items():
            nodes.sort(key=lambda n: (str(g.nodes[n].get("site")), n))
            width = max(len(nodes) - 1, 1)
            for i, n in enumerate(nodes):
                pos[n] = ((i / width - 0.5) * max(len(nodes), 1) * 60.0, d * 120.0)
        return pos
    if len(g) < 500:  # networkx's dense spring solver: numpy only
        raw = nx.spring_layout(g, seed=7, iterations=30)
    elif len(g) <= 2000 and hasattr(nx, "forceatlas2_layout"):  # spring_layout needs scipy from 500 nodes on
        raw = nx.rescale_layout_dict(nx.forceatlas2_layout(g, seed=7, max_iter=30), scale=1)
    else:
        raw = nx.random_layout(g, seed=7)
    return {n: (float(p[0]) * 1000, float(p[1]) * 1000) for n, p in raw.items()}
