"""GraphML topologies, as network management tools export them.

Node attributes read: ``label``/``name``, ``kind``/``type``, ``site``/``group``, ``x``/``y``; edge attributes:
``kind``, ``a_if``/``b_if`` (or ``source_if``/``target_if``). Problems carry the line of the offending element
(column 1); a file that is not well-formed XML is reported where the broken element starts, with where the
parser gave up beside it. The file is read within the topology size limit, in one pass.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import xml.parsers.expat as expat
from pathlib import Path
from typing import Any, get_args

from wallctl.core.files.yamldoc import TOPOLOGY_LIMITS, ConfigError, Problem, read_limited
from wallctl.core.topology.model import (
    Link,
    Node,
    NodeKind,
    Site,
    Topology,
    TopologySpec,
    build_topology,
    ensure_positions,
)

NS = "{http://graphml.graphdrawing.org/xmlns}"
KINDS = set(get_args(NodeKind))


def _first(d: dict[str, Any], *names: str) -> Any:
    return next((d[n] for n in names if d.get(n) not in (None, "")), None)


def load_topology_graphml(path: Path) -> Topology:
    file = str(path)
    problems: list[Problem] = []
    root, line_of = _parse(read_limited(path, TOPOLOGY_LIMITS), file)
    keys: dict[str, tuple[str, str]] = {}
    for k in root.iter(f"{NS}key"):
        keys[k.get("id", "")] = (k.get("attr.name") or k.get("id") or "", k.get("attr.type") or "string")
    graph = root.find(f"{NS}graph")
    if graph is None:
        raise ConfigError([Problem(file, 1, 1, "no <graph> element: not a GraphML topology")])

    def data_of(el: ET.Element) -> tuple[dict[str, Any], dict[str, int]]:
        """The element's data by attribute name, and the line of each (where a bad value is)."""
        out: dict[str, Any] = {}
        where: dict[str, int] = {}
        for d in el.findall(f"{NS}data"):
            name, tp = keys.get(d.get("key", ""), (d.get("key", ""), "string"))
            out[name] = d.text
            where[name] = line_of.get(id(d), 1)
            if tp in ("double", "float", "int", "long") and d.text is not None:
                try:
                    out[name] = float(d.text)
                except ValueError:
                    out[name] = d.text
        return out, where

    nodes: list[Node] = []
    links: list[Link] = []
    sites: dict[str, Site] = {}
    ids: set[str] = set()
    for el in graph.findall(f"{NS}node"):
        d, data_line = data_of(el)
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
            at = data_line.get("kind", data_line.get("type", line))
            problems.append(
                Problem(file, at, 1, f"node {nid!r}: kind {kind!r} is not one of {', '.join(sorted(KINDS))}")
            )
            kind = "other"
        for axis in ("x", "y"):
            if d.get(axis) is not None and not isinstance(d[axis], float):
                problems.append(Problem(file, data_line[axis], 1, f"node {nid!r}: {axis} {d[axis]!r} is not a number"))
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
        d, _ = data_of(el)
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


def _parse(raw: bytes, file: str) -> tuple[ET.Element, dict[int, int]]:
    """The element tree and the line of every element (ElementTree keeps none), in one expat pass."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    line_of: dict[int, int] = {}
    open_: list[tuple[str, int, int]] = []  # tag, line, column of each element not yet closed

    def name(raw_name: str) -> str:
        return "{" + raw_name if "}" in raw_name else raw_name

    def start(tag: str, attrs: dict[str, str]) -> None:
        el = builder.start(name(tag), {name(k): v for k, v in attrs.items()})
        line_of[id(el)] = parser.CurrentLineNumber
        open_.append((tag.rpartition("}")[2], parser.CurrentLineNumber, parser.CurrentColumnNumber + 1))

    def end(tag: str) -> None:
        builder.end(name(tag))
        open_.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        raise ConfigError([_xml_problem(exc, file, open_)]) from None
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
