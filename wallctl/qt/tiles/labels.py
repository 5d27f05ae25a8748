"""Where the map's labels go, in scene pixels: each at the first of its candidate places that overlaps no label
placed before it, no alarmed node and nothing outside the map. The most important label is placed first; one with
no free place left is left out (it is in the alarm list), never drawn over another.

Type read from 5 m is large (a node's name at 16 arcminutes is ~500 px wide on a 1080p panel), so on a whole
estate labels cannot simply sit under their nodes: the branch names along the foot of the map ran into each other.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

import numpy as np
from PySide6.QtCore import QRectF

K = TypeVar("K", bound=Hashable)
Check = Callable[[QRectF], bool]
CELL = 2  # the occupancy raster's cell, in scene pixels


class Raster:
    """What is taken in ``bounds``, in cells of ``CELL`` pixels: a check or a mark is one array slice, whatever the
    number of labels and alarmed nodes (a 5,000-node map has thousands). Labels are checked and marked rounded
    outwards (two never share a cell); a node's symbol, marked with a margin of a cell, rounded inwards."""

    def __init__(self, bounds: QRectF) -> None:
        self.x0, self.y0 = bounds.left(), bounds.top()
        self.cells = np.zeros((math.ceil(bounds.height() / CELL) + 1, math.ceil(bounds.width() / CELL) + 1), bool)

    def _slice(self, left: float, top: float, right: float, bottom: float, out: bool = True) -> tuple[slice, slice]:
        lo, hi = (math.floor, math.ceil) if out else (math.ceil, math.floor)
        return (
            slice(max(0, lo((top - self.y0) / CELL)), max(0, hi((bottom - self.y0) / CELL))),
            slice(max(0, lo((left - self.x0) / CELL)), max(0, hi((right - self.x0) / CELL))),
        )

    def hits(self, r: QRectF) -> bool:
        return bool(self.cells[self._slice(r.left(), r.top(), r.right(), r.bottom())].any())

    def add(self, left: float, top: float, right: float, bottom: float, out: bool = True) -> None:
        self.cells[self._slice(left, top, right, bottom, out)] = True

    def add_points(self, xy: np.ndarray, r: float) -> None:
        """Mark a square of half-side ``r`` around each point (node symbols), in a few array operations."""
        h, w = self.cells.shape
        cx = np.round((xy[:, 0] - self.x0) / CELL).astype(int)
        cy = np.round((xy[:, 1] - self.y0) / CELL).astype(int)
        k = int(r // CELL)
        for dy in range(-k, k + 1):
            for dx in range(-k, k + 1):
                x, y = cx + dx, cy + dy
                inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
                self.cells[y[inside], x[inside]] = True


def place(items: Iterable[tuple[K, Sequence[QRectF], Check]], bounds: QRectF, taken: Raster) -> dict[K, QRectF]:
    """The place of each item (most important first) that gets one: its first candidate inside ``bounds`` that
    overlaps nothing ``taken`` (alarmed nodes, labels placed before it) and passes the item's own check."""
    out: dict[K, QRectF] = {}
    for key, candidates, check in items:
        for r in candidates:
            if bounds.contains(r) and not taken.hits(r) and check(r):
                taken.add(r.left(), r.top(), r.right(), r.bottom())
                out[key] = r
                break
    return out


def nearest_own(r: QRectF, own: tuple[float, float], others: np.ndarray) -> bool:
    """Whether ``r`` is nearer its own node than any node in ``others`` (n x 2): a name placed nearer to another
    node would be read as that node's."""
    if len(others) == 0:
        return True
    dx = np.maximum(np.maximum(r.left() - others[:, 0], others[:, 0] - r.right()), 0)
    dy = np.maximum(np.maximum(r.top() - others[:, 1], others[:, 1] - r.bottom()), 0)
    mine = math.hypot(max(r.left() - own[0], own[0] - r.right(), 0), max(r.top() - own[1], own[1] - r.bottom(), 0))
    return bool(mine < np.sqrt(dx * dx + dy * dy).min())


def around(x: float, y: float, w: float, h: float, clear: float) -> list[QRectF]:
    """Places for a ``w`` x ``h`` label of the node at (x, y) whose symbol reaches ``clear`` from its centre: under
    it first (where the eye looks for a name), then above, beside, at the corners, then one line further out."""
    out = []
    for k in (0.0, 1.0):
        d = clear + k * h
        out += [
            QRectF(x - w / 2, y + d, w, h),
            QRectF(x - w / 2, y - d - h, w, h),
            QRectF(x + clear + k * w / 2, y - h / 2, w, h),
            QRectF(x - clear - k * w / 2 - w, y - h / 2, w, h),
            QRectF(x + clear * 0.7, y + clear * 0.7 + k * h, w, h),
            QRectF(x - clear * 0.7 - w, y + clear * 0.7 + k * h, w, h),
            QRectF(x + clear * 0.7, y - clear * 0.7 - h - k * h, w, h),
            QRectF(x - clear * 0.7 - w, y - clear * 0.7 - h - k * h, w, h),
        ]
    return out


def over(box: QRectF, widths: Sequence[float], h: float, rows: int = 4) -> list[QRectF]:
    """Places for a site's name: over its area, at its left edge or centred, stacked up to ``rows`` lines high
    (names of narrow neighbouring sites stagger instead of running into each other), then under it; on each line
    the name in each of ``widths`` (full, then shortened) is tried."""
    out = []
    lines = [box.top() - 4 - h - k * (h + 4) for k in range(rows)] + [box.bottom() + 4, box.bottom() + 8 + h]
    for y in lines:
        for w in widths:
            out += [QRectF(box.left(), y, w, h), QRectF(box.center().x() - w / 2, y, w, h)]
    return out


def layout(
    names: Sequence[tuple[K, int, float, float, bool]],
    sites: Sequence[tuple[K, QRectF, Sequence[float], float]],
    xy: np.ndarray,
    radius: np.ndarray,
    alarmed: np.ndarray,
    bounds: QRectF,
) -> dict[K, QRectF]:
    """Places for a map's labels, in scene pixels.

    ``names``: (key, node index, width, height, primary) most important first; ``sites``: (key, area, widths of
    the name in full and shortened, height); ``xy``, ``radius``, ``alarmed``: each node's centre, symbol radius and
    whether it is alarmed. Alarmed nodes' names go first, nearer their own node than any other alarmed one; then
    site names; then calm nodes' names, nearer their own node than any other.
    """
    taken = Raster(bounds)
    for r in np.unique(radius[alarmed]):  # no name over an alarmed node's symbol (with a cell's margin)
        taken.add_points(xy[alarmed & (radius == r)], float(r) + CELL)
    ids = np.arange(len(xy))

    def name(key: K, i: int, w: float, h: float, primary: bool) -> tuple[K, list[QRectF], Check]:
        x, y = float(xy[i, 0]), float(xy[i, 1])
        found: list[np.ndarray] = []

        def mine(r: QRectF) -> bool:  # the nodes that could be nearer are found once, and only if asked
            if not found:
                reach = 2 * (float(radius[i]) + 3 + 1.5 * w + 2 * h)  # twice the farthest candidate's far corner
                close = (np.abs(xy[:, 0] - x) < reach) & (np.abs(xy[:, 1] - y) < reach) & (ids != i)
                found.append(xy[close & alarmed] if primary else xy[close])
            return nearest_own(r, (x, y), found[0])

        return key, around(x, y, w, h, float(radius[i]) + 3), mine

    dots = Raster(bounds)  # every node: a site's name (drawn under the nodes) would have one sit on its letters
    if sites:
        dots.add_points(xy, float(radius.min(initial=0)) + CELL)
    items = [name(*n) for n in names if n[4]]
    items += [(key, over(box, widths, h), lambda r: not dots.hits(r)) for key, box, widths, h in sites]
    items += [name(*n) for n in names if not n[4]]
    return place(items, bounds, taken)
