"""Large synthetic topologies (a tree of sites plus random cross links) for the topology tile's benchmark and
tests; positions are laid out on a grid so nothing is computed at load time."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml


def synthetic(nodes: int, links: int, seed: int = 42) -> dict[str, Any]:
    rnd = random.Random(seed)
    nsites = max(1, nodes // 100)
    sites = [{"id": f"s{s}", "label": f"Site {s}", "kind": "branch"} for s in range(nsites)]
    out_nodes: list[dict[str, Any]] = [
        {"id": "root", "label": "root", "kind": "core_switch", "site": "s0", "x": 0.0, "y": 0.0}
    ]
    out_links: list[dict[str, Any]] = []
    ids = ["root"]
    have: set[tuple[str, str]] = set()
    for i in range(1, nodes):
        parent = ids[rnd.randrange(max(0, len(ids) - 200), len(ids))]
        nid = f"n{i}"
        out_nodes.append(
            {
                "id": nid,
                "label": f"node {i}",
                "kind": rnd.choice(["server", "access_switch", "router", "storage"]),
                "site": f"s{min(i // 100, nsites - 1)}",
                "x": float((i % 100) * 40 + (i // 10000) * 4000),
                "y": float((i // 100) * 40),
            }
        )
        out_links.append({"a": parent, "b": nid, "kind": "copper"})
        have.add((min(parent, nid), max(parent, nid)))
        ids.append(nid)
    while len(out_links) < links:
        a, b = rnd.sample(ids, 2)
        key = (min(a, b), max(a, b))
        if key not in have:
            have.add(key)
            out_links.append({"a": a, "b": b, "kind": "copper"})
    return {"name": f"synthetic {nodes}", "root": "root", "sites": sites, "nodes": out_nodes, "links": out_links}


def write_synthetic(path: Path, nodes: int, links: int) -> Path:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(
        yaml.dump(synthetic(nodes, links), Dumper=dumper, sort_keys=False, default_flow_style=None, width=200)
    )
    return path
