"""Where a YAML syntax error is: the start of the broken construct when that is where the mistake is.

PyYAML reports where parsing gave up; for an unterminated quote that is the end of the file, dozens of lines below
the opening quote the user has to find. Its ``context_mark`` holds where the construct started.
"""

from __future__ import annotations

import yaml

# constructs a user opens with a character (a quote, a bracket, a key): their start is where to look
_OPENED = {
    "while scanning a quoted scalar": "quoted string",
    "while scanning a double-quoted scalar": "quoted string",
    "while parsing a flow sequence": "'[' list",
    "while parsing a flow mapping": "'{' mapping",
    "while scanning a simple key": "key",
    "while scanning a block scalar": "block text (| or >)",
    "while scanning an anchor": "anchor",
    "while scanning an alias": "alias",
    "while scanning a tag": "tag",
    "while parsing a tag": "tag",
    "while scanning a directive": "directive",
}
# block structures start far above the mistake (often at line 1): the problem's own place is where to look
_ENCLOSING = {
    "while parsing a block mapping": "mapping",
    "while parsing a block collection": "list",
    "while parsing a node": "value",
}


def syntax_error_at(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, int, str]:
    """``(line, col, message)`` (1-based) for a PyYAML syntax error in ``text``: an unterminated quote is placed at
    its opening quote, not at the end of the file, with where parsing gave up in the message."""
    start, stop = exc.context_mark, exc.problem_mark
    context = exc.context or ""
    problem = exc.problem or context or "invalid YAML"
    at_end = stop is not None and _only_blanks_after(text, stop.line, stop.column)
    if at_end:
        problem = "found end of file"
    elif stop is not None and problem.startswith("found character") and _char_at(text, stop.line, stop.column) == "\t":
        problem = "found a tab: YAML indents with spaces only"
    if (
        start is not None
        and stop is not None
        and (start.line, start.column) != (stop.line, stop.column)
        and (context in _OPENED)
    ):
        what = f"unterminated {_OPENED[context]}" if at_end else f"YAML syntax error in this {_OPENED[context]}"
        where = f"{stop.line + 1}:{stop.column + 1}"
        return start.line + 1, start.column + 1, f"{what} (started here; {problem} at {where})"
    mark = stop or start
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    inside = ""
    if start is not None and stop is not None and context in _ENCLOSING:
        inside = f" (in the {_ENCLOSING[context]} from {start.line + 1}:{start.column + 1}; check the indentation)"
    return line, col, f"YAML syntax error: {problem}{inside}"


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    return lines[line][column : column + 1] if line < len(lines) else ""


def _only_blanks_after(text: str, line: int, column: int) -> bool:
    lines = text.split("\n")
    if line >= len(lines):
        return True
    return not (lines[line][column:].strip() or any(rest.strip() for rest in lines[line + 1 :]))
