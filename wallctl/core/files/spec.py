"""Typed models from YAML: frozen dataclasses validated field by field, every problem reported at once.

A model is a frozen dataclass whose fields use :func:`spec` for a doc string and bounds. :func:`build` turns a
:class:`~wallctl.core.files.yamldoc.Doc` (or a part of it) into the model, collecting every problem with its exact
location; :func:`json_schema` turns the same model into a JSON Schema for designers' editors.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from enum import Enum
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from wallctl.core.files.yamldoc import ConfigError, Doc, PathKey, Problem
from wallctl.core.severity import SEVERITY_NAMES, Severity

T = TypeVar("T")
_MISSING = dataclasses.MISSING


def spec(
    doc: str = "",
    *,
    default: Any = _MISSING,
    default_factory: Any = _MISSING,
    minimum: float | None = None,
    maximum: float | None = None,
    alias: str | None = None,
    rest: bool = False,
) -> Any:
    """A dataclass field with the metadata the validator and the schema generator read. ``rest``: a ``dict`` field
    that takes the mapping's other keys, each built as its value type (a lights rule names any channel)."""
    meta = {"doc": doc, "minimum": minimum, "maximum": maximum, "alias": alias, "rest": rest}
    if default_factory is not _MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


class Builder:
    """Validates nested plain data against a model type, collecting problems instead of stopping at the first."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def error(self, path: PathKey, message: str, *, key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, key=key))

    def build(self, tp: Any, value: Any, path: PathKey) -> Any:
        origin = get_origin(tp)
        where = dotted(path)
        if tp is Any:
            return value
        if origin in (typing.Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if value is None:
                return None
            if len(args) == 1:
                return self.build(args[0], value, path)
            for a in args:  # plain scalar unions such as int | str
                if _plain_ok(a, value):
                    return self.build(a, value, path)
            quote = (
                " (YAML reads a bare on, off, yes or no as true or false: quote it)" if isinstance(value, bool) else ""
            )
            self.error(path, f"{where}: expected {' or '.join(_type_name(a) for a in args)}, got {_show(value)}{quote}")
            return None
        if origin is Literal:
            allowed: tuple[Any, ...] = get_args(tp)
            value = _word(value, allowed)
            if value not in allowed:
                hint = did_you_mean(value, [str(a) for a in allowed])
                self.error(path, f"{where}: {_show(value)} is not one of {', '.join(map(str, allowed))}{hint}")
                return None
            return value
        if origin in (tuple, list):
            item_type = get_args(tp)[0]
            if not isinstance(value, list):
                if value is None:
                    return ()
                self.error(path, f"{where}: expected a list, got {_show(value)}")
                return ()
            # a failed item stays as None so indexes (and so locations) of the others stay right
            return tuple(self.build(item_type, v, (*path, i)) for i, v in enumerate(value))
        if origin is dict:
            kt, vt = get_args(tp)
            if not isinstance(value, dict):
                if value is None:
                    return {}
                self.error(path, f"{where}: expected a mapping, got {_show(value)}")
                return {}
            if get_origin(kt) is Literal:  # keys from a fixed set: checked, at the key
                keys = {k: _word({"False": False, "True": True}.get(k, k), get_args(kt)) for k in value}
                for k, word in keys.items():
                    if word not in get_args(kt):
                        names = [str(a) for a in get_args(kt)]
                        hint = did_you_mean(word, names)
                        self.error(
                            (*path, k), f"{where}: {_show(word)} is not one of {', '.join(names)}{hint}", key=True
                        )
                return {keys[k]: self.build(vt, v, (*path, k)) for k, v in value.items() if keys[k] in get_args(kt)}
            return {k: self.build(vt, v, (*path, k)) for k, v in value.items()}
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            return self.build_model(tp, value, path)
        if isinstance(tp, type) and issubclass(tp, Severity):
            if isinstance(value, str):
                try:
                    return Severity.parse(value)
                except ValueError:
                    pass
            hint = did_you_mean(value, list(SEVERITY_NAMES))
            self.error(
                path, f"{where}: {_show(value)} is not a severity; expected one of {', '.join(SEVERITY_NAMES)}{hint}"
            )
            return None
        if isinstance(tp, type) and issubclass(tp, Enum):
            names = [str(m.value) for m in tp]
            for m in tp:
                if value == m.value:
                    return m
            self.error(path, f"{where}: {_show(value)} is not one of {', '.join(names)}{did_you_mean(value, names)}")
            return None
        if tp is bool:
            if not isinstance(value, bool):
                self.error(path, f"{where}: expected true or false, got {_show(value)}")
                return None
            return value
        if tp is int:
            if isinstance(value, bool) or not isinstance(value, int):
                self.error(path, f"{where}: expected an integer, got {_show(value)}")
                return None
            return value
        if tp is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.error(path, f"{where}: expected a number, got {_show(value)}")
                return None
            return float(value)
        if tp is str:
            if isinstance(value, bool) or value is None or isinstance(value, dict | list):
                self.error(path, f"{where}: expected a string, got {_show(value)}")
                return None
            return str(value)
        raise TypeError(f"spec: unsupported model type {tp!r}")  # a programming error, not a user one

    def build_model(self, cls: type[T], value: Any, path: PathKey) -> T | None:
        where = dotted(path) or "the document"
        if value is None:
            value = {}
        if not isinstance(value, dict):
            self.error(path, f"{where}: expected a mapping, got {_show(value)}")
            return None
        hints, fields = _model_info(cls)  # type: ignore[arg-type]  # model classes are hashable
        rest = next((f for f in fields.values() if f.metadata.get("rest")), None)
        if rest is not None:
            fields = {k: f for k, f in fields.items() if f is not rest}
        for key in value:
            if key not in fields and rest is None:
                hint = did_you_mean(key, list(fields))
                self.error(
                    (*path, key),
                    f"{where}: unknown key {key!r}{hint}; expected one of {', '.join(sorted(fields))}",
                    key=True,
                )
        kwargs: dict[str, Any] = {}
        ok = True
        for name, f in fields.items():
            if name in value:
                before = len(self.problems)
                built = self.build(hints[f.name], value[name], (*path, name))
                if len(self.problems) > before:
                    if get_origin(hints[f.name]) in (tuple, list) and isinstance(value[name], list):
                        kwargs[f.name] = built  # keep the good items so cross-checks still run on them
                    else:
                        ok = False
                    continue
                if isinstance(built, int | float) and not isinstance(built, bool):
                    lo, hi = f.metadata.get("minimum"), f.metadata.get("maximum")
                    if (lo is not None and built < lo) or (hi is not None and built > hi):
                        rng = f"at least {lo:g}" if hi is None else f"between {lo:g} and {hi:g}"
                        if lo is None:
                            rng = f"at most {hi:g}"
                        self.error((*path, name), f"{dotted((*path, name))}: {built!r} is out of range; expected {rng}")
                        ok = False
                        continue
                kwargs[f.name] = built
            elif f.default is _MISSING and f.default_factory is _MISSING:
                self.error(path, f"{where}: required key {name!r} is missing")
                ok = False
        if rest is not None:  # each other key is built at its own place, so problems point at it
            before = len(self.problems)
            value_type = get_args(hints[rest.name])[1]
            others = {k: self.build(value_type, v, (*path, k)) for k, v in value.items() if k not in fields}
            ok = ok and len(self.problems) == before
            kwargs[rest.name] = others
        if not ok:
            return None
        try:
            return cls(**kwargs)
        except (ValueError, TypeError) as exc:
            self.error(path, f"{where}: {exc}")
            return None


@functools.cache
def _model_info(cls: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field[Any]]]:
    """Type hints and fields (by YAML key) of a model: computed once per class, not once per mapping."""
    return get_type_hints(cls), {(f.metadata.get("alias") or f.name): f for f in dataclasses.fields(cls)}


def items(seq: Sequence[T]) -> Iterator[tuple[int, T]]:
    """Index and item of a built sequence, skipping items that failed validation (they are left as None so
    that the indexes, and so the reported locations, of the others stay right)."""
    for i, item in enumerate(seq):
        if item is not None:
            yield i, item


def build_doc(cls: type[T], doc: Doc, path: PathKey = (), checks: Sequence[Callable[[Doc], list[Problem]]] = ()) -> T:
    """Build a whole model from a document; raises :class:`ConfigError` with every problem found.

    ``checks`` look at the document as written for what no single item can say about itself (a name used twice):
    their problems are reported with the others, even when the model does not build."""
    b = Builder(doc)
    value = doc.data
    for p in path:
        value = value[p]
    model = b.build_model(cls, value, path)
    for check in checks:
        b.problems += check(doc)
    if b.problems or model is None:
        raise ConfigError(b.problems or [doc.problem(path, "invalid document")])
    return model


# ---------------------------------------------------------------------------- JSON Schema
def json_schema(cls: type, title: str = "") -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a model, for editors that complete and check YAML as designers type."""
    defs: dict[str, Any] = {}
    root = _schema(cls, defs)
    out: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title or cls.__name__}
    out.update(defs.pop(cls.__name__))
    if defs:
        out["$defs"] = defs
    del root
    return out


def _schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin = get_origin(tp)
    if tp is Any:
        return {}
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        alts = [_schema(a, defs) for a in args]
        if type(None) in get_args(tp):
            alts.append({"type": "null"})
        return alts[0] if len(alts) == 1 else {"anyOf": alts}
    if origin is Literal:
        return {"enum": list(get_args(tp))}
    if origin in (tuple, list):
        return {"type": "array", "items": _schema(get_args(tp)[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(get_args(tp)[1], defs)}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder against recursion
            hints = get_type_hints(tp)
            props: dict[str, Any] = {}
            required: list[str] = []
            others: dict[str, Any] | bool = False
            for f in dataclasses.fields(tp):
                if f.metadata.get("rest"):
                    others = _schema(get_args(hints[f.name])[1], defs)
                    continue
                key = f.metadata.get("alias") or f.name
                s = dict(_schema(hints[f.name], defs))
                if f.metadata.get("doc"):
                    s["description"] = f.metadata["doc"]
                if f.metadata.get("minimum") is not None:
                    s["minimum"] = f.metadata["minimum"]
                if f.metadata.get("maximum") is not None:
                    s["maximum"] = f.metadata["maximum"]
                if isinstance(f.default, Severity):
                    s["default"] = f.default.label
                elif f.default is not _MISSING and isinstance(f.default, str | int | float | bool):
                    s["default"] = f.default.value if isinstance(f.default, Enum) else f.default
                props[key] = s
                if f.default is _MISSING and f.default_factory is _MISSING:
                    required.append(key)
            body: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": others}
            if tp.__doc__ and not tp.__doc__.startswith(f"{name}("):
                body["description"] = " ".join(tp.__doc__.split())
            if required:
                body["required"] = required
            defs[name] = body
        return {"$ref": f"#/$defs/{name}"}
    if isinstance(tp, type) and issubclass(tp, Severity):
        return {"enum": list(SEVERITY_NAMES)}
    if isinstance(tp, type) and issubclass(tp, Enum):
        return {"enum": [m.value for m in tp]}
    return {bool: {"type": "boolean"}, int: {"type": "integer"}, float: {"type": "number"}, str: {"type": "string"}}[tp]


# ---------------------------------------------------------------------------- helpers
def dotted(path: PathKey) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _show(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def did_you_mean(value: Any, options: list[str]) -> str:
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _word(value: Any, allowed: tuple[Any, ...]) -> Any:
    """YAML 1.1 reads a bare ``off`` or ``on`` as false or true: a choice that has the word takes it back."""
    if value is False and "off" in allowed:
        return "off"
    if value is True and "on" in allowed:
        return "on"
    return value


def _plain_ok(tp: Any, value: Any) -> bool:
    if get_origin(tp) is Literal or (isinstance(tp, type) and issubclass(tp, Enum)):
        return isinstance(_word(value, get_args(tp)), str)  # a word: checked against the names, with a did-you-mean
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    if tp is bool:
        return isinstance(value, bool)
    if get_origin(tp) in (list, tuple):
        return isinstance(value, list)
    if dataclasses.is_dataclass(tp) or get_origin(tp) is dict:
        return isinstance(value, dict)
    return False


def _type_name(tp: Any) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    if tp in names:
        return names[tp]
    if get_origin(tp) in (list, tuple):
        return "a list"
    if get_origin(tp) is Literal:
        return "one of " + ", ".join(map(str, get_args(tp)))
    if isinstance(tp, type) and issubclass(tp, Severity):
        return "a severity"
    return "a mapping"
