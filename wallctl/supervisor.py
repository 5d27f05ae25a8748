"""``wallctl run``: the controller in a process of its own and a display process for every node of the wall, kept
running. The controller never waits for a repaint, and a crash of the painting code costs that node's picture for a
second, not ingest or sound.

A child that exits is restarted after a short back-off (the displays say "controller lost" meanwhile). A child that
refuses to start (exit 1 or 2 within its first seconds: a configuration error, a missing token, a journal held by
another wall) ends the run with its exit code, after the others are stopped: restarting it would only repeat the
refusal. Children die with the supervisor, even by kill -9 (the kernel's parent-death signal), so a killed wall
leaves nothing running that holds its journal.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

log = logging.getLogger("wallctl.supervisor")
POLL_S = 0.1
START_GRACE_S = 5.0  # an exit with 1 or 2 before this is a refusal to start, not a crash
BACKOFF_S = (0.5, 1.0, 2.0, 5.0)
STOP_TIMEOUT_S = 1.8  # SIGTERM to exit: the contract gives the whole wall 2 s


def _die_with_parent() -> None:
    """In the child, before exec: the kernel sends it SIGKILL when the supervisor dies (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    restarts: int = 0
    next_start: float = 0.0
    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        env = {**os.environ, **self.env}
        self.proc = subprocess.Popen(self.argv, env=env, preexec_fn=_die_with_parent)
        self.started = time.monotonic()
        log.info("started %s (pid %d)", self.name, self.proc.pid)


class Supervisor:
    def __init__(self, duration_s: float | None = None) -> None:
        """Made first thing: a SIGTERM from here on stops the wall cleanly, even one sent during start-up."""
        self.children: list[Child] = []
        self.duration_s = duration_s
        self._stop = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stop())

    def run(
        self, controller: list[str], displays: dict[str, list[str]], services: dict[str, list[str]] | None = None
    ) -> int:
        """``services``: more supervised children by name (the gateway, when the config enables it)."""
        self.children = [Child("controller", controller)] + [
            Child(f"display {node}", argv, env={"WALLCTL_NODE": node}) for node, argv in displays.items()
        ]
        self.children += [Child(name, argv) for name, argv in (services or {}).items()]
        t0 = time.monotonic()
        for child in self.children:
            if not self._stop:
                child.start()
        code = 0
        while not self._stop:
            time.sleep(POLL_S)
            now = time.monotonic()
            if self.duration_s is not None and now - t0 >= self.duration_s:
                break
            for child in self.children:
                proc = child.proc
                if proc is None:
                    if now >= child.next_start:
                        child.start()
                    continue
                rc = proc.poll()
                if rc is None:
                    continue
                if rc in (1, 2) and now - child.started < START_GRACE_S:
                    log.error("%s refused to start (exit %d): stopping the wall", child.name, rc)
                    code = rc
                    self._stop = True
                    child.proc = None
                    break
                delay = BACKOFF_S[min(child.restarts, len(BACKOFF_S) - 1)]
                log.error("%s exited (code %s); restarting it in %.1f s", child.name, rc, delay)
                print(f"wallctl: {child.name} exited (code {rc}); restarting it", file=sys.stderr)  # noqa: T201
                child.proc = None
                child.restarts += 1
                child.next_start = now + delay
        self.shutdown()
        return code

    def stop(self) -> None:
        self._stop = True

    def shutdown(self) -> None:
        """SIGTERM to every child at once (displays and controller stop in parallel), SIGKILL to the late."""
        running = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        for p in running:
            p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for p in running:
            try:
                p.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("pid %d did not stop in time: killed", p.pid)
                p.kill()
                p.wait()
