"""Write the sample estate (``topology/estate.yaml``) or a large synthetic one for benchmarks.

    python tools/make_topology.py topology/estate.yaml            # the command-center sample (~170 nodes)
    python tools/make_topology.py big.yaml --nodes 5000 --links 10000

The sample: a head-office data center (edge routers, firewalls, redundant cores, distribution, top-of-rack,
servers, databases, storage, UPS, PDUs and cooling), a disaster-recovery site, an MPLS WAN and twelve branches.
Positions are laid out here by site and tier so the wall never computes a layout at start-up.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml


class Estate:
    def __init__(self) -> None:
        self.sites: list[dict[str, Any]] = []
        self.nodes: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []

    def site(self, sid: str, label: str, kind: str) -> None:
        self.sites.append({"id": sid, "label": label, "kind": kind})

    def node(self, nid: str, label: str, kind: str, site: str, x: float, y: float) -> str:
        self.nodes.append({"id": nid, "label": label, "kind": kind, "site": site, "x": round(x, 1), "y": round(y, 1)})
        return nid

    def link(self, a: str, b: str, kind: str = "fiber", a_if: str | None = None, b_if: str | None = None) -> None:
        link: dict[str, Any] = {"a": a, "b": b, "kind": kind}
        if a_if:
            link["a_if"] = a_if
        if b_if:
            link["b_if"] = b_if
        self.links.append(link)


def datacenter(e: Estate, sid: str, label: str, kind: str, x0: float, scale: int) -> dict[str, list[str]]:
    e.site(sid, label, kind)
    t: dict[str, list[str]] = {}
    w = 1400 if scale == 2 else 800
    t["rtr"] = [
        e.node(f"{sid}-rtr-{i}", f"{sid.upper()} edge rtr {i}", "router", sid, x0 + w * (0.35 + 0.3 * (i - 1)), 0)
        for i in (1, 2)
    ]
    t["fw"] = [
        e.node(f"{sid}-fw-{i}", f"{sid.upper()} firewall {i}", "firewall", sid, x0 + w * (0.35 + 0.3 * (i - 1)), 110)
        for i in (1, 2)
    ]
    t["core"] = [
        e.node(f"{sid}-core-{i}", f"{sid.upper()} core {i}", "core_switch", sid, x0 + w * (0.3 + 0.4 * (i - 1)), 230)
        for i in (1, 2)
    ]
    for r in t["rtr"]:
        for f in t["fw"]:
            e.link(r, f)
    for f in t["fw"]:
        for c in t["core"]:
            e.link(f, c)
    e.link(t["core"][0], t["core"][1], "fiber", "Po1", "Po1")
    ndist = 2 * scale
    t["dist"] = [
        e.node(
            f"{sid}-dist-{i}", f"{sid.upper()} dist {i}", "distribution_switch", sid, x0 + w * (i - 0.5) / ndist, 360
        )
        for i in range(1, ndist + 1)
    ]
    for d in t["dist"]:
        for j, c in enumerate(t["core"]):
            e.link(c, d, "fiber", f"Te1/{t['dist'].index(d) + 1}", f"Te1/{49 + j}")
    ntor = 4 * scale
    t["tor"] = [
        e.node(f"{sid}-tor-{i:02d}", f"{sid.upper()} ToR {i}", "access_switch", sid, x0 + w * (i - 0.5) / ntor, 490)
        for i in range(1, ntor + 1)
    ]
    for i, tor in enumerate(t["tor"]):
        e.link(t["dist"][i // 2], tor, "fiber", f"Te1/{i % 2 + 5}", "Te1/49")
    roles = ["app", "web", "db", "mq", "auth", "batch"]
    t["srv"] = []
    for i, tor in enumerate(t["tor"]):
        for k in range(3):
            role = roles[(i * 3 + k) % len(roles)]
            kind = "database" if role == "db" else "server"
            n = e.node(
                f"{sid}-{role}-{i * 3 + k + 1:02d}",
                f"{role} {i * 3 + k + 1}",
                kind,
                sid,
                x0 + w * (i * 3 + k + 0.5) / (ntor * 3),
                620 + 40 * (k % 2),
            )
            e.link(tor, n, "copper", f"Gi1/{k + 1}", "eth0")
            t["srv"].append(n)
    t["san"] = []
    for i in range(1, scale + 1):
        san = e.node(
            f"{sid}-san-{i}",
            f"{sid.upper()} storage {i}",
            "storage",
            sid,
            x0 + w * (0.2 + 0.6 * (i - 1) / max(scale - 1, 1)) if scale > 1 else x0 + w * 0.5,
            760,
        )
        for d in t["dist"][:2]:
            e.link(d, san, "fiber")
        t["san"].append(san)
    mgmt = e.node(f"{sid}-mgmt-sw", f"{sid.upper()} mgmt switch", "access_switch", sid, x0 + w * 0.95, 360)
    e.link(t["core"][0], mgmt, "copper", "Gi0/48", "Gi1/0/48")
    t["env"] = []
    for i in range(1, scale + 1):
        t["env"].append(e.node(f"{sid}-ups-{i}", f"{sid.upper()} UPS {i}", "ups", sid, x0 + w * (0.80 + 0.05 * i), 860))
        t["env"].append(e.node(f"{sid}-pdu-{i}", f"{sid.upper()} PDU {i}", "pdu", sid, x0 + w * (0.80 + 0.05 * i), 930))
    for i in range(1, scale + 2):
        t["env"].append(
            e.node(f"{sid}-crac-{i}", f"{sid.upper()} cooling {i}", "cooling", sid, x0 + w * (0.55 + 0.06 * i), 860)
        )
    t["env"].append(e.node(f"{sid}-temp-1", f"{sid.upper()} temp/water", "sensor", sid, x0 + w * 0.55, 930))
    for n in t["env"]:
        e.link(mgmt, n, "copper")
    return t


def estate() -> Estate:
    e = Estate()
    e.site("wan", "Carriers / MPLS", "wan")
    isp_a = e.node("isp-a", "Carrier A", "internet", "wan", 900, -260)
    isp_b = e.node("isp-b", "Carrier B", "internet", "wan", 1500, -260)
    mpls = e.node("mpls", "MPLS cloud", "wan", "wan", 1900, 1150)
    dc1 = datacenter(e, "dc1", "Head-office data center", "datacenter", 0, 2)
    dr1 = datacenter(e, "dr1", "Disaster-recovery site", "dr", 1700, 1)
    for r in dc1["rtr"]:
        e.link(isp_a, r, "wan")
        e.link(r, mpls, "wan")
    for r in dr1["rtr"]:
        e.link(isp_b, r, "wan")
        e.link(r, mpls, "wan")
    e.link(dc1["core"][1], dr1["core"][0], "fiber", "Te2/1", "Te2/1")  # DCI
    branches = [
        "Shanghai",
        "Beijing",
        "Shenzhen",
        "Guangzhou",
        "Chengdu",
        "Wuhan",
        "Hangzhou",
        "Nanjing",
        "Xi'an",
        "Tianjin",
        "Qingdao",
        "Xiamen",
    ]
    for i, city in enumerate(branches, start=1):
        sid = f"br{i:02d}"
        e.site(sid, f"Branch {city}", "branch")
        x = -100 + i * 230
        rtr = e.node(f"{sid}-rtr", f"{city} router", "router", sid, x, 1330)
        fw = e.node(f"{sid}-fw", f"{city} firewall", "firewall", sid, x, 1430)
        sw = e.node(f"{sid}-sw", f"{city} switch", "access_switch", sid, x, 1530)
        srv = e.node(f"{sid}-srv", f"{city} server", "server", sid, x - 45, 1630)
        ups = e.node(f"{sid}-ups", f"{city} UPS", "ups", sid, x + 45, 1630)
        e.link(mpls, rtr, "wan", None, "Gi0/0")
        e.link(rtr, fw)
        e.link(fw, sw)
        e.link(sw, srv, "copper")
        e.link(sw, ups, "copper")
    return e


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--nodes", type=int, default=0)
    ap.add_argument("--links", type=int, default=0)
    args = ap.parse_args()
    if args.nodes:
        from wallctl.bench.topogen import synthetic

        doc = synthetic(args.nodes, max(args.links, args.nodes - 1))
    else:
        e = estate()
        doc = {
            "name": "Command-center estate",
            "root": "dc1-core-1",
            "sites": e.sites,
            "nodes": e.nodes,
            "links": e.links,
        }
    header = (
        "# yaml-language-server: $schema=../wallctl/schemas/topology.schema.json\n"
        "# Generated by tools/make_topology.py; edit freely (positions are in map units, y grows downwards).\n"
        "# Validate with: wallctl validate " + str(args.out) + "\n"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(header + yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=140))
    print(f"wrote {len(doc['nodes'])} nodes, {len(doc['links'])} links to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
