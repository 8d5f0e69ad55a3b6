"""The coverage-matrix kernel against networkx brute force."""

from __future__ import annotations

import numpy as np
import pytest

from coverage._matrix import CoverageMatrix, coverage_matrix
from coverage.network import load_network
from coverage.sites import snap_points
from tests.test_assess import brute_force_nearest, random_points


def test_coverage_matrix_against_brute_force(shared_data) -> None:
    net = load_network(shared_data / "shenzhen" / "futian_walk.graphml")
    rng = np.random.default_rng(9)
    cands = random_points(net, rng, 12, "h")
    units = random_points(net, rng, 60, "d")
    cs, us = snap_points(net, cands), snap_points(net, units)
    radius = 600.0
    matrix = coverage_matrix(net, us, cs, radius_m=radius)
    assert isinstance(matrix, CoverageMatrix)
    ref = np.column_stack([brute_force_nearest(net, cands.iloc[[j]], units) for j in range(len(cands))])
    assert matrix.shape == (60, 12)
    assert np.array_equal(matrix.cover.toarray(), ref <= radius)
    got = matrix.distance_m.toarray()
    inside = ref <= radius
    assert got[inside] == pytest.approx(ref[inside], abs=1e-6)
    # Searching from the other side gives the same matrix.
    other = coverage_matrix(net, cs, us, radius_m=radius)
    assert np.array_equal(other.cover.T.toarray(), matrix.cover.toarray())
    assert "pairs within 600 m" in repr(matrix)
