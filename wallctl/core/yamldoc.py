"""YAML that remembers where every value came from, so each error can say ``file:line:col``.

PyYAML's composer gives nodes with marks; we turn them into plain Python values plus a map from the value's
path (a tuple of keys and indexes) to its location. Duplicate keys, which PyYAML silently accepts, are problems.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PathKey = tuple[str | int, ...]


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    file: str
    line: int  # 1-based
    col: int  # 1-based
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class ConfigError(Exception):
    """One or more problems in a configuration, layout, rule, topology or sound-map file."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(slots=True)
class Doc:
    file: str
    data: Any
    locs: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_locs: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def loc(self, path: PathKey, *, key: bool = False) -> tuple[int, int]:
        """Location of the value at ``path`` (or of its key), falling back to the nearest parent."""
        table = self.key_locs if key else self.locs
        p = path
        while p:
            if p in table:
                return table[p]
            if not key and p in self.locs:
                return self.locs[p]
            p = p[:-1]
        return self.locs.get((), (1, 1))

    def problem(self, path: PathKey, message: str, *, key: bool = False) -> Problem:
        line, col = self.loc(path, key=key)
        return Problem(self.file, line, col, message)


class _Constructor(yaml.constructor.SafeConstructor):
    pass


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it: 2-3x faster, same marks
_PLAIN: dict[str, Callable[[str], Any]] = {
    "tag:yaml.org,2002:str": str,
    "tag:yaml.org,2002:int": lambda v: (
        int(v.replace("_", ""), 0) if v[:2] in ("0x", "0o", "0b") else int(v.replace("_", ""))
    ),
    "tag:yaml.org,2002:float": lambda v: float(v.replace("_", "")),
    "tag:yaml.org,2002:bool": lambda v: v.lower() in ("true", "yes", "on"),
    "tag:yaml.org,2002:null": lambda v: None,
}


def parse_yaml(text: str, file: str) -> Doc:
    """Parse one YAML document; raises :class:`ConfigError` for syntax errors and duplicate keys."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError([Problem(file, line, col, f"YAML syntax error: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(file, 1, 1, f"YAML error: {exc}")]) from None
    doc = Doc(file, None)
    if node is None:
        return doc
    problems: list[Problem] = []
    constructor = _Constructor()
    doc.data = _convert(node, (), doc, problems, constructor)
    if problems:
        raise ConfigError(problems)
    return doc


def load_yaml(path: str | Path) -> Doc:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(str(p), 1, 1, "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(str(p), 1, 1, f"file is not UTF-8 (byte {exc.start})")]) from None
    except OSError as exc:
        raise ConfigError([Problem(str(p), 1, 1, f"cannot read file: {exc.strerror}")]) from None
    return parse_yaml(text, str(p))


def _convert(node: yaml.Node, path: PathKey, doc: Doc, problems: list[Problem], c: _Constructor) -> Any:
    doc.locs[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = c.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                problems.append(
                    Problem(
                        doc.file,
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        f"mapping key must be a plain value, got {type(key).__name__}",
                    )
                )
                continue
            key = str(key) if not isinstance(key, str) else key
            if key in out:
                first = doc.key_locs.get((*path, key), (0, 0))
                problems.append(
                    Problem(
                        doc.file,
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        f"duplicate key {key!r} (first defined at line {first[0]})",
                    )
                )
                continue
            doc.key_locs[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _convert(value_node, (*path, key), doc, problems, c)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), doc, problems, c) for i, item in enumerate(node.value)]
    fast = _PLAIN.get(node.tag)
    if fast is not None and isinstance(node.value, str):
        try:
            return fast(node.value)
        except ValueError:
            pass  # unusual spellings (.inf, sexagesimal, ...): the full constructor knows them
    try:
        return c.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        problems.append(Problem(doc.file, node.start_mark.line + 1, node.start_mark.column + 1, str(exc.problem)))
        return None
