"""Which nodes are reachable only through a given node (its dominated set), seen from a root.

Topology-aware suppression asks this: when a node is down, everything it dominates is unreachable because of
it, so their alarms are consequences, not new problems. Computed once per topology with networkx's
immediate-dominator algorithm (Cooper, Harvey, Kennedy), then answered from a tree by walking parents.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx


class DominatorIndex:
    def __init__(self, graph: nx.Graph, root: str) -> None:
        if root not in graph:
            raise ValueError(f"suppression root {root!r} is not a node of the topology")
        directed = graph.to_directed() if not graph.is_directed() else graph
        idom: dict[str, str] = nx.immediate_dominators(directed, root)
        self.root = root
        self._parent: dict[str, str] = {n: d for n, d in idom.items() if n != d}
        self._children: dict[str, list[str]] = {}
        for node, parent in self._parent.items():
            self._children.setdefault(parent, []).append(node)

    def __contains__(self, node: object) -> bool:
        return node in self._parent or node == self.root

    def dominators(self, node: str) -> list[str]:
        """Nodes every path from the root to ``node`` passes through, nearest first (root excluded)."""
        out: list[str] = []
        parent = self._parent.get(node)
        while parent is not None and parent != self.root:
            out.append(parent)
            parent = self._parent.get(parent)
        return out

    def dominated(self, node: str) -> set[str]:
        """Nodes reachable from the root only through ``node``."""
        out: set[str] = set()
        stack = list(self._children.get(node, ()))
        while stack:
            n = stack.pop()
            out.add(n)
            stack.extend(self._children.get(n, ()))
        return out

    def dominated_many(self, nodes: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for n in nodes:
            out |= self.dominated(n)
        return out
