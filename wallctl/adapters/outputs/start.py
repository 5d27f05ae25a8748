"""Plugs the outputs into a controller: a driver and a runner per configured output, the light policy over the
controller's sound map, the controller's :class:`~wallctl.controller.outputs.Outputs` between them. Called by the
composition roots; nothing when no output is configured."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from wallctl.adapters.outputs.device import DeviceRunner, Driver, Report
from wallctl.adapters.outputs.http import HttpDriver
from wallctl.adapters.outputs.modbus_tcp import ModbusTcpDriver
from wallctl.adapters.outputs.mqtt import MqttDriver
from wallctl.controller.link import LoopHooks
from wallctl.controller.outputs import Outputs, priority_of
from wallctl.controller.service import WallService
from wallctl.core.config.settings import LoadedConfig
from wallctl.core.files.yamldoc import ConfigError, Problem, load_yaml
from wallctl.core.lights.config import OutputSpec, check_output_credentials, check_outputs
from wallctl.core.lights.policy import LightBoard

log = logging.getLogger("wallctl.outputs")


def check_outputs_credentials(cfg: LoadedConfig) -> None:
    """Raise :class:`ConfigError` (file:line:col) when a credential variable an output names is not set."""
    if not cfg.model.outputs:
        return
    problems = check_output_credentials(load_yaml(cfg.path))
    if problems:
        raise ConfigError(problems)


def make_driver(spec: OutputSpec, cfg: LoadedConfig) -> Driver:
    """The output's driver, its credentials read from the environment (an MQTT relay on the wall's own broker logs
    in as the wall does)."""
    password = _env(spec.password_env)
    if spec.driver == "modbus_tcp":
        return ModbusTcpDriver(spec)
    if spec.driver == "mqtt":
        return MqttDriver(spec, cfg.model.mqtt, password if spec.host is not None else cfg.password())
    return HttpDriver(spec, password=password, token=_env(spec.token_env))


def start_outputs(
    cfg: LoadedConfig,
    service: WallService,
    loop: LoopHooks,
    *,
    active: Callable[[], bool] = lambda: True,
    controller_ok: Callable[[], bool] = lambda: True,
) -> Outputs | None:
    """``active``/``controller_ok``: see :class:`~wallctl.controller.outputs.Outputs` (hot standby)."""
    m = cfg.model
    if not m.outputs:
        return None
    warnings: list[Problem] = []
    check_outputs(load_yaml(cfg.path), warnings)
    for w in warnings:
        log.warning("%s", w)
    board = LightBoard(m.lights, priority_of(service.annunciator.soundmap))
    runners = [DeviceRunner(make_driver(spec, cfg), _on_loop(loop, spec.name, lambda: outputs)) for spec in m.outputs]
    outputs = Outputs(service, board, runners, loop, active=active, controller_ok=controller_ok)
    for runner in runners:
        runner.start()
    outputs.start()
    log.info("outputs: %s", ", ".join(f"{r.name} ({r.driver.describe()})" for r in runners))
    return outputs


def _on_loop(loop: LoopHooks, name: str, outputs: Callable[[], Outputs]) -> Report:
    """A runner's report, handed from its thread to the main loop."""

    def report(ok: bool, error: str | None) -> None:
        try:
            loop.call_soon(lambda: outputs().on_status(name, ok, error))
        except RuntimeError:  # the loop is closed: the controller is gone and nobody is left to tell
            log.info("output %s: %s after shutdown", name, "ok" if ok else error)

    return report


def _env(name: str | None) -> str | None:
    return os.environ.get(name) if name else None
