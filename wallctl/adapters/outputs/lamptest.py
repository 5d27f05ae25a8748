"""``wallctl outputs``: the lamp test (every channel of every output steady, slow, fast, then off, one at a time,
each named as it shows), or with ``--check`` only whether each output answers, switching nothing.

The same drivers and runners as the controller's, so what the test shows is what the wall will do. A controller
that is running re-asserts its own patterns afterwards (``refresh_s``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

from wallctl.adapters.outputs.device import DeviceRunner, OutputError
from wallctl.adapters.outputs.start import check_outputs_credentials, make_driver
from wallctl.core.config.settings import load_config
from wallctl.core.lights.config import Drive, OutputSpec


class LampTest:
    def __init__(self, config: Path, *, check: bool, step_s: float = 1.5, say: Callable[[str], None]) -> None:
        """Raises :class:`~wallctl.core.files.yamldoc.ConfigError` for a bad configuration (before any device)."""
        self.cfg = load_config(config)
        check_outputs_credentials(self.cfg)
        self.check = check
        self.step_s = step_s
        self.say = say
        self._lock = threading.Lock()
        self._failures: dict[str, str] = {}

    def run(self) -> int:
        outputs = self.cfg.model.outputs
        if not outputs:
            self.say(f"no outputs configured in {self.cfg.path}")
            return 0
        return asyncio.run(self._check_all(outputs)) if self.check else self._walk_all(outputs)

    # ---------------------------------------------------------------- --check
    async def _check_all(self, outputs: tuple[OutputSpec, ...]) -> int:
        results = await asyncio.gather(*(self._check_one(spec) for spec in outputs))
        for spec, error in zip(outputs, results, strict=True):
            self.say(f"{spec.name}: {'ok' if error is None else 'FAILED: ' + error}")
        failed = sum(error is not None for error in results)
        self.say(f"{len(outputs) - failed} of {len(outputs)} outputs answer")
        return 1 if failed else 0

    async def _check_one(self, spec: OutputSpec) -> str | None:
        driver = make_driver(spec, self.cfg)
        try:
            await asyncio.wait_for(driver.open(), spec.timeout_s)
            await asyncio.wait_for(driver.probe(), spec.timeout_s)
        except TimeoutError:
            return f"{driver.describe()}: no answer within {spec.timeout_s:g} s"
        except (OutputError, OSError) as exc:
            return str(exc)
        finally:
            try:
                await asyncio.wait_for(driver.close(), spec.timeout_s)
            except (TimeoutError, OutputError, OSError):
                pass
        return None

    # ---------------------------------------------------------------- the walk
    def _walk_all(self, outputs: tuple[OutputSpec, ...]) -> int:
        for spec in outputs:
            self._walk(spec)
        for name, error in sorted(self._failures.items()):
            self.say(f"{name}: FAILED: {error}")
        return 1 if self._failures else 0

    def _walk(self, spec: OutputSpec) -> None:
        runner = DeviceRunner(make_driver(spec, self.cfg), lambda ok, error: self._note(spec.name, ok, error))
        off: dict[str, Drive] = dict.fromkeys(spec.channels, "off")
        runner.start()
        try:
            runner.drive(off)
            steps: tuple[tuple[Drive, float], ...] = (
                ("steady", self.step_s),
                ("slow", max(self.step_s, 1.0 / spec.slow_hz)),  # at least one whole flash
                ("fast", self.step_s),
            )
            for channel in spec.channels:
                for drive, seconds in steps:
                    with self._lock:
                        if spec.name in self._failures:  # it does not answer: naming patterns it cannot show misleads
                            return
                    self.say(f"{spec.name} {channel}: {drive}")
                    runner.drive({**off, channel: drive})
                    time.sleep(seconds)  # a person is watching the lamp: this is how long it shows
                runner.drive(off)
        finally:
            runner.close(off)
            runner.wait_closed(spec.timeout_s + 1.0)

    def _note(self, name: str, ok: bool, error: str | None) -> None:
        """The runner's thread: a failure is said at once and in the summary."""
        if ok:
            return
        with self._lock:
            first = name not in self._failures
            self._failures[name] = error or "failed"
        if first:
            self.say(f"{name}: FAILED: {error}")
