"""The coverage-matrix kernel against networkx brute force and the assessment's pair search."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage._matrix import CoverageMatrix, coverage_matrix
from coverage._search import augment, locate, within_located
from coverage.candidates import build_candidates
from coverage.network import load_network
from coverage.sites import snap_points
from tests.test_assess import brute_force_nearest, random_points
from tests.test_service_areas import grid_network


def reference(net, demand_snap, cand_snap, radius: float) -> sp.csr_array:
    """The same matrix from the assessment's pair search (coverage._search.within_located)."""
    aug = augment(net, cand_snap.edge, cand_snap.offset_m, cand_snap.access_m)
    loc = locate(aug, demand_snap.edge, demand_snap.offset_m, demand_snap.access_m)
    ok = np.flatnonzero(cand_snap.ok)
    s, u, d = within_located(aug, aug.point_node[ok], loc, limit=radius)
    return sp.csr_array((d, (u, ok[s])), shape=(len(demand_snap), len(cand_snap)))


def assert_same(matrix: CoverageMatrix, ref: sp.csr_array) -> None:
    assert matrix.nnz == ref.nnz
    assert matrix.distance_m is not None
    ref = sp.csc_array(ref)
    ref.sort_indices()
    assert np.array_equal(matrix.distance_m.indptr, ref.indptr)
    assert np.array_equal(matrix.distance_m.indices, ref.indices)
    assert matrix.distance_m.data == pytest.approx(ref.data, abs=1e-9)


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


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 1000),
    n_units=st.integers(1, 40),
    n_cands=st.integers(1, 15),
    radius=st.floats(30, 700),
    keep=st.floats(0, 1),
)
def test_rows_mask_and_thresholds(seed, n_units, n_cands, radius, keep) -> None:
    """Only wanted rows are filled, each exactly as in the full matrix; per-row thresholds cut it."""
    net = grid_network(seed)
    rng = np.random.default_rng(seed)
    units = random_points(net, rng, n_units, "d", jitter=30.0)
    cands = random_points(net, rng, n_cands, "h", jitter=30.0)
    us, cs = snap_points(net, units), snap_points(net, cands)
    full = coverage_matrix(net, us, cs, radius_m=radius)
    assert_same(full, reference(net, us, cs, radius))
    rows = rng.random(n_units) < keep
    part = coverage_matrix(net, us, cs, radius_m=radius, rows=rows)
    dense_full, dense_part = full.distance_m.toarray(), part.distance_m.toarray()
    assert np.array_equal(part.cover.toarray(), full.cover.toarray() & rows[:, None])
    assert dense_part[rows] == pytest.approx(dense_full[rows], abs=1e-9)
    threshold = rng.random(n_units) * radius
    within = full.within(threshold).toarray()
    assert np.array_equal(within, full.cover.toarray() & (dense_full <= threshold[:, None]))
    # The same thresholds applied inside the kernel, searching from either side, without distances.
    for cs_side in (cs, snap_points(net, cands.iloc[:1])):
        direct = coverage_matrix(net, us, cs_side, radius_m=threshold, distances=False)
        assert direct.distance_m is None
        expect = coverage_matrix(net, us, cs_side, radius_m=radius).within(threshold)
        assert np.array_equal(direct.cover.toarray(), expect.toarray())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("network", "spacing_m", "n_units"),
    [("shenzhen/futian_walk.graphml", 100.0, 3000), ("porto_alegre/poa_osm.pbf", 150.0, 5000)],
)
def test_equals_the_assessment_search_on_real_networks(shared_data, network, spacing_m, n_units) -> None:
    net = load_network(shared_data / network)
    rng = np.random.default_rng(1)
    units = random_points(net, rng, n_units, "d")
    cands = build_candidates(net, spacing_m=spacing_m)
    us = snap_points(net, units)
    matrix = coverage_matrix(net, us, cands.snap, radius_m=500.0)
    assert matrix.nnz > 10 * n_units
    assert_same(matrix, reference(net, us, cands.snap, 500.0))
