"""Branch brokers bridged to a head office's: real Mosquitto instances configured with the section
``wallctl bridge-config`` prints, each behind a WAN link the test can cut (a TCP relay)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.mosquitto import Mosquitto
from tests.support.proxy import CuttableProxy
from tests.support.wall import ROOT


class WanLink(CuttableProxy):
    """A TCP relay standing for a branch's WAN link: ``cut`` drops every connection through it and turns new ones
    away (accepted and closed at once, as a dead path would) until ``restore``."""

    def cut(self) -> None:
        self.partition()

    def restore(self) -> None:
        self.heal()


def bridge_config(config: Path, site: str, head: str, *, restart_s: tuple[int, int] = (1, 1)) -> str:
    """The section ``wallctl bridge-config`` prints for ``site``, run as the command it is."""
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "wallctl",
            "bridge-config",
            "--config",
            str(config),
            "--site",
            site,
            "--head",
            head,
            "--keepalive",
            "5",
            "--restart-timeout",
            *map(str, restart_s),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    return res.stdout


class Branch:
    """A branch site: its own broker (persistent, so its queue survives a restart), bridged to the head office's
    broker through a WAN link the test can cut, and a publisher for its local monitoring."""

    def __init__(self, config: Path, site: str, head_port: int) -> None:
        self.site = site
        self.wan = WanLink(head_port)
        self.section = bridge_config(config, site, f"127.0.0.1:{self.wan.port}")
        self.broker = Mosquitto(persistence=True, extra_conf=self.section).start()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"monitoring-{site}-{time.monotonic_ns()}")
        self.client.reconnect_delay_set(0.2, 1)
        self.client.connect("127.0.0.1", self.broker.port)
        self.client.loop_start()

    def publish(self, tail: str, **event: Any) -> None:
        """One event from the branch's own monitoring, QoS 1, acknowledged by the branch broker."""
        wait_for(self.client.is_connected, 10, f"the {self.site} monitoring connected to its broker")
        info = self.client.publish(f"noc/events/{tail}", json.dumps(event), qos=1)
        info.wait_for_publish(5)
        assert info.is_published(), f"the {self.site} broker did not take the event"

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
        self.broker.stop()
        self.wan.close()


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
