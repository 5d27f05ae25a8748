"""GraphML topologies, as the tools people already have write them: network management exports, yEd, Gephi,
networkx and the Internet Topology Zoo (how each says a node's name, kind and place: :mod:`graphml_dialects`).

A node's kind is ``kind`` (wallctl's own word: a value it does not know is an error) or ``type`` (every other
tool's: a value wallctl does not know draws the node as 'other', and all such nodes make one warning, not one error
each). Nodes nested in a group (yEd groups: a node holding a graph) belong to the group's site. ``source_key``
names the node attribute whose value is the id events name the node by (their ``source``), for files whose ids are
numbers. Edge attributes: ``kind``, ``a_if``/``b_if`` (or ``source_if``/``target_if``).

Problems carry the line of the offending element (column 1); a file that is not well-formed XML is reported where
the broken element starts, with where the parser gave up beside it. Entity declarations are refused (nothing is
expanded), and the file is read within the topology size limit, in one pass.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import xml.parsers.expat as expat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from wallctl.core.files.yamldoc import TOPOLOGY_LIMITS, ConfigError, Problem, read_limited, settle
from wallctl.core.topology.graphml_dialects import (
    MAX_ATTRIBUTES,
    Keys,
    NodeFacts,
    is_gephi,
    kinds_notice,
    node_facts,
    read_data,
    read_keys,
    yed_label,
)
from wallctl.core.topology.model import (
    Link,
    Node,
    Site,
    Topology,
    TopologySpec,
    build_topology,
    ensure_positions,
    place_near_positioned,
)

GRAPHML_NS = "http://graphml.graphdrawing.org/"  # its elements are looked up by bare name, with or without xmlns


@dataclass
class _Node:
    id: str  # the GraphML id (edges name it)
    line: int
    values: dict[str, str]  # all its data, for source_key
    facts: NodeFacts
    site: str | None


def load_topology_graphml(
    path: Path, *, source_key: str | None = None, warnings: list[Problem] | None = None
) -> Topology:
    """``warnings``: where notices go when the file is valid (logged when not given), as the other loaders do."""
    file = str(path)
    root, line_of = _parse(read_limited(path, TOPOLOGY_LIMITS), file)
    graph = root.find("graph")
    if graph is None:
        raise ConfigError([Problem(file, 1, 1, "no <graph> element: not a GraphML topology")])
    keys = read_keys(root)
    problems: list[Problem] = []
    nodes, sites, groups = _walk(file, graph, keys, line_of, problems)
    ids = _source_ids(file, nodes, keys, source_key, line_of.get(id(graph), 1), problems)
    links: list[Link] = []
    to_groups: list[int] = []
    for el in graph.iter("edge"):
        data = read_data(el, keys, line_of, "edge")
        a, b = el.get("source"), el.get("target")
        line = line_of.get(id(el), 1)
        if (a in groups and a not in ids) or (b in groups and b not in ids):
            to_groups.append(line)
            continue
        if not a or not b or a not in ids or b not in ids:
            problems.append(Problem(file, line, 1, f"edge {a!r} -> {b!r} names a node that does not exist"))
            continue
        kind = data.pick("kind")[1] or "copper"
        links.append(Link(ids[a], ids[b], kind, data.pick("a_if", "source_if")[1], data.pick("b_if", "target_if")[1]))
    root_id = read_data(graph, keys, line_of, "graph").pick("root")[1] or root.get("root") or graph.get("root")
    if root_id is not None:
        root_id = ids.get(root_id, root_id)
        if root_id not in set(ids.values()):
            problems.append(Problem(file, 1, 1, f"root {root_id!r} is not a node"))
    settle(problems + _notices(file, nodes, to_groups), warnings)  # raises when any problem is an error
    specs = [
        Node(ids[n.id], n.facts.label or ids[n.id], n.facts.kind, n.site, *(n.facts.pos or (None, None))) for n in nodes
    ]
    model = TopologySpec(path.stem, root_id, tuple(sites.values()), tuple(specs), tuple(links))
    topo = build_topology(model, path, {ids[n.id]: n.facts.attributes for n in nodes if n.facts.attributes})
    place_near_positioned(topo)
    ensure_positions(topo)
    return topo


def _walk(
    file: str, graph: ET.Element, keys: Keys, line_of: dict[int, int], problems: list[Problem]
) -> tuple[list[_Node], dict[str, Site], set[str]]:
    """The nodes of the graph and of the graphs nested in it, the sites, and the ids of the group nodes."""
    gephi = is_gephi(keys)
    nodes: list[_Node] = []
    sites: dict[str, Site] = {}
    groups: set[str] = set()
    seen: set[str] = set()
    todo: list[tuple[ET.Element, str | None]] = [(graph, None)]
    for g, group in todo:  # a nested graph is appended and walked after its parent's: no recursion to exhaust
        for el in g.findall("node"):
            nid, line = el.get("id"), line_of.get(id(el), 1)
            if not nid:
                problems.append(Problem(file, line, 1, "<node> without an id"))
                continue
            data = read_data(el, keys, line_of, "node")
            inner = el.find("graph")
            if inner is not None:  # a group (yEd's folders and groups): a site its nodes belong to
                groups.add(nid)
                sites.setdefault(nid, Site(nid, data.pick("label", "name")[1] or yed_label(data.graphics) or nid))
                todo.append((inner, nid))
                continue
            if nid in seen:
                problems.append(Problem(file, line, 1, f"node id {nid!r} is used twice"))
            seen.add(nid)
            facts = node_facts(file, nid, line, data, gephi, problems)
            if facts.site:
                sites.setdefault(facts.site, Site(facts.site, facts.site))
            nodes.append(_Node(nid, line, data.values, facts, facts.site or group))
    return nodes, sites, groups


def _source_ids(
    file: str, nodes: list[_Node], keys: Keys, source_key: str | None, line: int, problems: list[Problem]
) -> dict[str, str]:
    """GraphML id -> the id events name the node by: the value of ``source_key`` (its GraphML id where it has
    none), which must be unique. The attribute is matched by exact name, else by a single case-insensitive one."""
    if source_key is None:
        return {n.id: n.id for n in nodes}
    names = keys.names("node")
    exact = [n for n in names if n == source_key] or [n for n in names if n.lower() == source_key.lower()]
    if len(exact) != 1:
        listed = ", ".join(names) or "none"
        problems.append(
            Problem(file, line, 1, f"source_key {source_key!r} is not a node attribute of this file (it has: {listed})")
        )
        return {n.id: n.id for n in nodes}
    attr = exact[0]
    out: dict[str, str] = {}
    taken: dict[str, _Node] = {}
    missing: list[_Node] = []
    for n in nodes:
        value = n.values.get(attr, "")
        if not value:
            missing.append(n)
            value = n.id
        other = taken.get(value)
        if other is not None:
            problems.append(
                Problem(
                    file,
                    n.line,
                    1,
                    f"node {n.id!r}: {attr} {value!r} is also node {other.id!r}'s (line {other.line}); events naming "
                    f"{value!r} could not tell them apart",
                )
            )
        taken[value] = n
        out[n.id] = value
    if missing:
        some = ", ".join(repr(n.id) for n in missing[:5]) + (", ..." if len(missing) > 5 else "")
        problems.append(
            Problem(
                file,
                missing[0].line,
                1,
                f"{len(missing):,} node(s) have no {attr!r}: events name them by their GraphML id ({some})",
                "warning",
            )
        )
    return out


def _notices(file: str, nodes: list[_Node], to_groups: list[int]) -> list[Problem]:
    """Warnings that summarise, one each: what is drawn otherwise than the file may mean, never one per node."""
    out = []
    foreign = [n for n in nodes if n.facts.foreign_kind is not None]
    if foreign:
        out.append(kinds_notice(file, foreign[0].line, Counter(str(n.facts.foreign_kind) for n in foreign)))
    if to_groups:
        what = f"{len(to_groups):,} edge(s) end at a group (a node holding a graph) and are not drawn"
        out.append(Problem(file, to_groups[0], 1, what, "warning"))
    crowded = [n for n in nodes if n.facts.attributes_dropped]
    if crowded:
        what = f"{len(crowded):,} node(s) carry more than {MAX_ATTRIBUTES} attributes; the first of each are kept"
        out.append(Problem(file, crowded[0].line, 1, what, "warning"))
    return out


class _Refused(Exception):
    def __init__(self, line: int, col: int) -> None:
        super().__init__(line, col)
        self.line, self.col = line, col


def _parse(raw: bytes, file: str) -> tuple[ET.Element, dict[int, int]]:
    """The element tree and the line of every element (ElementTree keeps none), in one expat pass. GraphML's own
    elements get their bare names (``node``), others keep their namespace (``{...yworks...}ShapeNode``)."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    line_of: dict[int, int] = {}
    open_: list[tuple[str, int, int]] = []  # tag, line, column of each element not yet closed

    def name(raw_name: str) -> str:
        ns, sep, local = raw_name.rpartition("}")
        if not sep or ns.startswith(GRAPHML_NS):
            return local
        return "{" + raw_name

    def start(tag: str, attrs: dict[str, str]) -> None:
        el = builder.start(name(tag), {name(k): v for k, v in attrs.items()})
        line_of[id(el)] = parser.CurrentLineNumber
        open_.append((tag.rpartition("}")[2], parser.CurrentLineNumber, parser.CurrentColumnNumber + 1))

    def end(tag: str) -> None:
        builder.end(name(tag))
        open_.pop()

    def refuse(*_args: object) -> None:  # an entity could expand to gigabytes (billion laughs): none is accepted
        raise _Refused(parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        raise ConfigError([_xml_problem(exc, file, open_)]) from None
    except _Refused as r:
        msg = "GraphML declares an entity (<!ENTITY ...>): refused, wallctl expands none"
        raise ConfigError([Problem(file, r.line, r.col, msg)]) from None
    return builder.close(), line_of


def _xml_problem(exc: expat.ExpatError, file: str, open_: list[tuple[str, int, int]]) -> Problem:
    """Not well-formed XML, reported at the element left open when that is the mistake."""
    codes = expat.errors.codes
    unclosed = {
        codes[expat.errors.XML_ERROR_TAG_MISMATCH]: ("a closing tag that does not match", 2),  # expat points past '</'
        codes[expat.errors.XML_ERROR_NO_ELEMENTS]: ("end of file", 0),
    }
    if open_ and exc.code in unclosed:
        found, back = unclosed[exc.code]
        tag, line, col = open_[-1]
        here = f"{exc.lineno}:{exc.offset + 1 - back}"
        message = f"<{tag}> is not closed (started here; found {found} at {here})"
        return Problem(file, line, col, f"GraphML is not well-formed XML: {message}")
    reason = expat.ErrorString(exc.code) or "invalid XML"
    inside = f" (inside <{open_[-1][0]}> from {open_[-1][1]}:{open_[-1][2]})" if open_ else ""
    return Problem(file, exc.lineno, exc.offset + 1, f"GraphML is not well-formed XML: {reason}{inside}")
