"""A real small filesystem for fault tests: a tmpfs of a given size (a full disk), remountable read-only."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


@contextmanager
def tmpfs(where: Path, size_kib: int, *, read_only: bool = False) -> Iterator[Path]:
    """Mount a tmpfs of ``size_kib`` at ``where`` for the duration (root only: the tests run as root in CI)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs (a real full disk) needs root; CI runs as root")
    where.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size_kib}k,mode=0777{',ro' if read_only else ''}", "tmpfs", str(where))
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


def remount(where: Path, *, read_only: bool) -> None:
    _mount("-o", f"remount,{'ro' if read_only else 'rw'}", str(where))


def fill(where: Path, leave_kib: int) -> Path:
    """Write a filler file until only about ``leave_kib`` remain free; delete it to free the space again."""
    filler = where / "filler"
    st = os.statvfs(where)
    free = st.f_bavail * st.f_frsize
    size = max(0, free - leave_kib * 1024)
    with filler.open("wb") as fh:
        fh.write(b"\0" * size)
    return filler
