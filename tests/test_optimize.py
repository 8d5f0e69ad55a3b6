"""Tests for coverage.optimize: oracles are spopt (PuLP/CBC) and brute force."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage import optimize as opt
from coverage._errors import CoverageInputError, CoverageWarning

# --------------------------------------------------------------------------- instances


def spatial_instance(
    n_demand: int, n_candidates: int, seed: int, *, per_candidate: float = 6.0
) -> tuple[np.ndarray, np.ndarray, float]:
    """Random points in a 1 km square; cost = straight-line metres; ~per_candidate units per site."""
    rng = np.random.default_rng(seed)
    demand = rng.random((n_demand, 2)) * 1000.0
    cand = rng.random((n_candidates, 2)) * 1000.0
    cost = np.sqrt(((demand[:, None, :] - cand[None, :, :]) ** 2).sum(axis=-1))
    radius = 1000.0 * math.sqrt(per_candidate / (n_demand * math.pi))
    weights = rng.integers(1, 2000, n_demand).astype(float)
    return cost, weights, radius


def random_cover(n_demand: int, n_candidates: int, per_candidate: float, seed: int) -> sp.csc_array:
    """Unstructured random coverage matrix: hard for MILP, good for the time-limit path."""
    rng = np.random.default_rng(seed)
    mat = sp.random_array((n_demand, n_candidates), density=per_candidate / n_demand, rng=rng, format="csc")
    return sp.csc_array(mat.astype(bool))


def brute_force(cover: np.ndarray, weights: np.ndarray, k: int, already: np.ndarray) -> float:
    best = 0.0
    for combo in itertools.combinations(range(cover.shape[1]), k):
        covered = cover[:, list(combo)].any(axis=1) & ~already
        best = max(best, float(weights[covered].sum()))
    return best


def brute_fewest(cover: np.ndarray, weights: np.ndarray, needed: float, already: np.ndarray) -> int:
    for size in range(cover.shape[1] + 1):
        for combo in itertools.combinations(range(cover.shape[1]), size):
            covered = cover[:, list(combo)].any(axis=1) & ~already
            if float(weights[covered].sum()) >= needed - 1e-9:
                return size
    raise AssertionError("unreachable target in brute force")


def solve_spopt_mclp(cost, weights, radius, p, predefined=None) -> float:
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PuLP 3.3 -> 4.0 API notices
        model = locate.MCLP.from_cost_matrix(cost, weights, radius, p, predefined_facilities_arr=predefined).solve(
            pulp.PULP_CBC_CMD(msg=False)
        )
    return float(model.problem.objective.value())


def solve_spopt_lscp(cost, radius, predefined=None) -> float:
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model = locate.LSCP.from_cost_matrix(cost, radius, predefined_facilities_arr=predefined).solve(
            pulp.PULP_CBC_CMD(msg=False)
        )
    return float(model.problem.objective.value())


def check_selection(sel: opt.SiteSelection, k: int | None = None) -> None:
    """Invariants every selection satisfies."""
    if k is not None:
        assert sel.k == k
    assert len(set(sel.sites.tolist())) == sel.k
    assert sel.marginal_weight.shape == sel.sites.shape
    assert sel.marginal_weight.sum() == pytest.approx(sel.objective, rel=1e-9, abs=1e-9)
    assert np.all(np.diff(sel.marginal_weight) <= 1e-9)  # build order: gains never rise
    assert sel.covered_after == pytest.approx(sel.covered_before + sel.objective)
    assert sel.gap >= 0
    if sel.sites_lower_bound is None:
        assert sel.upper_bound >= sel.objective - 1e-9
    if sel.optimal:
        assert sel.gap == 0


# --------------------------------------------------------------------------- spopt oracle


@pytest.mark.parametrize(
    ("n_demand", "n_candidates", "seed"),
    [(30, 10, 0), (200, 60, 1), pytest.param(500, 150, 2, marks=pytest.mark.slow)],
)
@pytest.mark.parametrize(("p", "predefined"), [(1, None), (4, None), (6, [0, 3])])
def test_mclp_matches_spopt(n_demand, n_candidates, seed, p, predefined):
    cost, weights, radius = spatial_instance(n_demand, n_candidates, seed)
    expected = solve_spopt_mclp(cost, weights, radius, p, None if predefined is None else np.array(predefined))
    sel = opt.from_cost_matrix(cost, weights, radius, p, predefined_facilities_arr=predefined)
    assert sel.optimal
    assert sel.method in {"milp-highs", "lp-highs", "greedy+swap", "none"}
    # spopt's p counts predefined facilities, and its objective includes their coverage
    assert sel.k == p - (0 if predefined is None else len(predefined))
    assert sel.covered_after == pytest.approx(expected, rel=1e-9)
    assert sorted(sel.fixed_sites.tolist()) == sorted(predefined or [])
    assert not set(sel.sites.tolist()) & set(predefined or [])
    check_selection(sel)


def test_mclp_spopt_style_mask_matches_indices():
    cost, weights, radius = spatial_instance(200, 60, 5)
    mask = np.zeros(60, dtype=int)
    mask[[2, 7]] = 1
    expected = solve_spopt_mclp(cost, weights, radius, 5, mask)
    by_mask = opt.from_cost_matrix(cost, weights, radius, 5, predefined_facilities_arr=mask)
    by_index = opt.from_cost_matrix(cost, weights, radius, 5, predefined_facilities_arr=[2, 7])
    by_bool = opt.from_cost_matrix(cost, weights, radius, 5, predefined_facilities_arr=mask.astype(bool))
    assert by_mask.fixed_sites.tolist() == [2, 7]
    for sel in (by_mask, by_index, by_bool):
        assert sel.covered_after == pytest.approx(expected, rel=1e-9)


def test_mclp_greedy_within_bound_of_spopt():
    cost, weights, radius = spatial_instance(500, 150, 3)
    expected = solve_spopt_mclp(cost, weights, radius, 8)
    sel = opt.from_cost_matrix(cost, weights, radius, 8, method="greedy")
    assert sel.method in {"greedy+swap", "lp-highs", "none"}
    assert sel.covered_after <= expected + 1e-6
    assert sel.covered_before + sel.upper_bound >= expected - 1e-6
    check_selection(sel, 8)


@pytest.mark.parametrize(
    ("n_demand", "n_candidates", "seed"),
    [(30, 10, 10), (200, 60, 11), pytest.param(500, 150, 12, marks=pytest.mark.slow)],
)
@pytest.mark.parametrize("predefined", [None, [1, 4]])
def test_lscp_matches_spopt(n_demand, n_candidates, seed, predefined):
    cost, _, radius = spatial_instance(n_demand, n_candidates, seed, per_candidate=40)
    coverable = (cost <= radius).any(axis=1)
    cost = cost[coverable]  # spopt's LSCP is infeasible with uncoverable demand
    expected = solve_spopt_lscp(cost, radius, None if predefined is None else np.array(predefined))
    sel = opt.lscp_from_cost_matrix(cost, radius, predefined_facilities_arr=predefined)
    assert sel.optimal
    assert sel.model == "full_coverage"
    # spopt's objective counts the predefined facilities too
    assert sel.k + sel.fixed_sites.size == pytest.approx(expected)
    assert sel.covered_after == pytest.approx(sel.total_weight)
    check_selection(sel)


def test_lscp_warns_about_uncoverable_demand():
    cost = np.array([[100.0, 900.0], [800.0, 200.0], [900.0, 950.0], [np.inf, np.inf]])
    with pytest.warns(CoverageWarning, match=r"2 demand unit\(s\) \(rows \[2, 3\]"):
        sel = opt.lscp_from_cost_matrix(cost, 500.0)
    assert sel.sites.tolist() == [0, 1]
    assert "out of every candidate's reach" in sel.status
    assert sel.covered_after == 2.0
    assert sel.total_weight == 4.0


# --------------------------------------------------------------------------- brute force


def small_problem(seed: int, n_demand: int = 25, n_candidates: int = 11):
    rng = np.random.default_rng(seed)
    cover = rng.random((n_demand, n_candidates)) < 0.2
    weights = rng.integers(0, 50, n_demand).astype(float)
    already = rng.random(n_demand) < 0.15
    return cover, weights, already


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [0, 1, 2, 3, 5])
def test_max_coverage_matches_brute_force(seed, k):
    cover, weights, already = small_problem(seed)
    expected = brute_force(cover, weights, k, already)
    exact = opt.max_coverage(sp.csc_array(cover), weights, k, already_covered=already)
    assert exact.optimal
    assert exact.objective == pytest.approx(expected)
    check_selection(exact, k)
    greedy = opt.max_coverage(cover, weights, k, already_covered=already, method="greedy")
    assert greedy.objective <= expected + 1e-9
    assert greedy.upper_bound >= expected - 1e-9
    check_selection(greedy, k)


@pytest.mark.parametrize("seed", range(4))
def test_target_coverage_matches_brute_force(seed):
    cover, weights, already = small_problem(seed, n_demand=20, n_candidates=10)
    total = weights.sum()
    share = opt.reachable_share(cover, weights, already_covered=already)
    target = 0.9 * share
    sel = opt.target_coverage(cover, weights, target_share=target, already_covered=already)
    needed = target * total - weights[already].sum()
    assert sel.k == brute_fewest(cover, weights, needed, already)
    assert sel.optimal
    assert sel.sites_lower_bound == sel.k
    assert math.isnan(sel.upper_bound)
    assert sel.covered_after >= target * total - 1e-6
    check_selection(sel)


@pytest.mark.parametrize("seed", range(4))
def test_full_coverage_matches_brute_force(seed):
    cover, _, already = small_problem(seed, n_demand=20, n_candidates=10)
    rows = cover.any(axis=1) & ~already
    fewest = brute_fewest(cover, rows.astype(float), float(rows.sum()), already)
    uncoverable = ~cover.any(axis=1) & ~already
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CoverageWarning)
        sel = opt.full_coverage(cover, already_covered=already)
    assert len(caught) == int(uncoverable.any())
    assert sel.k == fewest
    assert sel.optimal and sel.sites_lower_bound == fewest
    covered = cover[:, sel.sites].any(axis=1)
    assert covered[rows].all()


# --------------------------------------------------------------------------- properties


@st.composite
def problems(draw):
    n_demand = draw(st.integers(1, 14))
    n_candidates = draw(st.integers(1, 7))
    cells = draw(st.lists(st.booleans(), min_size=n_demand * n_candidates, max_size=n_demand * n_candidates))
    cover = np.array(cells, dtype=bool).reshape(n_demand, n_candidates)
    weights = np.array(draw(st.lists(st.integers(0, 30), min_size=n_demand, max_size=n_demand)), float)
    if weights.sum() == 0:
        weights[0] = 1.0
    already = np.array(draw(st.lists(st.booleans(), min_size=n_demand, max_size=n_demand)), dtype=bool)
    k = draw(st.integers(0, n_candidates))
    return cover, weights, already, k


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_properties(problem):
    cover, weights, already, k = problem
    reduced = opt.max_coverage(cover, weights, k, already_covered=already)
    plain = opt.max_coverage(cover, weights, k, already_covered=already, reduce=False)
    greedy = opt.max_coverage(cover, weights, k, already_covered=already, method="greedy")
    expected = brute_force(cover, weights, k, already)
    assert reduced.objective == pytest.approx(expected)
    assert plain.objective == pytest.approx(expected)
    assert reduced.optimal and plain.optimal
    assert greedy.objective <= reduced.objective + 1e-9
    assert greedy.upper_bound >= reduced.objective - 1e-9
    for sel in (reduced, plain, greedy):
        check_selection(sel, k)
    curve = opt.coverage_curve(cover, weights, k, already_covered=already)
    assert np.all(np.diff(curve["covered_weight"].to_numpy()) >= 0)
    assert curve["covered_weight"].iloc[-1] == pytest.approx(reduced.covered_after)


@st.composite
def fewest_problems(draw):
    cover, weights, already, _ = draw(problems())
    share = draw(st.floats(0.0, 1.0))
    return cover, weights, already, share


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fewest_problems())
def test_fewest_sites_properties(problem):
    cover, weights, already, fraction = problem
    total = weights.sum()
    target = fraction * opt.reachable_share(cover, weights, already_covered=already)
    sel = opt.target_coverage(cover, weights, target_share=target, already_covered=already)
    needed = target * total - weights[already].sum()
    expected = 0 if needed <= 1e-9 * total else brute_fewest(cover, weights, needed, already)
    assert sel.k == expected
    assert sel.optimal
    assert sel.covered_after >= target * total - 1e-6 * total
    check_selection(sel)
    rows = cover.any(axis=1) & ~already
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)  # uncoverable rows are expected here
        full = opt.full_coverage(cover, weights, already_covered=already)
    assert full.k == brute_fewest(cover, rows.astype(float), float(rows.sum()), already)
    assert cover[:, full.sites].any(axis=1)[rows].all()


# --------------------------------------------------------------------------- curve


def test_coverage_curve_exact_and_greedy():
    cost, weights, radius = spatial_instance(500, 150, 7)
    cover = sp.csc_array(cost <= radius)
    already = cover[:, :5].toarray().any(axis=1)
    curve = opt.coverage_curve(cover, weights, 12, already_covered=already)
    assert list(curve.columns[:7]) == [
        "k",
        "covered_weight",
        "covered_share",
        "upper_bound",
        "gap",
        "optimal",
        "time_s",
    ]
    assert curve["k"].tolist() == list(range(13))
    assert np.all(np.diff(curve["covered_weight"].to_numpy()) >= 0)
    assert curve["optimal"].all()
    assert curve["covered_weight"].iloc[0] == pytest.approx(weights[already].sum())
    for k in (3, 12):
        sel = opt.max_coverage(cover, weights, k, already_covered=already)
        assert curve["covered_weight"].iloc[k] == pytest.approx(sel.covered_after)
        assert len(curve["sites"].iloc[k]) == k
    greedy = opt.coverage_curve(cover, weights, 12, already_covered=already, method="greedy")
    assert np.all(np.diff(greedy["covered_weight"].to_numpy()) >= 0)
    assert np.all(greedy["covered_weight"] <= curve["covered_weight"] + 1e-6)
    assert np.all(greedy["upper_bound"] >= curve["covered_weight"] - 1e-6)
    assert curve["covered_share"].iloc[-1] == pytest.approx(curve["covered_weight"].iloc[-1] / weights.sum())


def test_curve_past_useful_candidates_fills_with_lowest_index():
    # candidates 1 and 2 duplicate 0; 3 is a subset of 4: only 0 and 4 are useful
    cover = np.array([[1, 1, 1, 0, 0], [0, 0, 0, 1, 1], [0, 0, 0, 0, 1]], dtype=bool)
    weights = np.array([5.0, 3.0, 2.0])
    sel = opt.max_coverage(cover, weights, 4)
    assert sel.sites.tolist() == [0, 4, 1, 2]
    assert sel.marginal_weight.tolist() == [5.0, 5.0, 0.0, 0.0]
    assert sel.optimal and sel.n_reduced_candidates == 2
    curve = opt.coverage_curve(cover, weights, 5)
    assert curve["covered_weight"].tolist() == [0.0, 5.0, 10.0, 10.0, 10.0, 10.0]


# --------------------------------------------------------------------------- time limit, trivial cases


def test_time_limit_returns_best_solution_with_gap():
    cover = random_cover(1000, 1500, 30, seed=3)
    weights = np.random.default_rng(3).integers(100, 3000, 1000).astype(float)
    sel = opt.max_coverage(cover, weights, 25, time_limit_s=0.05)
    check_selection(sel, 25)
    assert not sel.optimal
    assert sel.gap > 0
    assert "safety time limit" in sel.status and "machine speed" in sel.status
    target = opt.target_coverage(cover, weights, target_share=0.9, time_limit_s=0.05)
    assert target.covered_after >= 0.9 * target.total_weight - 1e-6
    assert target.gap >= 0
    assert target.sites_lower_bound is not None and target.sites_lower_bound <= target.k


def test_curve_stays_monotone_under_time_limit():
    cover = random_cover(600, 900, 30, seed=8)
    weights = np.random.default_rng(8).integers(100, 3000, 600).astype(float)
    curve = opt.coverage_curve(cover, weights, 6, time_limit_s=0.02)
    assert np.all(np.diff(curve["covered_weight"].to_numpy()) >= 0)
    assert (curve["gap"] >= 0).all()
    assert (curve["upper_bound"] >= curve["covered_weight"] - 1e-6).all()
    assert curve["status"].iloc[1:].str.contains("time limit|optimal").all()


def test_greedy_proven_optimal_by_lp_bound():
    cover = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)
    sel = opt.max_coverage(cover, [1.0, 2.0, 3.0], 1, method="greedy")
    assert sel.sites.tolist() == [1]
    assert sel.optimal and sel.gap == 0 and sel.upper_bound == 5.0


def test_everything_covered_is_nothing_to_do():
    cover = np.array([[1, 0], [0, 1]], dtype=bool)
    weights = [4.0, 6.0]
    target = opt.target_coverage(cover, weights, target_share=0.95, already_covered=[True, True])
    assert target.k == 0 and target.method == "none" and target.optimal
    assert "already met" in target.status
    full = opt.full_coverage(cover, weights, already_covered=[True, True])
    assert full.k == 0 and full.method == "none"
    sel = opt.max_coverage(cover, weights, 2, already_covered=[True, True])
    assert sel.k == 2 and sel.objective == 0 and sel.optimal and sel.method == "none"
    assert sel.covered_share_after == 1.0
    base = opt.max_coverage(cover, weights, 0)
    assert base.k == 0 and base.objective == 0 and base.optimal


def test_target_beyond_reach_raises_with_reachable_share():
    cover = np.array([[1, 0], [0, 1], [0, 0], [0, 0]], dtype=bool)
    weights = [40.0, 40.0, 15.0, 5.0]
    assert opt.reachable_share(cover, weights) == pytest.approx(0.8)
    with pytest.raises(CoverageInputError, match=r"80\.0000%.*2 demand units with weight 20"):
        opt.target_coverage(cover, weights, target_share=0.95)
    sel = opt.target_coverage(cover, weights, target_share=0.8)
    assert sel.k == 2 and sel.covered_share_after == pytest.approx(0.8)


def test_repr_and_html():
    cover = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)
    sel = opt.max_coverage(cover, [5.0, 1.0, 2.0], 2)
    text = repr(sel)
    assert "SiteSelection(2 new site(s), optimal)" in text
    assert "build order" in text
    assert "milp-highs" in text or "none" in text
    page = sel._repr_html_()
    assert page.startswith("<div>") and "Build order" in page
    frame = sel.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert frame["cumulative_weight"].iloc[-1] == pytest.approx(sel.objective)
    with pytest.raises(ValueError, match="read-only"):
        sel.sites[0] = 3


# --------------------------------------------------------------------------- bad inputs


COVER = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]], dtype=bool)
WEIGHTS = np.array([1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": [1.0, 2.0]}, r"shape \(2,\).*3 demand rows"),
        ({"weights": [1.0, -2.0, 3.0]}, r"negative value.*rows \[1\]"),
        ({"weights": [1.0, np.nan, 3.0]}, r"NaN.*rows \[1\]"),
        ({"weights": [0.0, 0.0, 0.0]}, r"sum to 0"),
        (
            {"cover": np.array([[1, 0, 2], [0, 1, 0], [1, 1, 0]])},
            r"non-boolean entry \(2\) at demand row 0, candidate column 2",
        ),
        (
            {"cover": np.array([[1, 0, 0], [0, -1, 0], [1, 1, 0]])},
            r"negative entry.*row 1, candidate column 1",
        ),
        ({"cover": np.array([[1.0, 0, np.nan], [0, 1, 0], [1, 1, 0]])}, r"NaN at demand row 0"),
        ({"cover": np.array([1, 0, 1], dtype=bool)}, r"must be 2-D"),
        ({"k": -1}, r"k must be >= 0"),
        ({"k": 4}, r"k=4 is more than the 3 candidate sites"),
        ({"k": 1.5}, r"whole number"),
        ({"already_covered": [True, False]}, r"already_covered has shape \(2,\)"),
        ({"already_covered": [0, 2, 1]}, r"boolean mask.*value 2 at row 1"),
        ({"method": "fast"}, r"method must be 'exact'"),
        ({"time_limit_s": 0}, r"time_limit_s must be > 0"),
    ],
)
def test_max_coverage_bad_inputs(kwargs, message):
    args = {"cover": COVER, "weights": WEIGHTS, "k": 1} | kwargs
    cover, weights, k = args.pop("cover"), args.pop("weights"), args.pop("k")
    with pytest.raises(CoverageInputError, match=message):
        opt.max_coverage(cover, weights, k, **args)


def test_sparse_cover_bad_entries():
    bad = sp.csc_array(np.array([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(CoverageInputError, match=r"non-boolean entry \(0\.5\) at demand row 0, candidate column 1"):
        opt.max_coverage(bad, [1.0, 1.0], 1)


COST = np.array([[100.0, 600.0, np.inf], [700.0, 200.0, 300.0], [50.0, np.inf, 800.0]])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"predefined_facilities_arr": [1, 1]}, r"candidate\(s\) \[1\] more than once"),
        ({"predefined_facilities_arr": [0, 5]}, r"out-of-range index 5 at position 1"),
        ({"predefined_facilities_arr": [-1]}, r"out-of-range index -1"),
        ({"predefined_facilities_arr": [True, False]}, r"boolean mask of length 2 but there are 3"),
        ({"predefined_facilities_arr": [0.0, 1.0]}, r"dtype float64"),
        (
            {"predefined_facilities_arr": [0, 1], "p_facilities": 1},
            r"fewer than the 2 predefined.*p_facilities >= 2",
        ),
        ({"p_facilities": 4}, r"p_facilities=4 is more than the 3 candidate columns"),
        ({"cost_matrix": np.where(COST == 50.0, np.nan, COST)}, r"NaN.*row 2, candidate column 0"),
        ({"cost_matrix": np.where(COST == 50.0, -5.0, COST)}, r"negative value.*row 2, candidate column 0"),
        ({"service_radius": -1.0}, r"service_radius must be finite and >= 0"),
        ({"weights": [1.0, 2.0, 3.0, 4.0]}, r"shape \(4,\)"),
    ],
)
def test_from_cost_matrix_bad_inputs(kwargs, message):
    args = {
        "cost_matrix": COST,
        "weights": [1.0, 2.0, 3.0],
        "service_radius": 500.0,
        "p_facilities": 2,
    } | kwargs
    with pytest.raises(CoverageInputError, match=message):
        opt.from_cost_matrix(
            args.pop("cost_matrix"),
            args.pop("weights"),
            args.pop("service_radius"),
            args.pop("p_facilities"),
            **args,
        )


def test_target_share_out_of_range():
    with pytest.raises(CoverageInputError, match="between 0 and 1"):
        opt.target_coverage(COVER, WEIGHTS, target_share=95)


def test_errors_are_value_errors():
    with pytest.raises(ValueError, match="k must be"):
        opt.max_coverage(COVER, WEIGHTS, -2)


def test_deterministic_ties_lowest_index():
    cover = np.eye(4, dtype=bool)
    sel = opt.max_coverage(cover, np.ones(4), 2, method="greedy")
    assert sel.sites.tolist() == [0, 1]
    again = opt.max_coverage(cover, np.ones(4), 2)
    assert again.objective == 2.0
    assert opt.max_coverage(cover, np.ones(4), 2).sites.tolist() == again.sites.tolist()
