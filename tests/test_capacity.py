"""Capacity allocation against networkx min-cost max-flow; backup coverage against brute force."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage._errors import CoverageInputError
from coverage._pairs import as_pairs
from coverage.backup import backup_coverage
from coverage.capacity import allocate_capacity


def _instance(seed: int, n_units: int = 25, n_halls: int = 6, density: float = 0.3):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_units, n_halls)) < density
    i, j = np.nonzero(mask)
    d = rng.integers(10, 900, size=i.size).astype(float)
    pop = rng.integers(0, 120, size=n_units).astype(float)
    cap = rng.integers(0, 400, size=n_halls).astype(float)
    return as_pairs(i, j, d, n_demand=n_units, n_supply=n_halls), pop, cap


def _networkx(pairs, pop, cap):
    """Second formulation: min-cost maximum flow source -> units -> halls -> sink."""
    g = nx.DiGraph()
    for u in range(pairs.n_demand):
        g.add_edge("s", ("u", u), capacity=int(pop[u]), weight=0)
    for h in range(pairs.n_supply):
        g.add_edge(("h", h), "t", capacity=int(cap[h]), weight=0)
    for u, h, d in zip(pairs.demand, pairs.supply, pairs.distance_m, strict=True):
        g.add_edge(("u", int(u)), ("h", int(h)), weight=int(d))
    flow = nx.max_flow_min_cost(g, "s", "t")
    served = sum(flow["s"][v] for v in flow["s"])
    return served, nx.cost_of_flow(g, flow)


@pytest.mark.parametrize("seed", range(8))
def test_equal_to_networkx_min_cost_max_flow(seed):
    pairs, pop, cap = _instance(seed)
    got = allocate_capacity(pairs, pop, cap)
    served, cost = _networkx(pairs, pop, cap)
    assert got.served == pytest.approx(served, abs=1e-6)
    assert got.total_distance_m == pytest.approx(cost, rel=1e-9, abs=1e-4)
    # Invariants: nobody served twice, no hall over capacity, totals add up.
    assert np.all(got.units["served"] <= pop + 1e-6)
    assert np.all(got.halls["load"] <= cap + 1e-6)
    assert got.served + got.over_capacity + got.out_of_reach == pytest.approx(pop.sum())
    # Flows are integral for integer data (a transportation problem has integral vertices).
    assert np.allclose(got.flows["residents"], np.round(got.flows["residents"]), atol=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_never_full_halls_and_long_augmenting_paths_match_networkx(seed):
    """Halls whose capacity covers everyone in reach (fixed to the nearest first) next to binding ones, more halls."""
    pairs, pop, cap = _instance(100 + seed, n_units=40, n_halls=12, density=0.35)
    rng = np.random.default_rng(seed)
    cap = np.where(rng.random(cap.size) < 0.4, cap * 6, cap)  # some halls can never be full
    got = allocate_capacity(pairs, pop, cap)
    served, cost = _networkx(pairs, pop, cap)
    assert got.served == pytest.approx(served, abs=1e-6)
    assert got.total_distance_m == pytest.approx(cost, rel=1e-9, abs=1e-4)
    assert np.all(got.halls["load"] <= cap + 1e-6)


def test_greedy_nearest_would_strand_residents():
    """Unit 0 can use hall 0 or 1, unit 1 only hall 0. Nearest-first sends unit 0 to hall 0 and strands unit 1."""
    pairs = as_pairs([0, 0, 1], [0, 1, 0], [50.0, 400.0, 100.0], n_demand=2, n_supply=2)
    got = allocate_capacity(pairs, [10, 10], [10, 10])
    assert got.served == pytest.approx(20)
    assert got.total_distance_m == pytest.approx(10 * 400 + 10 * 100)
    assert got.halls["full"].tolist() == [True, True]


def test_over_capacity_and_out_of_reach():
    pairs = as_pairs([0, 1], [0, 0], [100.0, 200.0], n_demand=3, n_supply=1)
    got = allocate_capacity(pairs, [30, 30, 7], [40])
    assert (got.served, got.over_capacity, got.out_of_reach) == pytest.approx((40, 20, 7))
    units = got.units.set_index("demand")
    assert units.loc[0, "served"] == pytest.approx(30)  # the nearer unit first
    assert units.loc[2, "out_of_reach"] == 7
    assert got.halls.loc[0, "population_within"] == 60
    assert "over capacity" in repr(got)


def test_visits_per_resident_and_radius():
    pairs = as_pairs([0, 1], [0, 0], [100.0, 700.0], n_demand=2, n_supply=1)
    # 20 visits a day at 0.5 visits per resident per day: 40 residents.
    got = allocate_capacity(pairs, [30, 30], [20], visits_per_resident=0.5)
    assert got.halls.loc[0, "capacity_residents"] == 40
    assert got.halls.loc[0, "capacity_visits"] == 20
    assert got.served == pytest.approx(40)
    near = allocate_capacity(pairs, [30, 30], [20], visits_per_resident=0.5, radius_m=500)
    assert near.served == pytest.approx(30)
    assert near.out_of_reach == pytest.approx(30)


def test_unlimited_capacity_serves_everyone_within_reach_at_the_nearest_hall():
    pairs, pop, cap = _instance(3)
    got = allocate_capacity(pairs, pop, np.full(cap.size, np.inf))
    assert got.over_capacity == pytest.approx(0)
    nearest = {}
    for u, d in zip(pairs.demand, pairs.distance_m, strict=True):
        nearest[int(u)] = min(nearest.get(int(u), math.inf), d)
    assert got.total_distance_m == pytest.approx(sum(pop[u] * d for u, d in nearest.items()))


def test_empty_and_bad_input():
    empty = as_pairs(np.empty(0, int), np.empty(0, int), [], n_demand=2, n_supply=1)
    got = allocate_capacity(empty, [5, 5], [10])
    assert (got.served, got.out_of_reach) == (0.0, 10.0)
    pairs = as_pairs([0], [0], [1.0], n_demand=1, n_supply=1)
    with pytest.raises(CoverageInputError, match="one per hall"):
        allocate_capacity(pairs, [1], [1, 2])
    with pytest.raises(CoverageInputError, match=">= 0"):
        allocate_capacity(pairs, [-1], [1])
    with pytest.raises(CoverageInputError, match="visits a day"):
        allocate_capacity(pairs, [1], [1], visits_per_resident=0)


def _brute_backup(rows, pop, radius, k):
    counts = [len({h for (u, h, d) in rows if u == i and d <= radius}) for i in range(len(pop))]
    return (
        sum(p for p, c in zip(pop, counts, strict=True) if c >= 1),
        sum(p for p, c in zip(pop, counts, strict=True) if c >= k),
        counts,
    )


@given(
    st.lists(
        st.tuples(st.integers(0, 7), st.integers(0, 4), st.floats(0, 1000)), max_size=30, unique_by=lambda r: r[:2]
    ),
    st.lists(st.floats(0, 500), min_size=8, max_size=8),
    st.floats(1, 1000),
    st.integers(1, 3),
)
@settings(max_examples=25)
def test_backup_matches_brute_force(rows, pop, radius, k):
    pairs = (
        as_pairs([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], n_demand=8, n_supply=5)
        if rows
        else as_pairs(np.empty(0, int), np.empty(0, int), [], n_demand=8, n_supply=5)
    )
    got = backup_coverage(pairs, pop, radius_m=radius, min_sites=k)
    covered, backup, counts = _brute_backup(rows, pop, radius, k)
    assert got.covered == pytest.approx(covered)
    assert got.backup == pytest.approx(backup)
    assert got.halls_within.tolist() == counts
    assert sum(got.by_count.values()) == pytest.approx(sum(pop))
    assert "backup" in repr(got)


def _two_step_linprog(pairs, pop, cap):
    """The former formulation as a second solver: maximise served, then minimise walking at that total."""
    import scipy.sparse as sp
    from scipy.optimize import linprog

    n = len(pairs)
    cols = np.arange(n)
    a = sp.vstack([sp.csr_matrix((np.ones(n), (pairs.demand, cols)), shape=(pairs.n_demand, n)),
                   sp.csr_matrix((np.ones(n), (pairs.supply, cols)), shape=(pairs.n_supply, n))], format="csr")
    b = np.concatenate([pop, cap])
    first = linprog(-np.ones(n), A_ub=a, b_ub=b, bounds=(0, None), method="highs")
    served = -first.fun
    a2 = sp.vstack([a, -sp.csr_matrix(np.ones((1, n)))], format="csr")
    second = linprog(pairs.distance_m, A_ub=a2, b_ub=np.concatenate([b, [-served]]), bounds=(0, None), method="highs")
    return served, second.fun


@pytest.mark.parametrize("seed", range(4))
def test_fractional_populations_match_the_two_step_lp(seed):
    """Bigger instances with fractional people and capacities (street-spread demand): same optimum as two LPs."""
    pairs, _, _ = _instance(200 + seed, n_units=400, n_halls=40, density=0.08)
    rng = np.random.default_rng(seed)
    pop = rng.uniform(0, 80, size=pairs.n_demand)
    cap = rng.uniform(50, 900, size=pairs.n_supply)
    got = allocate_capacity(pairs, pop, cap)
    served, walk = _two_step_linprog(pairs, pop, cap)
    assert got.served == pytest.approx(served, rel=1e-9)
    assert got.total_distance_m == pytest.approx(walk, rel=1e-7)
