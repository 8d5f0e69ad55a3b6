"""The decomposed engine against oracles: one monolithic MILP (scipy's HiGHS), brute force, limits.

The oracle MILP is built here with ``scipy.optimize.milp`` on the whole,
unreduced matrix: no reduction, no blocks, no bounds of ours.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from coverage import optimize as opt
from coverage.optimize._blocks import allocate, split_blocks
from coverage.optimize._checks import _problem
from coverage.optimize._curve import BlockCurve, Limits
from coverage.optimize._reduce import _reduce
from tests.test_optimize import brute_force, check_selection


def monolithic(cover: np.ndarray, weights: np.ndarray, k: int, already: np.ndarray) -> float:
    """Maximum newly covered weight by one MILP over the whole matrix (scipy.optimize.milp)."""
    n_d, n_c = cover.shape
    w = np.where(already, 0.0, weights)
    c = np.concatenate([np.zeros(n_c), -w])
    link = sp.hstack([-sp.csr_array(cover.astype(float)), sp.eye_array(n_d)])
    card = sp.hstack([sp.csr_array(np.ones((1, n_c))), sp.csr_array((1, n_d))])
    a = sp.vstack([link, card]).tocsr()
    upper = np.concatenate([np.zeros(n_d), [k]])
    res = milp(
        c,
        constraints=LinearConstraint(a, -np.inf, upper),
        integrality=np.concatenate([np.ones(n_c), np.zeros(n_d)]),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0.0},
    )
    assert res.status == 0
    return -float(res.fun)


def clustered(seed: int, clusters: int = 4, per: int = 12, cands: int = 6, density: float = 0.3):
    """Demand and candidates in separate clusters: a coverage graph with several blocks."""
    rng = np.random.default_rng(seed)
    n_d, n_c = clusters * per, clusters * cands
    cover = np.zeros((n_d, n_c), dtype=bool)
    for c in range(clusters):
        block = rng.random((per, cands)) < density
        cover[c * per : (c + 1) * per, c * cands : (c + 1) * cands] = block
    weights = rng.integers(1, 100, n_d).astype(float)
    already = rng.random(n_d) < 0.1
    return cover, weights, already


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 3, 6, 10])
def test_decomposed_equals_monolithic_milp(seed, k):
    cover, weights, already = clustered(seed, clusters=4, per=15, cands=10)
    expected = monolithic(cover, weights, k, already)
    sel = opt.max_coverage(sp.csc_array(cover), weights, k, already_covered=already)
    assert sel.optimal
    assert sel.objective == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert sel.n_blocks >= 2
    check_selection(sel, k)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    clusters=st.integers(1, 5),
    per=st.integers(1, 12),
    cands=st.integers(1, 14),
    density=st.floats(0.05, 0.6),
    k=st.integers(0, 12),
)
def test_decomposed_equals_monolithic_property(seed, clusters, per, cands, density, k):
    cover, weights, already = clustered(seed, clusters, per, cands, density)
    k = min(k, cover.shape[1])
    expected = monolithic(cover, weights, k, already) if k else 0.0
    sel = opt.max_coverage(cover, weights, k, already_covered=already)
    assert sel.optimal
    assert sel.objective == pytest.approx(expected, rel=1e-9, abs=1e-7)
    check_selection(sel, k)
    greedy = opt.max_coverage(cover, weights, k, already_covered=already, method="greedy")
    assert greedy.objective <= expected + 1e-7
    assert greedy.covered_before + greedy.upper_bound >= greedy.covered_before + expected - 1e-6
    assert greedy.method != "milp-highs"


def test_blocks_partition_the_reduced_problem():
    cover, weights, already = clustered(3, clusters=5, per=10, cands=8)
    red = _reduce(_problem(cover, weights, already), enabled=True, weighted=True)
    blocks = split_blocks(red)
    cols = np.sort(np.concatenate([b.cols for b in blocks]))
    assert cols.tolist() == list(range(red.shape[1]))
    assert sum(b.shape[0] for b in blocks) == red.shape[0]
    assert math.fsum(np.concatenate([b.w for b in blocks]).tolist()) == pytest.approx(red.w.sum())
    # no row of one block is covered by a column of another
    a = red.a_csr.toarray()
    seen = np.zeros(red.shape[0], dtype=bool)
    for b in blocks:
        rows = np.flatnonzero(a[:, b.cols].any(axis=1))
        assert not seen[rows].any()
        seen[rows] = True
        others = np.setdiff1d(np.arange(red.shape[1]), b.cols)
        assert not a[np.ix_(rows, others)].any()
    assert [int(b.cols.min()) for b in blocks] == sorted(int(b.cols.min()) for b in blocks)


@settings(max_examples=60, deadline=None)
@given(
    curves=st.lists(
        st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=5).map(
            lambda xs: np.concatenate([[0.0], np.cumsum(xs)])
        ),
        min_size=1,
        max_size=4,
    ),
    k=st.integers(0, 12),
)
def test_allocation_is_the_best_split(curves, k):
    alloc = allocate(curves, k)
    best = -np.inf
    for split in itertools.product(*(range(len(c)) for c in curves)):
        if sum(split) == k:
            best = max(best, sum(c[j] for c, j in zip(curves, split, strict=True)))
    assert alloc.total[k] == pytest.approx(best) if np.isfinite(best) else alloc.total[k] == -np.inf
    if np.isfinite(best):
        split = alloc.split(k)
        assert split.sum() == k
        assert sum(c[j] for c, j in zip(curves, split, strict=True)) == pytest.approx(best)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 5))
def test_lagrangian_bound_is_valid_for_any_multipliers(seed, k):
    rng = np.random.default_rng(seed)
    cover = rng.random((14, 10)) < 0.3
    weights = rng.integers(1, 50, 14).astype(float)
    red = _reduce(_problem(cover, weights, None), enabled=False, weighted=True)
    block = BlockCurve(red, 10, Limits(exact=True, max_nodes=100))
    optimum = brute_force(cover, weights, k, np.zeros(14, dtype=bool))
    for _ in range(5):
        mu = rng.random(red.shape[0]) * red.w
        assert block._lagrangian(mu, k) >= optimum - 1e-9
    assert block._lagrangian(red.w.copy(), k) >= optimum - 1e-9  # the start bound (heaviest columns)


def test_curve_points_equal_single_questions():
    cover, weights, already = clustered(7, clusters=3, per=20, cands=12, density=0.25)
    curve = opt.coverage_curve(cover, weights, 12, already_covered=already)
    assert curve["optimal"].all()
    assert np.all(np.diff(curve["covered_weight"].to_numpy()) >= 0)
    for k in (0, 1, 4, 9, 12):
        expected = monolithic(cover, weights, k, already) if k else 0.0
        assert curve.loc[k, "new_weight"] == pytest.approx(expected)
        assert opt.max_coverage(cover, weights, k, already_covered=already).objective == pytest.approx(expected)


def test_solve_coverage_answers_agree_with_separate_calls():
    cover, weights, already = clustered(11, clusters=4, per=15, cands=10, density=0.25)
    out = opt.solve_coverage(cover, weights, k=5, k_max=8, target_share=0.6, already_covered=already)
    single = opt.max_coverage(cover, weights, 5, already_covered=already)
    assert out.selection.objective == pytest.approx(single.objective)
    assert out.curve is not None and out.curve.loc[5, "new_weight"] == pytest.approx(single.objective)
    target = opt.target_coverage(cover, weights, target_share=0.6, already_covered=already)
    assert out.target is not None and out.target.k == target.k and out.target.optimal
    assert out.target.covered_after >= 0.6 * out.target.total_weight - 1e-6
    # the fewest sites: one fewer cannot reach the share
    if target.k:
        best_fewer = monolithic(cover, weights, target.k - 1, already)
        assert target.covered_before + best_fewer < 0.6 * target.total_weight
    unreachable = opt.solve_coverage(cover, weights, k=1, target_share=1.0, already_covered=already)
    if opt.reachable_share(cover, weights, already_covered=already) < 1.0:
        assert unreachable.target is None and "cannot be met" in unreachable.target_error


def spatial_cover(n_demand: int, n_candidates: int, seed: int, radius: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    demand = rng.random((n_demand, 2)) * 1000.0
    cand = rng.random((n_candidates, 2)) * 1000.0
    cost = np.sqrt(((demand[:, None, :] - cand[None, :, :]) ** 2).sum(axis=-1))
    return cost <= radius, rng.integers(1, 500, n_demand).astype(float)


def random_instance(seed: int, n_demand: int = 120, n_candidates: int = 60, density: float = 0.08):
    """Unstructured random coverage: its LP is fractional, so proofs need branching."""
    rng = np.random.default_rng(seed)
    return rng.random((n_demand, n_candidates)) < density, rng.integers(1, 100, n_demand).astype(float)


@pytest.mark.slow  # ~3 s per seed; CI runs it
@pytest.mark.parametrize("seed", [0, 2])
def test_tiny_and_huge_budgets_agree_on_what_they_prove(seed):
    """One MILP node per step versus 100,000: the proven parts agree and the bounds stay real."""
    cover, weights = random_instance(seed)
    tiny = opt.max_coverage(cover, weights, 8, max_nodes=1)
    huge = opt.max_coverage(cover, weights, 8, max_nodes=100_000)
    assert huge.optimal
    assert huge.objective == pytest.approx(monolithic(cover, weights, 8, np.zeros(len(weights), dtype=bool)))
    assert not tiny.optimal
    assert "node limit" in tiny.status and "not proven" in tiny.status
    assert tiny.objective <= huge.objective + 1e-9
    assert tiny.upper_bound >= huge.objective - 1e-9  # a real bound, not a guess
    assert 0 < tiny.gap < 0.1
    # the easy points of the same curve are proven with either budget, and agree
    small_tiny = opt.coverage_curve(cover, weights, 4, max_nodes=1)
    small_huge = opt.coverage_curve(cover, weights, 4, max_nodes=100_000)
    proven = small_tiny["optimal"].to_numpy()
    assert proven.any()
    assert np.allclose(small_tiny["new_weight"][proven], small_huge["new_weight"][proven])


def test_spatial_instances_are_proven_at_the_root():
    """Coverage from geography has tight LP bounds: one node per MILP already proves the curve."""
    cover, weights = spatial_cover(400, 160, 1, radius=110.0)
    curve = opt.coverage_curve(cover, weights, 15, max_nodes=1)
    assert curve["optimal"].all()
    for k in (5, 15):
        assert curve.loc[k, "new_weight"] == pytest.approx(monolithic(cover, weights, k, np.zeros(400, dtype=bool)))


def test_same_answer_twice():
    cover, weights = spatial_cover(300, 120, 5, radius=120.0)
    a = opt.solve_coverage(cover, weights, k=7, k_max=10, target_share=0.5)
    b = opt.solve_coverage(cover, weights, k=7, k_max=10, target_share=0.5)
    assert a.selection.sites.tolist() == b.selection.sites.tolist()
    assert a.curve is not None and b.curve is not None
    assert a.curve["sites"].tolist() == b.curve["sites"].tolist()
    assert a.target is not None and b.target is not None and a.target.sites.tolist() == b.target.sites.tolist()


@pytest.mark.parametrize("seed", range(3))
def test_column_generation_gives_the_same_answers(monkeypatch, seed):
    """Blocks above CG_MIN_COLUMNS solve their LP over a working set, priced against every column."""
    from coverage.optimize import _lp

    cover, weights = spatial_cover(500, 300, seed, radius=100.0)
    whole = opt.coverage_curve(cover, weights, 12)
    monkeypatch.setattr(_lp, "CG_MIN_COLUMNS", 10)
    monkeypatch.setattr(_lp, "_CG_ADD", 5)
    generated = opt.coverage_curve(cover, weights, 12)
    assert whole["optimal"].all() and generated["optimal"].all()
    assert np.allclose(whole["new_weight"], generated["new_weight"])
    for k in (3, 12):
        assert generated.loc[k, "new_weight"] == pytest.approx(monolithic(cover, weights, k, np.zeros(500, bool)))


def test_duplicate_only_reduction_keeps_the_optimum(monkeypatch):
    """Past its work budget the dominance check only removes identical columns; the optimum is the same."""
    from coverage.optimize import _reduce as reduce_module

    cover, weights, already = clustered(4, clusters=3, per=20, cands=12, density=0.35)
    cover = np.hstack([cover, cover[:, :5]])  # identical copies
    full = reduce_module._dominated_columns(sp.csc_array(cover))
    monkeypatch.setattr(reduce_module, "_DOMINANCE_MAX_WORK", 0)
    dup = reduce_module._dominated_columns(sp.csc_array(cover))
    assert dup[-5:].all() and not dup[:-5].any()
    assert (full | ~dup).all()  # every duplicate is also dominated
    for k in (2, 6):
        sel = opt.max_coverage(cover, weights, k, already_covered=already)
        assert sel.optimal and sel.objective == pytest.approx(monolithic(cover, weights, k, already))


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 40), m=st.integers(1, 6), dup=st.floats(0, 0.8))
def test_hashed_grouping_equals_exact_grouping(seed, n, m, dup):
    from coverage.optimize._reduce import _identical_groups, _identical_groups_exact

    rng = np.random.default_rng(seed)
    rows = (rng.random((n, m)) < 0.4).astype(bool)
    for i in range(1, n):
        if rng.random() < dup:
            rows[i] = rows[rng.integers(0, i)]
    csr = sp.csr_array(rows)
    csr.sort_indices()
    assert (
        _identical_groups(csr.indptr, csr.indices).tolist() == _identical_groups_exact(csr.indptr, csr.indices).tolist()
    )


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 30), m=st.integers(0, 30), chunk=st.integers(1, 40))
def test_column_sums_in_chunks(seed, n, m, chunk):
    from coverage.optimize import _greedy

    rng = np.random.default_rng(seed)
    a = sp.csc_array(rng.random((n, m)) < rng.random())
    v = rng.random(n) * 100
    old = _greedy._SUM_CHUNK
    _greedy._SUM_CHUNK = chunk
    try:
        got = _greedy.column_sums(a, v)
    finally:
        _greedy._SUM_CHUNK = old
    assert np.allclose(got, a.T.astype(float) @ v)
