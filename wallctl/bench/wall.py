"""The real wall process for benchmarks: offscreen on a 3x2 virtual wall, against the bench's own Mosquitto."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from wallctl.core.config.settings import config_path, load_config
from wallctl.core.wall.layout import WallSpec
from wallctl.qt.platform import offscreen_config


class BenchWall:
    def __init__(
        self,
        port: int,
        *,
        config: str | None = None,
        env: dict[str, str] | None = None,
        wall_id: str = "bench",
        args: tuple[str, ...] = (),
        layouts: Path | None = None,
        audio: bool = False,
    ) -> None:
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="wallctl-bench-"))
        src = load_config(config_path(config))
        text = src.path.read_text()
        cfg = self.dir / "wallctl.yaml"
        # the same wall, layouts, topology and sounds; our own wall id, journal and no command token
        base = src.path.parent
        lines = []
        for line in text.splitlines():
            key = line.split(":", 1)[0]
            if key == "layouts" and layouts is not None:
                lines.append(f"layouts: {layouts}")
            elif key in ("layouts", "topology", "sounds", "profiles"):
                rel = line.split(":", 1)[1].strip()
                lines.append(f"{key}: {(base / rel).resolve()}")
            elif key in ("wall_id", "journal"):
                continue
            else:
                lines.append(line)
        lines += [f"wall_id: {wall_id}", f"journal: {self.dir / 'journal.sqlite3'}"]
        cfg.write_text("\n".join(lines).replace("command_token_env: WALLCTL_COMMAND_TOKEN", "") + "\n")
        self.config = cfg
        self.prefix = f"wallctl/{wall_id}"
        self.protocol = load_config(cfg).model.mqtt.protocol
        screens = offscreen_config(_wall_spec(cfg), self.dir)
        self.env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={screens}", **(env or {})}
        self.args = args
        self.audio = audio
        self.proc: subprocess.Popen[bytes] | None = None
        self.states: list[tuple[float, dict[str, Any]]] = []
        self.painted: list[dict[str, Any]] = []  # WALLCTL_BENCH: a mode painted on every monitor
        self.sounded: list[float] = []  # WALLCTL_BENCH: first sample of a sound handed to the device
        self.sounded_by_name: list[tuple[str, float]] = []  # the same, with the sound's name ("voice:..." for speech)
        self.status: str | None = None
        self._lock = threading.Lock()
        self._watch: paho.Client | None = None

    def start(self, timeout: float = 60) -> float:
        """Start the process and wait until it says it is online; returns the seconds that took."""
        self._watch = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-watch-{os.getpid()}-{id(self):x}")
        self._watch.on_message = self._on_message
        self._watch.connect("127.0.0.1", self.port)
        self._watch.subscribe(f"{self.prefix}/#", qos=0)
        self._watch.loop_start()
        t0 = time.time()
        log = (self.dir / "wall.log").open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wallctl",
                "run",
                "--config",
                str(self.config),
                "--broker",
                f"127.0.0.1:{self.port}",
                *(() if self.audio else ("--no-audio",)),
                *self.args,
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.wait(lambda s: s.get("broker") == "connected", timeout)
        return time.time() - t0

    def _on_message(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        now = time.time()
        if msg.topic.endswith("/state"):
            with self._lock:
                self.states.append((now, json.loads(msg.payload)))
        elif msg.topic.endswith("/bench/painted"):
            with self._lock:
                self.painted.append(json.loads(msg.payload))
        elif msg.topic.endswith("/bench/sounded"):
            body = json.loads(msg.payload)
            with self._lock:
                self.sounded.append(body["at"])
                self.sounded_by_name.append((str(body.get("sound")), float(body["at"])))
        elif msg.topic.endswith("/status"):
            self.status = msg.payload.decode()

    def latest(self) -> dict[str, Any]:
        with self._lock:
            return self.states[-1][1] if self.states else {}

    def wait(self, predicate: Any, timeout: float) -> float:
        """Wait until a published state satisfies ``predicate``; returns the time that state arrived."""
        seen = 0

        def find() -> float | None:
            nonlocal seen  # each state is looked at once: a long run publishes thousands
            for t, st in self.states[seen:]:
                if predicate(st):
                    return t
            seen = len(self.states)
            return None

        return float(self._wait(find, timeout, "the expected state"))

    def publish(self, topic: str, body: dict[str, Any]) -> None:
        assert self._watch is not None
        self._watch.publish(topic, json.dumps(body), qos=1)

    def node_down(self, severity: str, tag: str) -> float:
        """The benchmarks' mode switch: Chengdu's router down (critical: the incident mode) or back (cleared:
        normal), with a fresh id; returns when it was sent."""
        t0 = time.time()
        body = {
            "source": "br05-rtr",
            "type": "node_down",
            "severity": severity,
            "category": "network",
            "id": f"{tag}-{time.time_ns()}",
        }
        self.publish("noc/events/network/br05-rtr", body)
        return t0

    def command(self, action: str) -> None:
        self.publish(f"{self.prefix}/cmd", {"action": action})

    def wait_painted(self, mode: str, after: float, timeout: float = 10) -> dict[str, Any]:
        """The first report of ``mode`` painted on every monitor at or after ``after`` (epoch seconds)."""
        found = lambda: next((p for p in self.painted if p["mode"] == mode and p["painted_at"] >= after), None)  # noqa: E731
        return dict(self._wait(found, timeout, f"mode {mode} painted"))

    def wait_sounded(self, after: float, timeout: float = 5) -> float:
        """When the first sound at or after ``after`` reached the device."""
        return float(self._wait(lambda: next((t for t in self.sounded if t >= after), None), timeout, "a sound"))

    def wait_sounded_as(self, prefix: str, after: float, timeout: float = 5, *, exclude: bool = False) -> float:
        """When the first sound whose name starts with ``prefix`` (or, ``exclude``, does not) reached the device."""

        def find() -> float | None:
            return next((t for n, t in self.sounded_by_name if t >= after and n.startswith(prefix) != exclude), None)

        return float(self._wait(find, timeout, f"a sound {'not ' if exclude else ''}named {prefix}*"))

    def _wait(self, find: Any, timeout: float, what: str) -> Any:
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self._lock:
                found = find()
            if found is not None:
                return found
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"the wall exited ({self.proc.returncode}); log: {self.log()[-2000:]}")
            time.sleep(0.002)
        raise TimeoutError(f"{what}: not within {timeout:g} s; last state: {self.latest()}")

    def events(self) -> int:
        return int(self.latest().get("events", 0))

    def wait_events(self, target: int, stall_s: float = 30) -> float:
        """Wait until the wall has counted ``target`` events; give up only if the count stops moving for ``stall_s``
        (a long flood may take minutes on a slow machine; a lost event must not hang the suite)."""
        last, since = -1, time.time()
        while True:
            now = self.events()
            if now >= target:
                return self.wait(lambda s: s.get("events", 0) >= target, 1)
            if now != last:
                last, since = now, time.time()
            elif time.time() - since > stall_s:
                raise TimeoutError(f"the wall counted {now:,} of {target:,} events and stopped for {stall_s:g} s")
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"the wall exited ({self.proc.returncode}); log: {self.log()[-2000:]}")
            time.sleep(0.02)

    def settle(self, quiet_s: float = 0.5, timeout: float = 120) -> None:
        """Wait until the wall has worked off what it was sent: its event count stops moving."""
        deadline = time.time() + timeout
        last, since = self.events(), time.time()
        while time.time() < deadline:
            time.sleep(0.05)
            now = self.events()
            if now != last:
                last, since = now, time.time()
            elif time.time() - since >= quiet_s:
                return

    def log(self) -> str:
        return (self.dir / "wall.log").read_text(errors="replace")

    def pids(self, which: str | None = None) -> list[int]:
        """The wall's processes (supervisor, controller, displays), or those whose command line holds ``which``."""
        assert self.proc is not None
        out = []
        for pid in [self.proc.pid, *_descendants(self.proc.pid)]:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if which is None or which.encode() in cmdline:
                out.append(pid)
        return out

    def rss_mb(self, which: str | None = None) -> float:
        """Resident memory of the wall's processes (supervisor, controller, displays), or of those whose command
        line holds ``which`` (``controller``, ``display``)."""
        assert self.proc is not None
        total = 0.0
        for pid in [self.proc.pid, *_descendants(self.proc.pid)]:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if which is not None and which.encode() not in cmdline:
                    continue
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1]) / 1024
            except OSError:
                continue  # gone meanwhile
        return total

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._watch is not None:
            self._watch.loop_stop()
            self._watch.disconnect()


def _wall_spec(cfg: Path) -> WallSpec:
    from wallctl.controller.build import load_config_layouts

    return load_config_layouts(load_config(cfg)).wall


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for c in map(int, children):
        out += [c, *_descendants(c)]
    return out
