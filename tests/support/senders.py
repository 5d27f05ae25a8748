"""The gateway as a real process, and the real senders that feed it: Prometheus Alertmanager and Net-SNMP's
snmptrapd (Debian packages, installed by ``make test``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.mosquitto import free_port
from tests.support.wall import ROOT, WallProcess


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """(status, decoded JSON body or text) without raising on 4xx/5xx."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


class GatewayProcess(WallProcess):
    """``wallctl gateway`` on free ports; ``url`` is its HTTP base."""

    def __init__(
        self, config: Path, *, syslog: bool = False, env: dict[str, str] | None = None, http_port: int | None = None
    ) -> None:
        """``http_port``: the port of an earlier gateway (a sender configured with its URL finds it again)."""
        self.http_port = http_port or free_port()
        self.syslog_port = free_port() if syslog else None
        args = ["--http", f"127.0.0.1:{self.http_port}"]
        args += ["--syslog", f"127.0.0.1:{self.syslog_port}"] if syslog else []
        super().__init__(config, env=env, args=tuple(args), command="gateway")
        self.log = config.parent / "gateway.log"
        self.url = f"http://127.0.0.1:{self.http_port}"

    def start(self) -> GatewayProcess:
        super().start()
        return self

    def ready(self, timeout: float = 20) -> GatewayProcess:
        def up() -> bool:
            try:
                return http("GET", f"{self.url}/healthz")[0] == 200
            except OSError:
                return False

        try:
            wait_for(up, timeout, "the gateway's /healthz")
        except AssertionError:
            raise AssertionError(f"gateway not ready; log:\n{self.output()[-3000:]}") from None
        return self

    def post(self, path: str, body: Any, token: str | None = None) -> tuple[int, Any]:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return http("POST", f"{self.url}{path}", raw, headers)


class Alertmanager:
    """A real Alertmanager whose only receiver is the gateway's webhook (TESTING.md's recipe)."""

    def __init__(self, directory: Path, webhook: str) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (self.dir / "am.yml").write_text(
            "route: {receiver: wall, group_by: [alertname, instance], group_wait: 1s, group_interval: 1s, "
            "repeat_interval: 1h}\n"
            f'receivers: [{{name: wall, webhook_configs: [{{url: "{webhook}", send_resolved: true}}]}}]\n'
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Alertmanager:
        binary = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
        self._log = (self.dir / "alertmanager.log").open("wb")
        self.proc = subprocess.Popen(
            [
                binary,
                f"--config.file={self.dir / 'am.yml'}",
                f"--storage.path={self.dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

        def ready() -> bool:
            try:
                return http("GET", f"{self.url}/-/ready")[0] == 200
            except OSError:
                return False

        wait_for(ready, 20, "Alertmanager ready")
        return self

    def alert(self, labels: dict[str, str], *, summary: str = "", resolved: bool = False) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        body: dict[str, Any] = {"labels": labels, "annotations": {"summary": summary}, "startsAt": now}
        if resolved:
            body["endsAt"] = now
        status, reply = http(
            "POST", f"{self.url}/api/v2/alerts", json.dumps([body]).encode(), {"Content-Type": "application/json"}
        )
        assert status == 200, (status, reply)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self._log.close()
            self.proc = None


class SnmpTrapd:
    """Net-SNMP's snmptrapd on a free UDP port, handing every trap to the shipped traphandle, which posts it to
    the gateway."""

    def __init__(self, directory: Path, gateway_url: str) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        handler = ROOT / "integrations" / "snmp" / "wallctl-traphandle"
        (self.dir / "snmptrapd.conf").write_text(
            f"disableAuthorization yes\ntraphandle default {handler} {gateway_url}/snmptrap\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> SnmpTrapd:
        binary = shutil.which("snmptrapd") or "/usr/sbin/snmptrapd"
        self._log = (self.dir / "snmptrapd.log").open("wb")
        self.proc = subprocess.Popen(
            [binary, "-f", "-Lo", "-C", "-c", str(self.dir / "snmptrapd.conf"), f"udp:127.0.0.1:{self.port}"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MIBS": ""},
        )
        wait_for(lambda: "NET-SNMP version" in (self.dir / "snmptrapd.log").read_text(), 20, "snmptrapd started")
        return self

    def trap(self, trap_oid: str, *varbinds: str) -> None:
        """``snmptrap -v 2c``: varbinds as ``OID TYPE VALUE`` triples, numeric OIDs (Debian ships no IF-MIB)."""
        args = [a for vb in varbinds for a in vb.split(" ", 2)]
        subprocess.run(
            ["snmptrap", "-v", "2c", "-c", "public", f"127.0.0.1:{self.port}", "", trap_oid, *args],
            check=True,
            capture_output=True,
            env={**os.environ, "MIBS": ""},
        )

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self._log.close()
            self.proc = None
