"""Plugs incidents and escalation into a controller: the durable outbox into its journal, the connectors into
:class:`~wallctl.controller.outreach.Outreach`. Called by the composition root; nothing when neither is configured.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from wallctl.adapters.outbound import Outbound, Secrets
from wallctl.controller.journal import Journal
from wallctl.controller.link import LoopHooks
from wallctl.controller.outbox import Outbox
from wallctl.controller.outreach import Outreach
from wallctl.controller.service import WallService
from wallctl.core.config.settings import LoadedConfig
from wallctl.core.files.yamldoc import ConfigError, load_yaml
from wallctl.core.incidents.config import check_credentials


def check_outreach_credentials(cfg: LoadedConfig) -> None:
    """Raise :class:`ConfigError` (file:line:col) when a credential variable the config names is not set."""
    if cfg.model.incidents is None and cfg.model.escalation is None:
        return
    problems = check_credentials(load_yaml(cfg.path))
    if problems:
        raise ConfigError(problems)


def start_outreach(
    cfg: LoadedConfig,
    service: WallService,
    journal: Journal | None,
    loop: LoopHooks,
    active: Callable[[], bool] = lambda: True,
) -> Outreach | None:
    m = cfg.model
    if m.incidents is None and m.escalation is None:
        return None
    outbox = Outbox()
    if journal is not None:
        journal.attach(outbox)
    smtp = m.escalation.smtp if m.escalation is not None else None
    sms = m.escalation.sms if m.escalation is not None else None
    secrets = Secrets(
        rt_token=_env(m.incidents.token_env if m.incidents is not None else None),
        smtp_password=_env(smtp.password_env if smtp is not None else None),
        sms_token=_env(sms.token_env if sms is not None else None),
        smtp_ca_file=str(cfg.resolve(smtp.ca_file)) if smtp is not None and smtp.ca_file else None,
    )
    sender = Outbound(loop.call_soon, incidents=m.incidents, escalation=m.escalation, secrets=secrets)
    outreach = Outreach(service, outbox, sender, loop, incidents=m.incidents, escalation=m.escalation, active=active)
    outreach.start()
    return outreach


def _env(name: str | None) -> str | None:
    return os.environ.get(name) if name else None
