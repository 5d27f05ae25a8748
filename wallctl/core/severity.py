"""ITU-T X.733 perceived severity, ordered so that ``max()`` gives the worst."""

from __future__ import annotations

from enum import IntEnum


class Severity(IntEnum):
    CLEARED = 0
    INDETERMINATE = 1
    WARNING = 2
    MINOR = 3
    MAJOR = 4
    CRITICAL = 5

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> Severity:
        """Parse a contract severity name; raises ``ValueError`` naming the accepted values."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {name!r}; expected one of {', '.join(SEVERITY_NAMES)}") from None


SEVERITY_NAMES: tuple[str, ...] = tuple(s.label for s in sorted(Severity, reverse=True))
ACTIVE_SEVERITIES: tuple[Severity, ...] = tuple(s for s in sorted(Severity, reverse=True) if s is not Severity.CLEARED)
