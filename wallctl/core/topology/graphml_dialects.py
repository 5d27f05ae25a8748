"""What one GraphML node says about itself, in the dialects of the tools that write the files people already have.

Every tool writes the same few facts its own way: network management exports and networkx as plain data keys
(``label``/``name``, ``kind``/``type``, ``site``/``group``, ``x``/``y``); yEd in its drawing (``y:NodeLabel``,
``y:Geometry``) under a key declared ``yfiles.type="nodegraphics"``; the Internet Topology Zoo as ``Latitude`` and
``Longitude``; Gephi as ``x``/``y`` with y pointing up. Names are matched without regard to case. What a node carries
beyond those facts is kept, bounded, for the map to show on hover. :mod:`wallctl.core.topology.graphml` walks the
file; this module reads one node at a time and never raises: problems go to the caller's list.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast, get_args

from wallctl.core.files.yamldoc import Problem
from wallctl.core.topology.model import NodeKind

YED = "{http://www.yworks.com/xml/graphml}"
KINDS = frozenset(get_args(NodeKind))
MAX_ATTRIBUTES = 32  # kept per node: a hover shows a handful; a file cannot make the wall hold megabytes per node
MAX_VALUE = 256  # characters of one kept value
MAX_NAME = 64  # characters of one kept attribute name
MAX_KINDS_NAMED = 8  # foreign kinds named in the notice


@dataclass(frozen=True)
class Key:
    """A ``<key>`` declaration: the attribute's name, what it is for, its default, whether it is yEd drawing."""

    name: str
    domain: str  # node, edge, graph, all
    graphics: bool
    default: str | None


@dataclass
class Data:
    """An element's ``<data>`` by attribute name (text, stripped), the line of each, and the yEd drawing if any."""

    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    graphics: ET.Element | None = None
    geometry_line: int = 1  # of the drawing's y:Geometry, where a bad position is

    def pick(self, *names: str) -> tuple[str, str] | tuple[None, None]:
        """The first of ``names`` (any case) that has a value, as (the name in the file, its value)."""
        for want in names:
            for name, value in self.values.items():
                if name.lower() == want and value:
                    return name, value
        return None, None


@dataclass
class NodeFacts:
    label: str | None
    kind: NodeKind
    foreign_kind: str | None  # a 'type' wallctl does not know: drawn as 'other', summarised in one notice
    site: str | None
    pos: tuple[float, float] | None
    attributes: dict[str, str]
    attributes_dropped: int  # beyond MAX_ATTRIBUTES


@dataclass(frozen=True)
class Keys:
    """The file's ``<key>`` declarations by id, and the defaults they declare per domain (node, edge, graph)."""

    by_id: dict[str, Key]
    defaults: dict[str, dict[str, str]]

    def names(self, domain: str) -> list[str]:
        """The attribute names declared for ``domain``, drawing aside."""
        return sorted({k.name for k in self.by_id.values() if k.domain in (domain, "all") and not k.graphics})


def read_keys(root: ET.Element) -> Keys:
    by_id: dict[str, Key] = {}
    for k in root.iter("key"):
        default = k.find("default")
        by_id[k.get("id", "")] = Key(
            k.get("attr.name") or k.get("id") or "",
            k.get("for") or "all",  # GraphML's default
            k.get("yfiles.type") is not None,
            default.text.strip() if default is not None and default.text else None,
        )
    defaults = {
        domain: {k.name: k.default for k in by_id.values() if k.default is not None and k.domain in (domain, "all")}
        for domain in ("node", "edge", "graph")
    }
    return Keys(by_id, defaults)


def is_gephi(keys: Keys) -> bool:
    """Gephi's GraphML export: it always declares 'Edge Id', and node colours and size beside x and y."""
    names = {k.name for k in keys.by_id.values()}
    return "Edge Id" in names or {"r", "g", "b", "size", "x", "y"} <= names


def read_data(el: ET.Element, keys: Keys, line_of: dict[int, int], domain: str) -> Data:
    """The element's data, with the defaults its keys declare for ``domain`` (node, edge, graph)."""
    out = Data(dict(keys.defaults.get(domain, {})))
    for d in el.findall("data"):
        key = keys.by_id.get(d.get("key", ""), Key(d.get("key", ""), domain, False, None))
        line = line_of.get(id(d), 1)
        if key.graphics or any(c.tag.startswith(YED) for c in d):
            drawing = next(iter(d), None)  # yEd's y:ShapeNode, y:SVGNode, y:ProxyAutoBoundsNode...
            if out.graphics is None and drawing is not None:
                out.graphics = drawing
                out.geometry_line = line_of.get(id(next(_yed(drawing, "Geometry"), drawing)), line)
            continue
        out.values[key.name] = (d.text or "").strip()
        out.lines[key.name] = line
    return out


def yed_label(graphics: ET.Element | None) -> str | None:
    """The first non-empty ``y:NodeLabel`` (its own text: the label model elements inside it carry none)."""
    if graphics is None:
        return None
    return next((t for lab in _yed(graphics, "NodeLabel") if (t := (lab.text or "").strip())), None)


def _yed(drawing: ET.Element, name: str) -> Iterator[ET.Element]:
    """yEd's elements called ``name`` in the drawing, with or without yEd's namespace (some tools re-save yEd
    files with the ``y:`` prefixes dropped)."""
    return (e for e in drawing.iter() if e.tag == name or e.tag == YED + name)


def node_facts(file: str, nid: str, line: int, data: Data, gephi: bool, problems: list[Problem]) -> NodeFacts:
    used: set[str] = set()
    label_name, label = data.pick("label", "name")
    if label_name is not None:
        used.add(label_name)
    else:
        label = yed_label(data.graphics)
    kind, foreign = _kind(file, nid, line, data, used, problems)
    site_name, site = data.pick("site", "group")
    if site_name is not None:
        used.add(site_name)
    pos = _position(file, nid, data, gephi, used, problems)
    attributes, dropped = _kept(data.values, used)
    return NodeFacts(label, kind, foreign, site, pos, attributes, dropped)


def _kind(
    file: str, nid: str, line: int, data: Data, used: set[str], problems: list[Problem]
) -> tuple[NodeKind, str | None]:
    """``kind`` is wallctl's own word: a value it does not know is a mistake. ``type`` is every other tool's word:
    a value wallctl knows draws by it, any other is kept as an attribute and the node drawn as 'other'."""
    name, value = data.pick("kind")
    if name is not None and value is not None:
        if value in KINDS:
            used.add(name)
            return cast(NodeKind, value), None
        at = data.lines.get(name, line)
        problems.append(Problem(file, at, 1, f"node {nid!r}: kind {value!r} is not one of {', '.join(sorted(KINDS))}"))
        return "other", None
    name, value = data.pick("type")
    if name is None or value is None:
        return "other", None
    normal = value.lower().replace(" ", "_").replace("-", "_")
    if normal in KINDS:
        used.add(name)
        return cast(NodeKind, normal), None
    return "other", value


def _position(
    file: str, nid: str, data: Data, gephi: bool, used: set[str], problems: list[Problem]
) -> tuple[float, float] | None:
    """Plain x/y (Gephi's y points up: flipped, as the map's y points down), else yEd's geometry (its centre),
    else longitude/latitude (north up). A value that is there but not a number is an error on its line."""
    xy = [data.pick(axis) for axis in ("x", "y")]
    if any(name is not None for name, _ in xy):
        nums = [_number(file, nid, data, name, value, problems) for name, value in xy]
        used.update(name for name, _ in xy if name is not None)
        if nums[0] is None or nums[1] is None:
            return None
        return nums[0], -nums[1] if gephi else nums[1]
    geometry = next(_yed(data.graphics, "Geometry"), None) if data.graphics is not None else None
    if geometry is not None:
        box = [_finite(geometry.get(a, "0" if a in ("width", "height") else "")) for a in ("x", "y", "width", "height")]
        if any(v is None for v in box):
            problems.append(Problem(file, data.geometry_line, 1, f"node {nid!r}: y:Geometry x/y are not numbers"))
            return None
        x, y, w, h = (v or 0.0 for v in box)
        return x + w / 2, y + h / 2
    geo = [data.pick("longitude", "lon", "lng", "long"), data.pick("latitude", "lat")]
    if all(name is not None for name, _ in geo):
        lon, lat = (_number(file, nid, data, name, value, problems) for name, value in geo)
        used.update(name for name, _ in geo if name is not None)
        if lon is not None and lat is not None:
            return lon, -lat
    return None


def _number(
    file: str, nid: str, data: Data, name: str | None, value: str | None, problems: list[Problem]
) -> float | None:
    if name is None or value is None:
        return None
    got = _finite(value)
    if got is None:
        problems.append(Problem(file, data.lines.get(name, 1), 1, f"node {nid!r}: {name} {value!r} is not a number"))
    return got


def _finite(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _kept(values: dict[str, str], used: set[str]) -> tuple[dict[str, str], int]:
    """What the map shows on hover: every other non-empty value, the first MAX_ATTRIBUTES, each cut to size."""
    rest = [(k, v) for k, v in values.items() if k not in used and v]
    kept = {_cut(k, MAX_NAME): _cut(v, MAX_VALUE) for k, v in rest[:MAX_ATTRIBUTES]}
    return kept, max(0, len(rest) - MAX_ATTRIBUTES)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kinds_notice(file: str, line: int, foreign: Counter[str]) -> Problem:
    """One warning for every node of a kind wallctl does not know, naming the commonest kinds and their counts."""
    total = sum(foreign.values())
    named = ", ".join(f"{_cut(k, 40)}: {n:,}" for k, n in foreign.most_common(MAX_KINDS_NAMED))
    more = f", {len(foreign) - MAX_KINDS_NAMED:,} more" if len(foreign) > MAX_KINDS_NAMED else ""
    nodes = "node" if total == 1 else "nodes"
    return Problem(
        file,
        line,
        1,
        f"{total:,} {nodes} of kinds not known to wallctl ({named}{more}) are drawn as 'other'; "
        f"wallctl's kinds: {', '.join(sorted(KINDS))}",
        "warning",
    )
