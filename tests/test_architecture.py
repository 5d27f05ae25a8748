"""The package's shape, checked on its imports: no module imports itself back through others (the layers are
``lint-imports``'s contracts in pyproject.toml, run by ``make test``)."""

from __future__ import annotations

import grimp
import networkx as nx


def test_no_import_cycles() -> None:
    graph = grimp.build_graph("wallctl")
    g = nx.DiGraph()
    for module in graph.modules:
        g.add_node(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if not module.startswith(imported + "."):  # a module importing its own package's face is no cycle
                g.add_edge(module, imported)
    cycles = sorted(" -> ".join([*c, c[0]]) for c in nx.simple_cycles(g) if len(c) > 1)
    assert cycles == [], "import cycles:\n" + "\n".join(cycles[:20])
