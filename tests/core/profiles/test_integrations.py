"""The shipped integration files: wallctl-notify and wallctl-traphandle POST what the profiles read (run for real
against a loopback HTTP server), the Zabbix media type's script (run under node when it is installed) sends the
stored fixtures, and the media type export has the shape Zabbix 6.0 imports."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.core.profiles.helpers import FIXTURES, fixture, one, run

ROOT = Path(__file__).resolve().parents[3]
NOTIFY = ROOT / "integrations" / "icinga" / "wallctl-notify"
TRAPHANDLE = ROOT / "integrations" / "snmp" / "wallctl-traphandle"
MEDIATYPE = ROOT / "integrations" / "zabbix" / "wallctl_mediatype.yaml"


@dataclass
class Gateway:
    """A loopback HTTP server that records requests and answers with the queued status codes (then 200)."""

    url: str = ""
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    gw = Gateway()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            gw.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status = gw.statuses.pop(0) if gw.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"accepted": 1}' if status == 200 else b'{"error": "nope"}')

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gw.url = f"http://127.0.0.1:{server.server_port}"
    yield gw
    server.shutdown()
    server.server_close()
    thread.join(5)


def script(
    path: Path, *args: str, env: dict[str, str] | None = None, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NAGIOS_", "ICINGA_", "WALLCTL_"))}
    return subprocess.run(
        [sys.executable, str(path), *args], input=stdin, env={**clean, **(env or {})}, capture_output=True, timeout=60
    )


def test_notify_sends_the_fixture_json_from_options(gateway: Gateway) -> None:
    args = ["--type", "PROBLEM", "--host", "webserver01", "--service", "HTTP", "--state", "CRITICAL", "--address"]
    args += ["192.0.2.80", "--output", "CRITICAL - Socket timeout after 10 seconds", "--timestamp", "1714989600"]
    done = script(NOTIFY, "--url", f"{gateway.url}/icinga", *args)
    assert done.returncode == 0, done.stderr
    [(path, headers, body)] = gateway.requests
    assert (path, headers["content-type"], "authorization" in headers) == ("/icinga", "application/json", False)
    assert json.loads(body) == json.loads(fixture("nagios/service_problem.json"))
    assert one("icinga", body)["severity"] == "critical"


def test_notify_reads_nagios_environment_macros_and_a_token(gateway: Gateway, tmp_path: Path) -> None:
    env = {
        "NAGIOS_NOTIFICATIONTYPE": "PROBLEM",
        "NAGIOS_HOSTNAME": "router-02",
        "NAGIOS_HOSTSTATE": "DOWN",
        "NAGIOS_HOSTOUTPUT": "CRITICAL - Host Unreachable (192.0.2.1)",
        "NAGIOS_TIMET": "1714989700",
        "NAGIOS_HOSTADDRESS": "192.0.2.1",
        "NAGIOS_SERVICEDESC": "",
        "NAGIOS_SERVICESTATE": "",
        "WALLCTL_TOKEN": "s3cret",
    }
    assert script(NOTIFY, "--url", f"{gateway.url}/icinga", env=env).returncode == 0
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    assert script(NOTIFY, "--url", gateway.url, "--token-file", str(token_file), env=env).returncode == 0
    (_, first, body), (_, second, _) = gateway.requests
    assert json.loads(body) == json.loads(fixture("nagios/host_down_env.json"))
    assert (first["authorization"], second["authorization"]) == ("Bearer s3cret", "Bearer from-file")
    assert one("icinga", body)["type"] == "host_down"


def test_notify_says_why_it_failed(gateway: Gateway) -> None:
    gateway.statuses.append(400)
    refused = script(NOTIFY, "--url", gateway.url, "--type", "PROBLEM", "--host", "h", "--state", "OK")
    assert refused.returncode == 1 and b"HTTP 400" in refused.stderr and b"nope" in refused.stderr
    unreachable = script(NOTIFY, "--url", "http://127.0.0.1:9/", "--type", "PROBLEM", "--host", "h", "--timeout", "5")
    assert unreachable.returncode == 1 and b"cannot reach" in unreachable.stderr
    usage = script(NOTIFY, "--url", gateway.url, "--host", "h")
    assert usage.returncode == 2 and b"--type" in usage.stderr


def test_traphandle_posts_the_trap_as_is(gateway: Gateway) -> None:
    trap = fixture("snmptrap/vyos_linkdown.txt")
    done = script(TRAPHANDLE, f"{gateway.url}/snmptrap", env={"WALLCTL_TOKEN": "t0k"}, stdin=trap)
    assert done.returncode == 0, done.stderr
    [(path, headers, body)] = gateway.requests
    assert (path, body, headers["authorization"]) == ("/snmptrap", trap, "Bearer t0k")
    assert headers["content-type"].startswith("text/plain")
    assert run("snmptrap", body)[0]["type"] == "link_down:VMware VMXNET3 Ethernet Controller"


def test_traphandle_retries_once_when_the_gateway_is_busy(gateway: Gateway) -> None:
    gateway.statuses.extend([503])
    assert script(TRAPHANDLE, gateway.url, stdin=fixture("snmptrap/librenms_coldstart.txt")).returncode == 0
    assert len(gateway.requests) == 2
    gateway.statuses.extend([503, 503])
    failed = script(TRAPHANDLE, gateway.url, stdin=fixture("snmptrap/librenms_coldstart.txt"))
    assert failed.returncode == 1 and b"HTTP 503" in failed.stderr
    assert script(TRAPHANDLE, gateway.url, stdin=b"").returncode == 2


def test_snmptrapd_conf_runs_the_handler() -> None:
    lines = [ln.strip() for ln in (ROOT / "integrations" / "snmp" / "snmptrapd.conf").read_text().splitlines()]
    active = [ln for ln in lines if ln and not ln.startswith("#")]
    assert "authCommunity log,execute,net public" in active
    assert "traphandle default /usr/local/bin/wallctl-traphandle http://127.0.0.1:9464/snmptrap" in active
    assert any(ln.startswith("#   disableAuthorization yes") for ln in lines)


def media_type() -> dict[str, Any]:
    doc = yaml.safe_load(MEDIATYPE.read_text())
    assert doc["zabbix_export"]["version"] == "6.0"
    [media] = doc["zabbix_export"]["media_types"]
    return dict(media)


def test_media_type_export_shape() -> None:
    media = media_type()
    assert (media["name"], media["type"]) == ("wallctl", "WEBHOOK")
    names = [p["name"] for p in media["parameters"]]
    assert len(names) == len(set(names)) and names == sorted(names, key=str.lower)  # as Zabbix exports them
    values = {p["name"]: p["value"] for p in media["parameters"]}
    expected = {
        "URL": "{ALERT.SENDTO}",
        "event_id": "{EVENT.ID}",
        "event_value": "{EVENT.VALUE}",
        "event_update_status": "{EVENT.UPDATE.STATUS}",
        "severity": "{EVENT.NSEVERITY}",
        "host": "{HOST.NAME}",
        "trigger": "{TRIGGER.NAME}",
        "tags": "{EVENT.TAGSJSON}",
    }
    assert {k: values[k] for k in expected} == expected
    modes = {(t["event_source"], t["operation_mode"]) for t in media["message_templates"]}
    assert modes == {("TRIGGERS", "PROBLEM"), ("TRIGGERS", "RECOVERY"), ("TRIGGERS", "UPDATE")}


HARNESS = """
var posted = [];
function HttpRequest() { this.headers = []; this.status = 0; }
HttpRequest.prototype.addHeader = function (h) { this.headers.push(h); };
HttpRequest.prototype.setProxy = function (p) { this.proxy = p; };
HttpRequest.prototype.post = function (url, body) {
    posted.push({url: url, body: body, headers: this.headers}); this.status = STATUS; return '{"accepted": 1}';
};
HttpRequest.prototype.getStatus = function () { return this.status; };
var Zabbix = { log: function () {} };
var value = VALUE;
var result = null, error = null;
try { result = (function () { SCRIPT })(); } catch (e) { error = String(e); }
process.stdout.write(JSON.stringify({result: result, error: error, posted: posted}));
"""


def run_media_script(params: dict[str, Any], status: int = 200) -> dict[str, Any]:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed: the media type's JavaScript cannot be run here")
    js = HARNESS.replace("STATUS", str(status)).replace("VALUE", json.dumps(json.dumps(params)))
    js = js.replace("SCRIPT", media_type()["script"])
    done = subprocess.run([node, "-e", js], capture_output=True, text=True, timeout=60, check=True)
    return dict(json.loads(done.stdout))


@pytest.mark.parametrize("kind", ["problem", "recovery", "update"])
def test_media_type_script_posts_the_fixtures(kind: str) -> None:
    params = json.loads((FIXTURES / "zabbix" / f"params_{kind}.json").read_text())
    out = run_media_script(params)
    assert (out["result"], out["error"]) == ("OK", None)
    [post] = out["posted"]
    assert (post["url"], post["headers"]) == ("http://127.0.0.1:9464/zabbix", ["Content-Type: application/json"])
    assert json.loads(post["body"]) == json.loads(fixture(f"zabbix/{kind}.json"))


def test_media_type_script_token_and_failures() -> None:
    params = json.loads((FIXTURES / "zabbix" / "params_problem.json").read_text())
    out = run_media_script({**params, "token": "s3cret"})
    assert "Authorization: Bearer s3cret" in out["posted"][0]["headers"]
    assert "s3cret" not in out["posted"][0]["body"]
    assert "HTTP 503" in run_media_script(params, status=503)["error"]
    assert "only trigger events" in run_media_script({**params, "event_source": "3"})["error"]
    assert "Send to" in run_media_script({**params, "URL": "{ALERT.SENDTO}"})["error"]
