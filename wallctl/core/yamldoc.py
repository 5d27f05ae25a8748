"""YAML that remembers where every value came from, so each error can say ``file:line:col``.

Every YAML file wallctl reads (``run``, live reload, ``validate``, ``preview``) goes through :func:`load_yaml`.
Its own composer turns the parser's events into PyYAML nodes and, as it goes, enforces :class:`Limits`: file
size, nesting depth and the number of values *after alias expansion*, so a 534-byte "billion laughs" alias bomb
is refused at the alias that crosses the limit instead of filling the memory. The nodes then become plain Python
values plus a map from each value's path (a tuple of keys and indexes) to its location. Duplicate keys, which
PyYAML silently accepts, are problems. Syntax errors are reported where the broken construct starts (an
unterminated quote's opening quote), with where the parser gave up beside it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from yaml.events import AliasEvent, MappingEndEvent, ScalarEvent, SequenceEndEvent, SequenceStartEvent, StreamEndEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

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


@dataclass(frozen=True, slots=True)
class Limits:
    """What one file may ask of the loader: enough for any real file, far below what hurts a running wall."""

    max_bytes: int
    max_values: int  # scalars, lists and mappings, every alias counted as what it repeats
    kind: str  # for messages: which files these limits are for
    max_depth: int = 64


LIMITS = Limits(1 << 20, 100_000, "layout, rule, sound map and configuration files")
# a 5,000-node estate is ~0.8 MB and ~135,000 values; these leave room for ~70,000 nodes
TOPOLOGY_LIMITS = Limits(32 << 20, 2_500_000, "topology files")


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


class _Events(Protocol):
    """What the composer needs of a PyYAML parser (libyaml's ``CParser`` or the pure-Python one)."""

    def get_event(self) -> Any: ...
    def peek_event(self) -> Any: ...
    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any: ...
    def dispose(self) -> None: ...


_LOADER: Callable[[str], _Events] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: same events, faster


class _Refused(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.line: int = mark.line + 1 if mark is not None else 1
        self.col: int = mark.column + 1 if mark is not None else 1


class _Composer:
    """PyYAML's composer, counting: every node adds one value, every alias adds the size of what it repeats.

    PyYAML's own composer shares an aliased node (cheap), but everything that walks the tree afterwards pays
    for each repetition; counting here refuses a bomb before anything walks it.
    """

    def __init__(self, parser: _Events, limits: Limits) -> None:
        self.parser = parser
        self.limits = limits
        self.values = 0
        self.anchors: dict[str, yaml.Node] = {}
        self.sizes: dict[str, int] = {}  # anchor -> values it stands for; absent while its node is being composed

    def document(self) -> yaml.Node | None:
        p = self.parser
        p.get_event()  # stream start
        if isinstance(p.peek_event(), StreamEndEvent):
            return None
        p.get_event()  # document start
        node = self.node(1)
        p.get_event()  # document end
        extra = p.get_event()
        if not isinstance(extra, StreamEndEvent):
            raise _Refused(extra.start_mark, "a second YAML document ('---'): a wallctl file holds one")
        return node

    def node(self, depth: int) -> yaml.Node:
        p = self.parser
        event = p.get_event()
        if isinstance(event, AliasEvent):
            return self._alias(event)
        self._count(1, event, None)
        if depth > self.limits.max_depth:
            raise _Refused(event.start_mark, f"nested deeper than {self.limits.max_depth} levels")
        before = self.values
        anchor = event.anchor
        if anchor is not None and anchor in self.anchors:
            first = self.anchors[anchor].start_mark
            raise _Refused(event.start_mark, f"anchor &{anchor} is defined twice (first at line {first.line + 1})")
        tag = event.tag
        start: Any = event.start_mark  # libyaml's or PyYAML's Mark: the same fields
        node: yaml.Node
        if isinstance(event, ScalarEvent):
            if tag is None or tag == "!":
                tag = p.resolve(ScalarNode, event.value, event.implicit)
            end: Any = event.end_mark
            node = ScalarNode(tag, event.value, start, end, style=event.style)
        elif isinstance(event, SequenceStartEvent):
            if tag is None or tag == "!":
                tag = p.resolve(SequenceNode, None, event.implicit)
            node = SequenceNode(tag, [], start, None, flow_style=event.flow_style)
            if anchor is not None:
                self.anchors[anchor] = node
            items: list[Any] = node.value
            while not isinstance(p.peek_event(), SequenceEndEvent):
                items.append(self.node(depth + 1))
            node.end_mark = p.get_event().end_mark
        else:  # mapping start
            if tag is None or tag == "!":
                tag = p.resolve(MappingNode, None, event.implicit)
            node = MappingNode(tag, [], start, None, flow_style=event.flow_style)
            if anchor is not None:
                self.anchors[anchor] = node
            pairs: list[Any] = node.value
            while not isinstance(p.peek_event(), MappingEndEvent):
                key = self.node(depth + 1)
                pairs.append((key, self.node(depth + 1)))
            node.end_mark = p.get_event().end_mark
        if anchor is not None:
            self.anchors[anchor] = node
            self.sizes[anchor] = self.values - before + 1
        return node

    def _alias(self, event: Any) -> yaml.Node:
        anchor = event.anchor
        if anchor not in self.anchors:
            raise _Refused(event.start_mark, f"alias *{anchor} names no anchor defined before it")
        if anchor not in self.sizes:
            raise _Refused(event.start_mark, f"alias *{anchor} refers to a node that contains it")
        self._count(self.sizes[anchor], event, anchor)
        return self.anchors[anchor]

    def _count(self, n: int, event: Any, alias: str | None) -> None:
        self.values += n
        lim = self.limits
        if self.values <= lim.max_values:
            return
        if alias is not None:
            raise _Refused(
                event.start_mark,
                f"alias *{alias} repeats {n:,} values and takes the document past {lim.max_values:,}, the limit for "
                f"{lim.kind}: refused (an alias bomb?)",
            )
        raise _Refused(event.start_mark, f"more than {lim.max_values:,} values, the limit for {lim.kind}")


def parse_yaml(text: str, file: str, limits: Limits = LIMITS) -> Doc:
    """Parse one YAML document; raises :class:`ConfigError` for syntax errors, duplicate keys and broken limits."""
    parser = _LOADER(text)
    try:
        node = _Composer(parser, limits).document()
    except _Refused as exc:
        raise ConfigError([Problem(file, exc.line, exc.col, str(exc))]) from None
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([syntax_problem(exc, file, text)]) from None
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


# ---------------------------------------------------------------------------- syntax errors, where they start
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


def syntax_problem(exc: yaml.MarkedYAMLError, file: str, text: str) -> Problem:
    """One problem for a PyYAML syntax error, placed where the broken construct starts when that is where the
    mistake is (an unterminated quote is reported at its opening quote, not at the end of the file)."""
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
        return Problem(file, start.line + 1, start.column + 1, f"{what} (started here; {problem} at {where})")
    mark = stop or start
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    inside = ""
    if start is not None and stop is not None and context in _ENCLOSING:
        inside = f" (in the {_ENCLOSING[context]} from {start.line + 1}:{start.column + 1}; check the indentation)"
    return Problem(file, line, col, f"YAML syntax error: {problem}{inside}")


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    return lines[line][column : column + 1] if line < len(lines) else ""


def _only_blanks_after(text: str, line: int, column: int) -> bool:
    lines = text.split("\n")
    if line >= len(lines):
        return True
    return not (lines[line][column:].strip() or any(rest.strip() for rest in lines[line + 1 :]))


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
