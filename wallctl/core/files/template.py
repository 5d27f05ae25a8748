"""Templates with ``{name}`` placeholders, for gateways and devices that expect their own request format (an SMS
gateway's body, a signal tower's URL, a relay's command topic).

``str.format`` cannot be used: an SMS gateway's JSON body is full of braces (``{"to": "{number}"}``). Only
``{word}`` is a placeholder, each must be a known one (a typo is a configuration error, not a literal brace in a
text message), and a body that is JSON gets its values JSON-escaped, so a quote in an alarm text cannot break it.
"""

from __future__ import annotations

import json
import re

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Template:
    def __init__(self, text: str, fields: tuple[str, ...]) -> None:
        unknown = sorted({m.group(1) for m in _PLACEHOLDER.finditer(text)} - set(fields))
        if unknown:
            raise ValueError(
                f"template {text!r}: unknown placeholder {{{unknown[0]}}}; expected "
                + ", ".join(f"{{{f}}}" for f in fields)
            )
        self.text = text
        self.is_json = _is_json(_PLACEHOLDER.sub("x", text))

    @property
    def content_type(self) -> str:
        return "application/json" if self.is_json else "text/plain; charset=utf-8"

    def render(self, values: dict[str, str]) -> str:
        def one(m: re.Match[str]) -> str:
            value = values.get(m.group(1), "")
            return json.dumps(value, ensure_ascii=False)[1:-1] if self.is_json else value

        return _PLACEHOLDER.sub(one, self.text)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
