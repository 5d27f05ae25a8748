"""GraphML topologies, as network management tools export them.

Node attributes read: ``label``/``name``, ``kind``/``type``, ``site``/``group``, ``x``/``y``; edge attributes:
``kind``, ``a_if``/``b_if`` (or ``source_if``/``target_if``). Errors carry the line of the offending element.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, get_args

from wallctl.core.topology import Link, Node, NodeKind, Site, Topology, TopologySpec, build_topology, ensure_positions
from wallctl.core.yamldoc import ConfigError, Problem

NS = "{http://graphml.graphdrawing.org/xmlns}"
KINDS = set(get_args(NodeKind))


def _first(d: dict[str, Any], *names: str) -> Any:
    return next((d[n] for n in names if d.get(n) not in (None, "")), None)


def load_topology_graphml(path: Path) -> Topology:
    file = str(path)
    problems: list[Problem] = []
    try:
        lines = _element_lines(path)
        tree = ET.parse(path)
    except ET.ParseError as exc:
        line, col = exc.position
        raise ConfigError([Problem(file, line, col + 1, f"GraphML is not well-formed XML: {exc}")]) from None
    except OSError as exc:
        raise ConfigError([Problem(file, 1, 1, f"cannot read file: {exc.strerror}")]) from None
    root = tree.getroot()
    keys: dict[str, tuple[str, str]] = {}
    for k in root.iter(f"{NS}key"):
        keys[k.get("id", "")] = (k.get("attr.name") or k.get("id") or "", k.get("attr.type") or "string")
    graph = root.find(f"{NS}graph")
    if graph is None:
        raise ConfigError([Problem(file, 1, 1, "no <graph> element: not a GraphML topology")])
    order = iter(lines)

    def data_of(el: ET.Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for d in el.findall(f"{NS}data"):
            name, tp = keys.get(d.get("key", ""), (d.get("key", ""), "string"))
            out[name] = d.text
            if tp in ("double", "float", "int", "long") and d.text is not None:
                try:
                    out[name] = float(d.text)
                except ValueError:
                    out[name] = d.text
        return out

    nodes: list[Node] = []
    links: list[Link] = []
    sites: dict[str, Site] = {}
    line_of: dict[int, int] = {}
    for el in graph.iter():
        if el.tag in (f"{NS}node", f"{NS}edge"):
            line_of[id(el)] = next(order, 1)
    ids: set[str] = set()
    for el in graph.findall(f"{NS}node"):
        d = data_of(el)
        nid = el.get("id")
        line = line_of.get(id(el), 1)
        if not nid:
            problems.append(Problem(file, line, 1, "<node> without an id"))
            continue
        if nid in ids:
            problems.append(Problem(file, line, 1, f"node id {nid!r} is used twice"))
        ids.add(nid)
        kind = str(_first(d, "kind", "type") or "other")
        if kind not in KINDS:
            problems.append(
                Problem(file, line, 1, f"node {nid!r}: kind {kind!r} is not one of {', '.join(sorted(KINDS))}")
            )
            kind = "other"
        site = _first(d, "site", "group")
        if site:
            sites.setdefault(str(site), Site(str(site), str(site)))
        x, y = d.get("x"), d.get("y")
        pos_ok = isinstance(x, float) and isinstance(y, float)
        nodes.append(
            Node(
                nid,
                str(_first(d, "label", "name") or nid),
                kind,  # type: ignore[arg-type]  # checked against KINDS above
                str(site) if site else None,
                x if pos_ok else None,
                y if pos_ok else None,
            )
        )
    for el in graph.findall(f"{NS}edge"):
        d = data_of(el)
        a, b = el.get("source"), el.get("target")
        line = line_of.get(id(el), 1)
        if not a or not b or a not in ids or b not in ids:
            problems.append(Problem(file, line, 1, f"edge {a!r} -> {b!r} names a node that does not exist"))
            continue
        links.append(
            Link(a, b, str(d.get("kind") or "copper"), _first(d, "a_if", "source_if"), _first(d, "b_if", "target_if"))
        )
    root_id = root.get("root") or graph.get("root")
    for el in graph.findall(f"{NS}data"):
        name, _ = keys.get(el.get("key", ""), ("", ""))
        if name == "root":
            root_id = el.text
    if root_id is not None and root_id not in ids:
        problems.append(Problem(file, 1, 1, f"root {root_id!r} is not a node"))
    if problems:
        raise ConfigError(problems)
    topo = build_topology(TopologySpec(path.stem, root_id, tuple(sites.values()), tuple(nodes), tuple(links)), path)
    ensure_positions(topo)
    return topo


def _element_lines(path: Path) -> list[int]:
    """Line numbers of <node> and <edge> start tags in document order (ElementTree does not keep them)."""
    lines: list[int] = []
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start",))
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, start=1):
            parser.feed(raw)
            for _event, el in parser.read_events():  # type: ignore[misc]
                if isinstance(el, ET.Element) and el.tag in (f"{NS}node", f"{NS}edge"):
                    lines.append(lineno)
    return lines
