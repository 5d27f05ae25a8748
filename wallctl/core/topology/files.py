"""Reading a topology file: the hand-editable YAML form, or GraphML (what network management tools export).

Apart from :mod:`wallctl.core.topology.model` so that the GraphML reader and the model do not import each other."""

from __future__ import annotations

from pathlib import Path

from wallctl.core.files.spec import Builder, items
from wallctl.core.files.yamldoc import TOPOLOGY_LIMITS, ConfigError, Problem, load_yaml
from wallctl.core.topology.graphml import load_topology_graphml
from wallctl.core.topology.model import Topology, TopologySpec, build_topology, ensure_positions


def load_topology_yaml(path: str | Path) -> Topology:
    doc = load_yaml(path, TOPOLOGY_LIMITS)  # estates of thousands of nodes: larger than any layout file
    b = Builder(doc)
    model = b.build_model(TopologySpec, doc.data, ())
    problems = list(b.problems)
    if model is not None:
        ids: dict[str, int] = {}
        sites = {s.id for _, s in items(model.sites)}
        for i, n in items(model.nodes):
            if n.id in ids:
                problems.append(
                    doc.problem(("nodes", i, "id"), f"node id {n.id!r} is used twice (also nodes[{ids[n.id]}])")
                )
            ids[n.id] = i
            if n.site is not None and n.site not in sites:
                problems.append(doc.problem(("nodes", i, "site"), f"node {n.id!r} names unknown site {n.site!r}"))
            if (n.x is None) != (n.y is None):
                problems.append(doc.problem(("nodes", i), f"node {n.id!r} needs both x and y, or neither"))
        for i, link in items(model.links):
            for end in ("a", "b"):
                nid = getattr(link, end)
                if nid not in ids:
                    problems.append(doc.problem(("links", i, end), f"link end {nid!r} is not a node"))
            if link.a == link.b:
                problems.append(doc.problem(("links", i), f"link from {link.a!r} to itself"))
        if model.root is not None and model.root not in ids:
            problems.append(doc.problem(("root",), f"root {model.root!r} is not a node"))
    if problems or model is None:
        raise ConfigError(sorted(set(problems)) or [Problem(str(path), 1, 1, "invalid topology")])
    topo = build_topology(model, Path(path))
    ensure_positions(topo)
    return topo


def load_topology(
    path: str | Path, *, source_key: str | None = None, warnings: list[Problem] | None = None
) -> Topology:
    """``source_key``: for GraphML, the node attribute whose value events name the node by (a YAML topology writes
    its ids itself). ``warnings``: where a valid file's notices go (logged when not given)."""
    p = Path(path)
    if p.suffix.lower() in (".graphml", ".xml"):
        return load_topology_graphml(p, source_key=source_key, warnings=warnings)
    return load_topology_yaml(p)
