"""``incidents:`` and ``escalation:``: the contract's example loads as is; mistakes are reported at file:line:col,
by the loader, by ``wallctl validate`` and by the controller before it starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.wall import write_config
from wallctl.adapters.incidents import check_outreach_credentials
from wallctl.core.config.settings import load_config
from wallctl.core.files.yamldoc import ConfigError
from wallctl.core.severity import Severity
from wallctl.validate import validate_paths

CONTRACT = """
incidents:
  connector: webhook            # or request_tracker (url, queue, token_env)
  url: http://itsm.example/hooks/wallctl
  match: {severity: [critical, major]}
  open_after_s: 0               # open when a matching alarm stays unacknowledged this long
escalation:
  smtp: {host: mail.example, port: 587, starttls: true, from: wall@example, username: wall, password_env: SMTP_PASSWORD}
  sms: {url: "https://sms.example/send", body: '{"to": "{number}", "text": "{text}"}'}
  rules:
    - {match: {severity: [critical]}, after_s: 300, email: [duty@example], sms: ["+8613800000000"], repeat_s: 900}
"""


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_the_contracts_example_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", "x")
    cfg = load_config(write_config(tmp_path, extra=CONTRACT))
    check_outreach_credentials(cfg)
    inc, esc = cfg.model.incidents, cfg.model.escalation
    assert inc is not None and inc.connector == "webhook" and inc.match.severity == (Severity.CRITICAL, Severity.MAJOR)
    assert esc is not None and esc.smtp is not None and esc.smtp.sender == "wall@example" and esc.smtp.starttls
    assert esc.sms is not None and esc.sms.template.render({"number": "+1", "text": 'say "hi"'}) == (
        '{"to": "+1", "text": "say \\"hi\\""}'
    )
    assert esc.rules[0].after_s == 300 and esc.rules[0].repeat_s == 900


@pytest.mark.parametrize(
    ("replace", "by", "needle", "message"),
    [
        ("connector: webhook ", "connector: jira ", "connector: jira", "'jira' is not one of webhook, request_tracker"),
        ('"{number}"', '"{nmber}"', "sms:", "unknown placeholder {nmber}; expected {number}, {text}"),
        ("connector: webhook ", "connector: request_tracker ", "request_tracker", "needs queue and token_env"),
        ("sms: {url", "sms_gateway: {url", "sms_gateway", "unknown key 'sms_gateway'"),
        ("  rules:", "  timezone: Mars/Olympus\n  rules:", "smtp:", "not a known IANA time zone"),
    ],
)
def test_mistakes_are_located(tmp_path: Path, replace: str, by: str, needle: str, message: str) -> None:
    assert replace in CONTRACT
    path = write_config(tmp_path, extra=CONTRACT.replace(replace, by, 1))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    found = [p for p in info.value.problems if message in p.message]
    assert found, str(info.value)
    assert found[0].line == line_of(path, needle) and found[0].col > 1
    assert str(found[0]).startswith(f"{path}:{found[0].line}:{found[0].col}: ")


def test_a_missing_credential_variable_is_refused_before_the_controller_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)
    path = write_config(tmp_path, extra=CONTRACT)
    cfg = load_config(path)  # a display PC reads the file without the password: fine
    with pytest.raises(ConfigError) as info:
        check_outreach_credentials(cfg)
    (problem,) = info.value.problems
    assert (problem.line, problem.col) == (line_of(path, "password_env"), 107)
    assert "SMTP_PASSWORD" in problem.message and "not set" in problem.message
    problems, _ = validate_paths([path])
    assert any("SMTP_PASSWORD" in p.message and p.line == problem.line for p in problems)
