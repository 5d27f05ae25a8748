"""JSON as the wall publishes it: strict (RFC 8259), so no consumer ever meets a bare ``NaN`` or ``Infinity``."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

log = logging.getLogger("wallctl.wire")


def dumps_strict(obj: Any) -> str:
    """Encode with ``allow_nan=False``; a non-finite number that slipped through becomes ``null`` and is logged.

    Commands are validated so that none should reach a payload; this is the last guard, and it never lets a
    publication fail (a wall that stops publishing its state is worse than one ``null``)."""
    try:
        return json.dumps(obj, allow_nan=False)
    except ValueError:
        log.error("a non-finite number reached a published payload; sent as null: %.200r", obj)
        return json.dumps(_finite(obj), allow_nan=False)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj
