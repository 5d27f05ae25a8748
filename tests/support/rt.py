"""A throwaway Request Tracker 5 (Debian's request-tracker5, SQLite) on a free loopback port, with an auth token for
wallctl: the recipe of /work/shared/TESTING.md."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

RT_SERVER = Path("/usr/share/request-tracker5/libexec/rt-server")
RT_LIB = Path("/usr/share/request-tracker5/lib")
PASSWORD = "wallctl-test-pw"


def available() -> bool:
    return RT_SERVER.exists() and shutil.which("rt-setup-database-5") is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RequestTrackerServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="wallctl-rt-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""
        t, port = self.dir, self.port
        (t / "RT_SiteConfig.pm").write_text(f"""
Set($rtname,'rt-test'); Set($Organization,'test');
Set($DatabaseType,'SQLite'); Set($DatabaseName,'{t}/rt.db');
Set($WebDomain,'127.0.0.1'); Set($WebPort,{port}); Set($WebPath,'');
Set($WebBaseURL,'http://127.0.0.1:{port}');
Set($LogToSTDERR,'warning'); Set($LogToSyslog,undef); Set($LogToFile,undef);
Set($MailCommand,'testfile'); Set($BcryptCost,4);
$RT::MasonDataDir='{t}/mason'; $RT::MasonSessionDir='{t}/sessions';
1;
""")
        for sub in ("site.d", "mason", "sessions"):
            (t / sub).mkdir()
        (t / "rootpw").write_text(PASSWORD + "\n")
        self.env = dict(os.environ, RT_SITE_CONFIG=str(t / "RT_SiteConfig.pm"), RT_SITE_CONFIG_DIR=str(t / "site.d"))

    def setup(self) -> RequestTrackerServer:
        subprocess.run(
            ["rt-setup-database-5", "--action", "init", "--skip-create", "--root-password-file", str(self.dir / "rootpw")],
            env=self.env, stdin=subprocess.DEVNULL, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        script = (
            'use RT; RT::LoadConfig(); RT::Init(); my $u=RT::User->new(RT->SystemUser); $u->Load("root"); '
            'my ($id,$msg,$auth)=RT::AuthToken->new(RT->SystemUser)->Create(Owner=>$u->id,Description=>"wallctl"); '
            'print "$auth\\n"'
        )
        out = subprocess.run(
            ["perl", f"-I{RT_LIB}", "-e", script], env=self.env, check=True, capture_output=True, text=True, timeout=60
        )
        self.token = out.stdout.strip().splitlines()[-1]
        return self

    def start(self) -> RequestTrackerServer:
        self.log = (self.dir / "rt.log").open("ab")
        self.proc = subprocess.Popen(
            [str(RT_SERVER), "--host", "127.0.0.1", "--port", str(self.port), "--max-workers", "2"],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.api("GET", "/queue/General")
                return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise AssertionError(f"RT did not start on {self.url}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
            self.log.close()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """REST2 as root (basic auth): how the test looks at tickets and plays the staff."""
        auth = base64.b64encode(f"root:{PASSWORD}".encode()).decode()
        req = urllib.request.Request(
            f"{self.url}/REST/2.0{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read().decode()
        return json.loads(text) if text else None

    def tickets(self) -> list[dict[str, Any]]:
        found = self.api("GET", "/tickets?query=" + urllib.request.quote("Queue='General'") + "&per_page=100")
        return [self.api("GET", f"/ticket/{item['id']}") for item in found.get("items", [])]

    def history(self, ticket: str) -> list[dict[str, Any]]:
        found = self.api("GET", f"/ticket/{ticket}/history?per_page=100")
        return [self.api("GET", f"/transaction/{item['id']}") for item in found.get("items", [])]
