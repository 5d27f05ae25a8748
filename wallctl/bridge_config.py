"""``wallctl bridge-config``: print the Mosquitto bridge section for one branch site's broker.

The text itself comes from :func:`wallctl.core.config.bridge.bridge_section`; this only finds the site in the
configuration and says what is wrong. Exit 0 with the section on stdout, 1 for a broken configuration, 2 for a
usage error (an unknown site, named with the known ones; a bad --head or timing).
"""

from __future__ import annotations

import sys
from pathlib import Path

from wallctl.core.config.bridge import BridgeOptions, bridge_section
from wallctl.core.config.settings import load_config
from wallctl.core.files.yamldoc import ConfigError


def run_bridge_config(config: Path, site: str, head: str, *, keepalive_s: int, restart_s: list[int]) -> int:
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        sys.stderr.write("".join(f"{p}\n" for p in exc.problems))
        return 1
    sites = {s.name: s for s in cfg.model.sites}
    chosen = sites.get(site)
    if chosen is None:
        known = ", ".join(sites) if sites else f"none (add a 'sites:' section to {config})"
        sys.stderr.write(f"wallctl bridge-config: unknown site {site!r}; known sites: {known}\n")
        return 2
    if not 1 <= len(restart_s) <= 2:
        sys.stderr.write("wallctl bridge-config: --restart-timeout takes BASE [CAP] (seconds)\n")
        return 2
    try:
        options = BridgeOptions(keepalive_s=keepalive_s, restart_base_s=restart_s[0], restart_cap_s=restart_s[-1])
        filters = [s.filter for s in cfg.model.mqtt.subscriptions]
        sys.stdout.write(bridge_section(chosen, filters, head, options))
    except ValueError as exc:
        sys.stderr.write(f"wallctl bridge-config: {exc}\n")
        return 2
    return 0
