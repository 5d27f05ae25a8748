"""The counting YAML composer: parser events to PyYAML nodes, within :class:`Limits`.

PyYAML's own composer shares an aliased node (cheap), but everything that walks the tree afterwards pays for each
repetition. This one counts as it composes (every node one value, every alias the size of what it repeats) and
enforces nesting depth too, so a 534-byte "billion laughs" alias bomb is refused at the alias that crosses the
limit instead of filling the memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import yaml
from yaml.events import AliasEvent, MappingEndEvent, ScalarEvent, SequenceEndEvent, SequenceStartEvent, StreamEndEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode


@dataclass(frozen=True, slots=True)
class Limits:
    """What one file may ask of the loader: enough for any real file, far below what hurts a running wall."""

    max_bytes: int
    max_values: int  # scalars, lists and mappings, every alias counted as what it repeats
    kind: str  # for messages: which files these limits are for
    max_depth: int = 64


LIMITS = Limits(1 << 20, 100_000, "layout, rule, sound map and configuration files")
# a 5,000-node estate is ~0.8 MB and ~135,000 values; these leave room for ~70,000 nodes
TOPOLOGY_LIMITS = Limits(32 << 20, 2_500_000, "topology files")


class Events(Protocol):
    """What the composer needs of a PyYAML parser (libyaml's ``CParser`` or the pure-Python one)."""

    def get_event(self) -> Any: ...
    def peek_event(self) -> Any: ...
    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any: ...
    def dispose(self) -> None: ...


PARSER: Callable[[str], Events] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: same events, faster


class Refused(Exception):
    """A limit or a structural rule broken at ``line``:``col`` (1-based)."""

    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.line: int = mark.line + 1 if mark is not None else 1
        self.col: int = mark.column + 1 if mark is not None else 1


class Composer:
    """PyYAML's composer, counting: raises :class:`Refused` at the first node or alias past the limits."""

    def __init__(self, parser: Events, limits: Limits) -> None:
        self.parser = parser
        self.limits = limits
        self.values = 0
        self.anchors: dict[str, yaml.Node] = {}
        self.sizes: dict[str, int] = {}  # anchor -> values it stands for; absent while its node is being composed

    def document(self) -> yaml.Node | None:
        p = self.parser
        p.get_event()  # stream start
        if isinstance(p.peek_event(), StreamEndEvent):
            return None
        p.get_event()  # document start
        node = self.node(1)
        p.get_event()  # document end
        extra = p.get_event()
        if not isinstance(extra, StreamEndEvent):
            raise Refused(extra.start_mark, "a second YAML document ('---'): a wallctl file holds one")
        return node

    def node(self, depth: int) -> yaml.Node:
        p = self.parser
        event = p.get_event()
        if isinstance(event, AliasEvent):
            return self._alias(event)
        self._count(1, event, None)
        if depth > self.limits.max_depth:
            raise Refused(event.start_mark, f"nested deeper than {self.limits.max_depth} levels")
        before = self.values
        anchor = event.anchor
        if anchor is not None and anchor in self.anchors:
            first = self.anchors[anchor].start_mark
            raise Refused(event.start_mark, f"anchor &{anchor} is defined twice (first at line {first.line + 1})")
        tag = event.tag
        start: Any = event.start_mark  # libyaml's or PyYAML's Mark: the same fields
        node: yaml.Node
        if isinstance(event, ScalarEvent):
            if tag is None or tag == "!":
                tag = p.resolve(ScalarNode, event.value, event.implicit)
            end: Any = event.end_mark
            node = ScalarNode(tag, event.value, start, end, style=event.style)
        elif isinstance(event, SequenceStartEvent):
            if tag is None or tag == "!":
                tag = p.resolve(SequenceNode, None, event.implicit)
            node = SequenceNode(tag, [], start, None, flow_style=event.flow_style)
            if anchor is not None:
                self.anchors[anchor] = node
            items: list[Any] = node.value
            while not isinstance(p.peek_event(), SequenceEndEvent):
                items.append(self.node(depth + 1))
            node.end_mark = p.get_event().end_mark
        else:  # mapping start
            if tag is None or tag == "!":
                tag = p.resolve(MappingNode, None, event.implicit)
            node = MappingNode(tag, [], start, None, flow_style=event.flow_style)
            if anchor is not None:
                self.anchors[anchor] = node
            pairs: list[Any] = node.value
            while not isinstance(p.peek_event(), MappingEndEvent):
                key = self.node(depth + 1)
                pairs.append((key, self.node(depth + 1)))
            node.end_mark = p.get_event().end_mark
        if anchor is not None:
            self.anchors[anchor] = node
            self.sizes[anchor] = self.values - before + 1
        return node

    def _alias(self, event: Any) -> yaml.Node:
        anchor = event.anchor
        if anchor not in self.anchors:
            raise Refused(event.start_mark, f"alias *{anchor} names no anchor defined before it")
        if anchor not in self.sizes:
            raise Refused(event.start_mark, f"alias *{anchor} refers to a node that contains it")
        self._count(self.sizes[anchor], event, anchor)
        return self.anchors[anchor]

    def _count(self, n: int, event: Any, alias: str | None) -> None:
        self.values += n
        lim = self.limits
        if self.values <= lim.max_values:
            return
        if alias is not None:
            raise Refused(
                event.start_mark,
                f"alias *{alias} repeats {n:,} values and takes the document past {lim.max_values:,}, the limit for "
                f"{lim.kind}: refused (an alias bomb?)",
            )
        raise Refused(event.start_mark, f"more than {lim.max_values:,} values, the limit for {lim.kind}")
