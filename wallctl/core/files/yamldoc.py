"""YAML that remembers where every value came from, so each error can say ``file:line:col``.

Every YAML file wallctl reads (``run``, live reload, ``validate``, ``preview``) goes through :func:`load_yaml`:
read within :class:`Limits` (file size here; depth and values after alias expansion in
:mod:`wallctl.core.files.yamlcompose`, which refuses an alias bomb at its alias), composed into PyYAML nodes, then
turned into plain Python values plus a map from each value's path (a tuple of keys and indexes) to its location.
Duplicate keys, which PyYAML silently accepts, are problems. Syntax errors are reported where the broken construct
starts (:mod:`wallctl.core.files.yamlsyntax`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from wallctl.core.files.yamlcompose import LIMITS as LIMITS  # re-exported: the limits are part of this module's API
from wallctl.core.files.yamlcompose import PARSER, Composer, Refused
from wallctl.core.files.yamlcompose import TOPOLOGY_LIMITS as TOPOLOGY_LIMITS
from wallctl.core.files.yamlcompose import Limits as Limits
from wallctl.core.files.yamlsyntax import syntax_error_at

PathKey = tuple[str | int, ...]
log = logging.getLogger("wallctl.config")


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    file: str
    line: int  # 1-based
    col: int  # 1-based
    message: str
    level: Literal["error", "warning"] = "error"  # warnings never make a file invalid on their own

    def __str__(self) -> str:
        tag = "warning: " if self.level == "warning" else ""
        return f"{self.file}:{self.line}:{self.col}: {tag}{self.message}"


class ConfigError(Exception):
    """One or more problems in a configuration, layout, rule, topology or sound-map file."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def settle(problems: list[Problem], warnings: list[Problem] | None) -> None:
    """Raise :class:`ConfigError` if any problem is an error (warnings ride along); otherwise hand the warnings
    to the caller's list, or log them when the caller keeps none (``run`` and live reload)."""
    if any(p.level == "error" for p in problems):
        raise ConfigError(problems)
    if warnings is not None:
        warnings.extend(problems)
    else:
        for p in sorted(problems):
            log.warning("%s", p)


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

    def problem(self, path: PathKey, message: str, *, key: bool = False, level: str = "error") -> Problem:
        line, col = self.loc(path, key=key)
        return Problem(self.file, line, col, message, "warning" if level == "warning" else "error")


def parse_yaml(text: str, file: str, limits: Limits = LIMITS) -> Doc:
    """Parse one YAML document; raises :class:`ConfigError` for syntax errors, duplicate keys and broken limits."""
    parser = PARSER(text)
    try:
        node = Composer(parser, limits).document()
    except Refused as exc:
        raise ConfigError([Problem(file, exc.line, exc.col, str(exc))]) from None
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([Problem(file, *syntax_error_at(exc, text))]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        message = f"character U+{ord(char[:1] or ' '):04X} is not allowed in YAML (control characters must be escaped)"
        raise ConfigError([Problem(file, line, col, message)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(file, 1, 1, f"YAML error: {exc}")]) from None
    finally:
        parser.dispose()
    doc = Doc(file, None)
    if node is None:
        return doc
    problems: list[Problem] = []
    constructor = _Constructor()
    doc.data = _convert(node, (), doc, problems, constructor)
    if problems:
        raise ConfigError(problems)
    return doc


def read_limited(path: Path, limits: Limits) -> bytes:
    """A file's bytes, refused (with its size) when larger than ``limits`` allow; never reads more than that."""
    try:
        with path.open("rb") as f:
            raw = f.read(limits.max_bytes + 1)  # even from a file that grows, or a FIFO
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), 1, 1, "file not found")]) from None
    except IsADirectoryError:
        raise ConfigError([Problem(str(path), 1, 1, "is a directory, not a file")]) from None
    except OSError as exc:
        raise ConfigError([Problem(str(path), 1, 1, f"cannot read file: {exc.strerror}")]) from None
    if len(raw) > limits.max_bytes:
        try:
            size = max(path.stat().st_size, len(raw))
        except OSError:
            size = len(raw)
        message = (
            f"file is {size / (1 << 20):.1f} MiB ({size:,} bytes); {limits.kind} may be at most "
            f"{limits.max_bytes / (1 << 20):g} MiB"
        )
        raise ConfigError([Problem(str(path), 1, 1, message)])
    return raw


def load_yaml(path: str | Path, limits: Limits = LIMITS) -> Doc:
    """Read and parse one file within ``limits``: the one way wallctl reads YAML."""
    p = Path(path)
    raw = read_limited(p, limits)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"file is not UTF-8: byte 0x{raw[exc.start]:02x} cannot start a character"
        raise ConfigError([Problem(str(p), line, col, message)]) from None
    return parse_yaml(text, str(p), limits)


# ---------------------------------------------------------------------------- nodes -> plain values
class _Constructor(yaml.constructor.SafeConstructor):
    pass


_PLAIN: dict[str, Callable[[str], Any]] = {
    "tag:yaml.org,2002:str": str,
    "tag:yaml.org,2002:int": lambda v: (
        int(v.replace("_", ""), 0) if v[:2] in ("0x", "0o", "0b") else int(v.replace("_", ""))
    ),
    "tag:yaml.org,2002:float": lambda v: float(v.replace("_", "")),
    "tag:yaml.org,2002:bool": lambda v: v.lower() in ("true", "yes", "on"),
    "tag:yaml.org,2002:null": lambda v: None,
}


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
