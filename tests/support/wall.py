"""The real wall process, started as ``python -m wallctl run`` (or the headless ``controller``) against a real
broker, and an MQTT observer."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[2]


def write_config(
    directory: Path,
    *,
    wall_id: str = "test",
    port: int = 1883,
    extra: str = "",
    mqtt_extra: str = "",
    layouts: Path | None = None,
    kpis: str = "",
) -> Path:
    """A config in ``directory`` that uses the repository's layouts, topology and sounds, and a private journal."""
    path = directory / "wallctl.yaml"
    path.write_text(f"""\
wall_id: {wall_id}
layouts: {layouts or ROOT / "layouts"}
topology: {ROOT / "topology" / "estate.yaml"}
sounds: {ROOT / "sounds" / "soundmap.yaml"}
journal: {directory / "journal.sqlite3"}
mqtt:
  host: 127.0.0.1
  port: {port}
  reconnect_min_s: 0.5
  reconnect_max_s: 2
  link_grace_s: 2
{mqtt_extra}
engine:
  suppression_root: dc1-core-1
  correlation:
    - {{alarm_type: link_down, raise: [link_down], clear: [link_up]}}
{extra}
""")
    # the shipped modes chart the shipped KPIs (a layout naming an unknown series is refused); ``kpis`` adds more
    shipped = re.search(r"^kpis:\n(?:[ #].*\n)*", (ROOT / "config" / "wallctl.yaml").read_text(), re.M)
    assert shipped is not None, "config/wallctl.yaml lost its kpis section"
    path.write_text(path.read_text() + shipped.group() + kpis)
    return path


class WallProcess:
    def __init__(
        self, config: Path, *, env: dict[str, str] | None = None, args: tuple[str, ...] = (), command: str = "run"
    ) -> None:
        self.config = config
        self.command = command
        self.env = env or {}
        self.args = args
        self.proc: subprocess.Popen[str] | None = None
        self.log = config.parent / "wall.log"

    def start(self) -> WallProcess:
        env = dict(os.environ)
        env.update(self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self._fh = self.log.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wallctl", "-v", self.command, "--config", str(self.config), *self.args],
            env=env,
            stdout=self._fh,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
        )
        return self

    def stop(self, timeout: float = 10) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        self._fh.close()
        return code

    def wait_exit(self, timeout: float = 20) -> int:
        """Wait for a wall started with --duration to end by itself."""
        assert self.proc is not None
        self.proc.wait(timeout)
        return self.stop()

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        self._fh.close()

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Observer:
    """Watches the wall's topics and publishes events and commands, like another console would."""

    def __init__(self, port: int, prefix: str) -> None:
        self.prefix = prefix
        self.lock = threading.Lock()
        self.state: dict[str, Any] | None = None
        self.states: list[dict[str, Any]] = []
        self.alarms: dict[str, Any] | None = None
        self.status: str | None = None
        self.results: list[dict[str, Any]] = []
        self.client = paho.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(f"{prefix}/#", qos=1)  # again after a broker restart
        self.client.reconnect_delay_set(1, 2)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.wait(lambda o: o.client.is_connected(), 5, "observer connected")

    def _on_message(self, _c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        sub = msg.topic[len(self.prefix) + 1 :]
        with self.lock:
            if sub == "state":
                self.state = json.loads(msg.payload)
                self.states.append(self.state)
            elif sub == "alarms":
                self.alarms = json.loads(msg.payload)
            elif sub == "status":
                self.status = msg.payload.decode()
            elif sub == "cmd/result":
                self.results.append(json.loads(msg.payload))

    def forget(self) -> None:
        """Drop what was seen, so that a restarted wall is waited for, not its predecessor's retained messages."""
        with self.lock:
            self.state = self.alarms = self.status = None

    def wait(self, predicate: Callable[[Observer], bool], timeout: float = 15.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(self):
                    return
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; last state: {self.state}")

    def event(self, topic_tail: str, **payload: Any) -> None:
        self.client.publish(f"noc/events/{topic_tail}", json.dumps(payload), qos=1).wait_for_publish(5)

    def raw(self, topic: str, payload: bytes | str, qos: int = 1) -> None:
        self.client.publish(topic, payload, qos=qos).wait_for_publish(5)

    def command(self, **cmd: Any) -> None:
        self.client.publish(f"{self.prefix}/cmd", json.dumps(cmd), qos=1).wait_for_publish(5)

    def alarm(self, source: str, type_: str) -> dict[str, Any] | None:
        if not self.alarms:
            return None
        return next((a for a in self.alarms["alarms"] if a["source"] == source and a["type"] == type_), None)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def started(obs: Observer, wall: WallProcess, timeout: float = 20) -> None:
    """Wait until the wall says it is online and connected to the broker (its log in the message if not)."""
    obs.wait(
        lambda o: o.status == "online" and o.state is not None and o.state["broker"] == "connected",
        timeout,
        f"wall online; log:\n{wall.output()[-3000:]}",
    )
