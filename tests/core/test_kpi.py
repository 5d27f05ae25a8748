"""KPI values from MQTT: extraction, history, thresholds that raise and clear alarms through the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.wall import write_config
from wallctl.controller.build import build_core
from wallctl.core.clock import ManualClock
from wallctl.core.config.settings import load_config
from wallctl.core.kpi import KpiError, KpiSeries, KpiSpec, extract_value
from wallctl.core.severity import Severity

S = Severity


def test_extract_value() -> None:
    assert extract_value(b" 27.5 ", None) == 27.5
    assert extract_value(b'{"value": 12, "unit": "tps"}', "value") == 12.0
    assert extract_value(b'{"dc": {"temp": 31}}', "dc.temp") == 31.0
    for payload, field, why in [
        (b"hot", None, "not a number"),
        (b'{"v": 1}', "value", "missing"),
        (b'{"value": "12"}', "value", "not a number"),
        (b"{", "value", "not JSON"),
    ]:
        with pytest.raises(KpiError, match=why):
            extract_value(payload, field)


def test_levels_change_only_when_a_threshold_is_crossed() -> None:
    k = KpiSeries(KpiSpec("t", "x", warning_above=27, critical_above=30, history_s=60))
    assert k.add(0, 25) is None
    assert k.add(1, 28) is S.WARNING
    assert k.add(2, 29) is None
    assert k.add(3, 31) is S.CRITICAL
    assert k.add(4, 20) is S.CLEARED
    k.add(100, 21)
    assert [t for t, _ in k.points] == [100]  # older than history_s: forgotten


def test_threshold_alarms_go_through_the_engine(tmp_path: Path) -> None:
    extra = (
        "  - {name: tps, topic: noc/kpi/tps, field: value, warning_below: 200, critical_below: 50,"
        " source: payments, category: application}\n"
    )
    core = build_core(load_config(write_config(tmp_path, kpis=extra)), clock=ManualClock())
    s = core.service
    assert s.kpi_message("noc/kpi/tps", b'{"value": 400}') and s.engine.get(("payments", "kpi_threshold")) is None
    s.kpi_message("noc/kpi/tps", b'{"value": 30}')
    alarm = s.engine.get(("payments", "kpi_threshold"))
    assert alarm is not None and alarm.severity is S.CRITICAL and alarm.category == "application"
    assert "tps = 30" in alarm.text and "critical below 50" in alarm.text
    s.kpi_message("noc/kpi/tps", b'{"value": 500}')
    assert alarm.state.value == "RTNUN"
    s.kpi_message("noc/kpi/tps", b'{"oops": 1}')
    assert s.diagnostics.rejected_by_reason["bad_kpi"] == 1
    assert not s.kpi_message("noc/events/x", b"1")  # not a KPI topic: handled as an event
