"""One way to say "which alarms": used by latching classes, maintenance windows, the sound map and rules."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass

from wallctl.core.files.spec import spec
from wallctl.core.severity import Severity

Groups = Mapping[str, frozenset[str]]  # group name -> source ids (topology sites, configured groups)


@dataclass(frozen=True, slots=True)
class AlarmMatch:
    """All given criteria must hold; a list means any of its items. Sources and types accept shell globs."""

    severity_at_least: Severity | None = spec("this severity or worse", default=None)
    severities: tuple[Severity, ...] = spec("any of these severities", default=())
    categories: tuple[str, ...] = spec("any of these categories (network, system, environment, ...)", default=())
    types: tuple[str, ...] = spec("any of these event types (globs allowed)", default=())
    sources: tuple[str, ...] = spec("any of these sources (globs allowed)", default=())
    groups: tuple[str, ...] = spec("sources in any of these groups (topology sites or groups)", default=())

    def matches(
        self, *, source: str, type: str, category: str | None, severity: Severity, groups: Groups | None = None
    ) -> bool:
        if self.severity_at_least is not None and severity < self.severity_at_least:
            return False
        if self.severities and severity not in self.severities:
            return False
        if self.categories and category not in self.categories:
            return False
        if self.types and not _any_glob(type, self.types):
            return False
        if self.sources and not _any_glob(source, self.sources):
            return False
        if self.groups:
            if groups is None:
                return False
            if not any(source in groups.get(g, frozenset()) for g in self.groups):
                return False
        return True

    @property
    def is_empty(self) -> bool:
        return not (
            self.severity_at_least or self.severities or self.categories or self.types or self.sources or self.groups
        )


def _any_glob(value: str, patterns: tuple[str, ...]) -> bool:
    return any(p == value or (any(c in p for c in "*?[") and fnmatch.fnmatchcase(value, p)) for p in patterns)
