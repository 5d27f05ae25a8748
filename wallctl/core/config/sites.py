"""Branch sites (``sites:`` in config/wallctl.yaml): each branch has its own broker, bridged to the head office's, and
its events reach the wall under a topic prefix of its own.

The prefix is what tells the wall where an event comes from, so it must be unambiguous: it ends with ``/``, holds
no wildcard and no space (a Mosquitto ``topic`` line is split at spaces), and no site's prefix lies inside
another's. Names become the alarm source ``site/<name>`` and the bridge's client id, so they are plain words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from wallctl.core.files.spec import spec
from wallctl.core.files.yamldoc import Doc, Problem

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
LINK_TYPE = "site_link_down"
BRIDGE_STATE = "$bridge/state"  # under the site's prefix: where its bridge says 1 (connected) or 0 (lost)


@dataclass(frozen=True)
class Site:
    """A branch whose broker is bridged to the head office's (``wallctl bridge-config`` writes the bridge)."""

    name: str = spec(
        "the site's name: its alarms carry it ('site' on the alarms topic), its link alarm is source site/<name>; "
        "name it as the topology's site id (e.g. br05) and the map and rules' groups know it too"
    )
    topic_prefix: str = spec(
        "where the branch's events arrive at the head office's broker, ending with '/', e.g. branch/chengdu/: "
        "the wall subscribes to it followed by each of its event filters"
    )
    heartbeat_s: float | None = spec(
        "no message from the site for longer than this is a site_link_down alarm (have something at the branch "
        "publish a heartbeat event more often); null: only the bridge's own state is watched",
        default=None,
        minimum=1,
    )
    link_grace_s: float = spec(
        "the bridge reported down for longer than this is a site_link_down alarm (a bridge that reconnects at "
        "once raises nothing)",
        default=10.0,
        minimum=0,
    )
    label: str | None = spec(
        "what its link alarm calls it ('Branch Chengdu: link down since 14:02'); default the label of the "
        "topology's site of the same id, else 'branch <name>'",
        default=None,
    )

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(
                f"name {self.name!r}: letters, digits, '_', '.' and '-' only, at most 64 (it names the alarm source "
                "site/<name> and the bridge's client id)"
            )
        p = self.topic_prefix
        example = f"branch/{self.name}/"
        if not p.endswith("/") or p == "/":
            raise ValueError(f"topic_prefix {p!r} must end with '/' after at least one level, e.g. {example!r}")
        if p.startswith("/") or "//" in p:
            raise ValueError(f"topic_prefix {p!r} has an empty topic level; e.g. {example!r}")
        if "+" in p or "#" in p:
            raise ValueError(f"topic_prefix {p!r} holds an MQTT wildcard; it must name one place, e.g. {example!r}")
        if p.startswith("$"):
            raise ValueError(f"topic_prefix {p!r} starts with '$', which brokers keep for themselves")
        if any(c.isspace() or ord(c) < 32 for c in p):
            raise ValueError(f"topic_prefix {p!r} holds a space or control character (a bridge's topic line cannot)")

    @property
    def source(self) -> str:
        """The source of this site's link alarm."""
        return f"site/{self.name}"

    @property
    def state_topic(self) -> str:
        """Where the bridge publishes its connection state (``notification_topic``) at the head office."""
        return self.topic_prefix + BRIDGE_STATE


def site_subscriptions(sites: Iterable[Site], filters: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """What the wall subscribes to for its sites: each prefix before each event filter, and each bridge's state."""
    filters = tuple(filters)
    out: list[tuple[str, int]] = []
    for site in sites:
        out += [(site.topic_prefix + f, q) for f, q in filters]
        out.append((site.state_topic, 1))
    return tuple(out)


def check_sites(doc: Doc) -> list[Problem]:
    """What one site cannot say about itself: a name used twice, a prefix inside another's. Read from the document
    as written, so these problems are reported with all others, even when the rest does not build."""
    raw = doc.data.get("sites") if isinstance(doc.data, dict) else None
    if not isinstance(raw, list):
        return []
    names: dict[str, int] = {}
    prefixes: list[tuple[int, str]] = []
    out: list[Problem] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            continue
        name, prefix = _text(item.get("name")), _text(item.get("topic_prefix"))
        if name is not None:
            if name in names:
                out.append(
                    doc.problem(
                        ("sites", i, "name"), f"sites[{i}].name: {name!r} is used twice (also sites[{names[name]}])"
                    )
                )
            names.setdefault(name, i)
        if prefix is not None:
            for j, other in prefixes:
                if prefix.startswith(other) or other.startswith(prefix):
                    out.append(
                        doc.problem(
                            ("sites", i, "topic_prefix"),
                            f"sites[{i}].topic_prefix: {prefix!r} overlaps sites[{j}]'s {other!r}: an event under "
                            "both would belong to two sites",
                        )
                    )
                    break
            prefixes.append((i, prefix))
    return out


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def with_labels(sites: Iterable[Site], labels: dict[str, str]) -> tuple[Site, ...]:
    """Sites without a label of their own take the topology's label for the site of the same id."""
    return tuple(replace(s, label=labels[s.name]) if s.label is None and labels.get(s.name) else s for s in sites)


def site_groups(groups: dict[str, frozenset[str]], sites: Iterable[Site]) -> dict[str, frozenset[str]]:
    """A topology site named as a configured site also holds that site's link alarm (``site/<name>``): rules, the
    sound map and maintenance windows that name the group take the branch's link in with its nodes."""
    out = dict(groups)
    for site in sites:
        if site.name in out:
            out[site.name] = out[site.name] | {site.source}
    return out
