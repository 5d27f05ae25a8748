"""The problems a loader reports, as the lines ``wallctl validate`` would print."""

from __future__ import annotations

import pytest

from wallctl.core.files.yamldoc import ConfigError


def problems(fn: object, *args: object, **kw: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        fn(*args, **kw)  # type: ignore[operator]
    return [str(p) for p in info.value.problems]
