"""The rhythm of a flash wallctl makes: 1:1 pulses at the configured rate, edges that follow each other exactly."""

from __future__ import annotations

import itertools

import pytest

from wallctl.core.lights.flash import level, next_edge


@pytest.mark.parametrize("hz", [0.4, 0.6, 0.8, 1.4, 2.0, 2.8])
def test_pulses_are_one_to_one_at_the_rate(hz: float) -> None:
    t, edges = 0.0, []
    while t < 10.0:
        t = next_edge(t, hz)
        edges.append(t)
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(edges)}
    assert gaps == {round(0.5 / hz, 9)}  # every half period, no drift
    on = [level("fast", e + 1e-6, hz) for e in edges]
    assert all(a != b for a, b in itertools.pairwise(on))  # each edge switches
    rises = sum(1 for e in edges if e <= 10.0 and level("fast", e + 1e-6, hz) == "steady")
    assert abs(rises - 10.0 * hz) <= 1


def test_steady_and_off_ignore_time() -> None:
    assert {level("steady", t / 7, 2.0) for t in range(50)} == {"steady"}
    assert {level("off", t / 7, 2.0) for t in range(50)} == {"off"}


def test_the_next_edge_is_always_ahead() -> None:
    for t in (0.0, 0.25, 0.2500000001, 0.2499999999, 1e6 + 0.25):
        assert next_edge(t, 2.0) > t
