"""``wallctl validate`` and ``wallctl preview`` as a designer runs them, in real processes on a copy of the shipped
files: every independent problem at once and none that follows from another, paths as typed, blind or deaf
configuration refused or warned, alias bombs refused without memory blow-up, a bad ``--mode`` a usage error."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.core.test_config_limits import billion_laughs

ROOT = Path(__file__).resolve().parent.parent


def wallctl(*args: str, cwd: Path, limit_memory: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if limit_memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit_memory, limit_memory))

    return subprocess.run(
        [sys.executable, "-m", "wallctl", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=False,
        preexec_fn=limit,
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the shipped configuration and everything it names, to break on purpose."""
    for d in ("config", "layouts", "topology", "sounds"):
        shutil.copytree(ROOT / d, tmp_path / d)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def lines(res: subprocess.CompletedProcess[str]) -> list[str]:
    return res.stdout.splitlines()


def line_of(path: Path, text: str) -> int:
    """1-based line of the first line holding ``text`` (the shipped files may grow above it)."""
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if line.strip().startswith(text))


def test_the_shipped_files_are_valid_with_no_warning(site: Path) -> None:
    res = wallctl("validate", "config/wallctl.yaml", cwd=site)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout == "" and "warning" not in res.stderr


def test_unterminated_quote_is_reported_where_it_starts_with_the_path_as_typed(site: Path) -> None:
    rules = site / "layouts" / "rules.yaml"
    text = rules.read_text().splitlines()[1:]  # line 5 is now the first rule's name
    text[4] = text[4].replace("name: broker-link-lost", 'name: "broker-link-lost')
    rules.write_text("\n".join(text) + "\n")
    res = wallctl("validate", "config/wallctl.yaml", cwd=site)
    assert res.returncode == 1
    assert lines(res) == [
        f"layouts/rules.yaml:5:11: unterminated quoted string (started here; found end of file at {len(text) + 1}:1)"
    ]


def test_alias_bomb_is_refused_quickly_within_bounded_memory(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(billion_laughs())
    t0 = time.perf_counter()
    res = wallctl("validate", "bomb.yaml", cwd=tmp_path, limit_memory=768 << 20)  # it once needed over 3 GB
    assert time.perf_counter() - t0 < 20  # the process start included; the refusal itself is immediate
    assert res.returncode == 1, res.stderr
    assert lines(res)[0].startswith("bomb.yaml:7:8: alias *e repeats 66,430 values and takes the document past")


def test_a_kpi_tile_naming_an_unknown_series_fails(site: Path) -> None:
    mode = site / "layouts" / "modes" / "03-environment.yaml"
    edit(mode, "series: [cold_aisle_temp, payments_tps]", "series: [cold_aisle_tmp, payments_tps]")
    res = wallctl("validate", "config/wallctl.yaml", cwd=site)
    assert res.returncode == 1
    col = mode.read_text().splitlines()[9].index("cold_aisle_tmp") + 1
    assert lines(res) == [
        f"layouts/modes/03-environment.yaml:10:{col}: series: 'cold_aisle_tmp' is not one of the configuration's "
        "kpis (cold_aisle_temp, payments_tps) (did you mean 'cold_aisle_temp'?)"
    ]


def test_no_knock_on_errors_after_a_syntax_error_but_independent_ones_still_reported(site: Path) -> None:
    edit(site / "layouts" / "modes" / "02-incident.yaml", "name: incident", "name: [incident")
    edit(site / "layouts" / "rules.yaml", "mode: environment", "mode: enviroment")
    res = wallctl("validate", "config/wallctl.yaml", cwd=site)
    assert res.returncode == 1
    got = lines(res)
    assert len(got) == 2, got  # not the three rules that name 'incident', defined in the broken file
    assert got[0].startswith("layouts/modes/02-incident.yaml:2:7: YAML syntax error in this '[' list (started here;")
    n = line_of(site / "layouts" / "rules.yaml", "mode: enviroment")
    assert got[1].startswith(f"layouts/rules.yaml:{n}:11: rule 'environment-major' names unknown mode 'enviroment'")


def test_a_mode_that_fails_to_build_is_not_reported_again_as_unknown(site: Path) -> None:
    edit(site / "layouts" / "modes" / "02-incident.yaml", "focus: map", "focus: [map]")
    res = wallctl("validate", "layouts", cwd=site)
    assert res.returncode == 1
    assert lines(res) == ["layouts/modes/02-incident.yaml:5:8: focus: expected a string, got a list"]


def test_a_broken_config_section_does_not_hide_the_other_files(site: Path) -> None:
    edit(site / "config" / "wallctl.yaml", "port: 1883", "port: nope")
    edit(site / "layouts" / "modes" / "01-normal.yaml", "tile: {type: clock", "tile: {type: clok")
    res = wallctl("validate", "config/wallctl.yaml", cwd=site)
    assert res.returncode == 1
    got = lines(res)
    n = line_of(site / "config" / "wallctl.yaml", "port: nope")
    assert got[0] == f"config/wallctl.yaml:{n}:9: mqtt.port: expected an integer, got 'nope'"
    assert len(got) == 2 and got[1].startswith("layouts/modes/01-normal.yaml:") and "'clok'" in got[1]


def test_a_broken_layouts_setting_does_not_check_a_directory_it_does_not_mean(site: Path) -> None:
    edit(site / "config" / "wallctl.yaml", "layouts: ../layouts", "layouts: [../layouts]")
    (site / "layouts" / "rules.yaml").write_text("")  # the default ../layouts would report this
    res = wallctl("validate", "config/wallctl.yaml", cwd=site)
    n = line_of(site / "config" / "wallctl.yaml", "layouts: [../layouts]")
    assert lines(res) == [f"config/wallctl.yaml:{n}:10: layouts: expected a string, got a list"]


def test_paths_are_printed_as_given(site: Path) -> None:
    (site / "layouts" / "rules.yaml").write_text("")
    for given in ("layouts", str(site / "layouts"), "./layouts/rules.yaml"):
        res = wallctl("validate", given, cwd=site)
        shown = "layouts" if given.startswith("./") else given
        assert lines(res) == [
            f"{shown}/rules.yaml:1:1: rules.yaml is empty: without rules the wall never leaves its default mode: no "
            "incident mode on a critical alarm, nothing on a lost broker link"
        ], given


def test_empty_or_ruleless_rules_are_errors(site: Path) -> None:
    rules = site / "layouts" / "rules.yaml"
    rules.write_text("pin_break_severity: critical\nrules: []\n")
    res = wallctl("validate", "layouts", cwd=site)
    assert res.returncode == 1
    assert lines(res)[0].startswith("layouts/rules.yaml:2:8: no rules: without rules the wall never leaves")
    rules.unlink()
    res = wallctl("validate", "layouts", cwd=site)
    assert res.returncode == 1
    assert lines(res)[0].startswith("layouts/rules.yaml:1:1: file not found: without rules the wall never leaves")


def test_blind_or_deaf_configuration_is_warned_about_without_failing(site: Path) -> None:
    edit(site / "layouts" / "rules.yaml", "when: {link_down: true, count_at_least: 0}", "when: {count_at_least: 0}")
    edit(site / "sounds" / "soundmap.yaml", "  critical: {sound: network_high, repeat_s: 15}\n", "")
    res = wallctl("validate", "config/wallctl.yaml", cwd=site)
    assert res.returncode == 0, res.stdout + res.stderr
    rules, defaults = (
        line_of(site / "layouts" / "rules.yaml", "rules:"),
        line_of(site / "sounds" / "soundmap.yaml", "defaults:"),
    )
    assert lines(res) == [
        f"layouts/rules.yaml:{rules}:1: warning: no rule for a lost broker link (when: {{link_down: true, "
        "count_at_least: 0}): while no events arrive the wall would look calm instead of saying it is blind",
        f"sounds/soundmap.yaml:{defaults}:1: warning: critical alarms that no 'map' entry matches make no sound: 'defaults' "
        "has no 'critical' entry; give critical a high-priority sound, e.g. 'critical: {sound: NAME, repeat_s: 15}' "
        "under 'defaults'",
    ]
    assert "ok: " in res.stderr and "2 warning(s)" in res.stderr


def test_warnings_ride_along_with_errors(site: Path) -> None:
    edit(site / "sounds" / "soundmap.yaml", "  critical: {sound: network_high, repeat_s: 15}\n", "")
    edit(site / "sounds" / "soundmap.yaml", "sound: feed_lost", "sound: feed_lots")
    res = wallctl("validate", "sounds/soundmap.yaml", cwd=site)
    assert res.returncode == 1
    got = lines(res)
    assert len(got) == 2 and "unknown sound 'feed_lots'" in got[0] and ": warning: critical alarms" in got[1]
    assert "1 error(s), 1 warning(s)" in res.stderr


def test_a_missing_path_does_not_stop_the_others_being_checked(site: Path) -> None:
    (site / "layouts" / "rules.yaml").write_text("")
    res = wallctl("validate", "nosuch.yaml", "layouts", cwd=site)
    assert res.returncode == 1
    got = lines(res)
    assert got[0].startswith("layouts/rules.yaml:1:1: rules.yaml is empty")
    assert got[1] == "nosuch.yaml:1:1: no such file or directory"


def test_preview_refuses_an_unknown_mode_as_a_usage_error(site: Path) -> None:
    res = wallctl("preview", "--config", "config/wallctl.yaml", "--mode", "nosuch", cwd=site)
    assert res.returncode == 2
    assert res.stderr.strip().endswith(
        "unknown mode 'nosuch'; known modes: normal, incident, environment, flood, briefing, deaf"
    )


def test_preview_png_says_it_draws_sample_alarms(site: Path) -> None:
    out = site / "png"
    res = wallctl("preview", "--config", "config/wallctl.yaml", "--png", str(out), "--mode", "normal", cwd=site)
    assert res.returncode == 0, res.stderr
    assert "preview: showing 7 made-up sample alarms (not real ones)" in res.stderr
    assert (out / "normal.png").stat().st_size > 0
