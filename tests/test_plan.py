from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

from coverage._errors import CoverageInputError, CoverageWarning
from coverage.assess import assess_coverage
from coverage.network import load_network, network_from_graph
from coverage.plan import build_candidates, coverage_matrix, network_candidates, plan_sites
from coverage.sites import snap_points
from tests._graphs import CRS, line_graph, points
from tests.test_assess import brute_force_nearest, demand, random_points


def test_network_candidates_spacing() -> None:
    net = network_from_graph(line_graph([100.0, 100.0]))
    cands = network_candidates(net, spacing_m=50.0)
    xs = sorted(cands.geometry.x.round(6))
    assert xs == [25.0, 75.0, 125.0, 175.0]
    assert cands["candidate_id"].is_unique
    with pytest.raises(CoverageInputError, match="spacing"):
        network_candidates(net, spacing_m=0.0)


def test_candidates_merge_near_junctions_without_chaining() -> None:
    G = line_graph([10.0, 10.0])  # two short edges: both midpoints within 25 m of each other
    net = network_from_graph(G)
    assert len(network_candidates(net, spacing_m=50.0)) == 1
    # A chain of 20 short edges: positions 10 m apart must not collapse into one.
    net = network_from_graph(line_graph([10.0] * 20))
    xs = np.sort(network_candidates(net, spacing_m=50.0).geometry.x.to_numpy())
    assert xs.size == 7  # one every 30 m: each next kept position is the first beyond 25 m
    assert np.diff(xs).min() >= 25.0


def test_exclusions_and_duplicates() -> None:
    net = network_from_graph(line_graph([100.0, 100.0]))
    zone = gpd.GeoDataFrame(geometry=[shapely.box(0, -10, 100, 10)], crs=CRS)
    cands, counts = build_candidates(net, network_spacing_m=50.0, exclude=zone)
    assert counts == {"network": 4, "excluded": 2}
    assert sorted(cands.geometry.x.round(6)) == [125.0, 175.0]
    everything = gpd.GeoDataFrame(geometry=[shapely.box(-10, -10, 300, 10)], crs=CRS)
    with pytest.raises(CoverageInputError, match="no candidate site is left"):
        build_candidates(net, network_spacing_m=50.0, exclude=everything)
    dup = points([(10.0, 0.0), (20.0, 0.0)]).assign(site_id="same")
    with pytest.raises(CoverageInputError, match="duplicate candidate site ids"):
        build_candidates(net, network_spacing_m=None, sites=dup)


def test_coverage_matrix_against_brute_force(shared_data) -> None:
    net = load_network(shared_data / "shenzhen" / "futian_walk.graphml")
    rng = np.random.default_rng(9)
    cands = random_points(net, rng, 12, "h")
    units = random_points(net, rng, 60, "d")
    cs, us = snap_points(net, cands), snap_points(net, units)
    radius = 600.0
    cover, dist = coverage_matrix(net, us, cs, radius)
    ref = np.column_stack([brute_force_nearest(net, cands.iloc[[j]], units) for j in range(len(cands))])
    assert cover.shape == (60, 12)
    assert np.array_equal(cover.toarray(), ref <= radius)
    got = dist.toarray()
    inside = ref <= radius
    assert got[inside] == pytest.approx(ref[inside], abs=1e-6)
    # Searching from the other side gives the same matrix.
    cover2, _ = coverage_matrix(net, cs, us, radius)
    assert np.array_equal(cover2.T.toarray(), cover.toarray())


def line_case():
    """Residents along a 2 km street; one hall at the west end covers the first 500 m."""
    net = network_from_graph(line_graph([500.0, 500.0, 500.0, 500.0]))
    d = demand([(x, 0.0) for x in range(50, 2000, 100)], [10.0] * 20)
    halls = points([(0.0, 0.0)])
    before = assess_coverage(net, halls, d, radius_m=500.0)
    return net, halls, before


def test_plan_closes_the_gap_and_agrees_with_the_network() -> None:
    net, halls, before = line_case()
    assert before.summary.iloc[0].covered == 50.0
    plan = plan_sites(net, halls, before, k=2, k_max=3, target_share=1.0, use_gaps=False, spacing_m=50.0)
    assert plan.selection.optimal
    assert plan.selection.objective == pytest.approx(150.0)  # two sites reach all 15 remaining units
    after = plan.after.summary.iloc[0]
    assert after.covered == pytest.approx(200.0)
    assert plan.sites["rank"].tolist() == [1, 2]
    assert plan.sites["marginal_population"].sum() == pytest.approx(150.0)
    assert plan.sites["marginal_population"].is_monotonic_decreasing
    assert plan.curve["covered_weight"].is_monotonic_increasing
    assert plan.target is not None and len(plan.target.sites) == 2
    assert "proven optimal" in plan.headline()


def test_plan_bad_inputs() -> None:
    net, halls, before = line_case()
    with pytest.raises(CoverageInputError, match=">= 0"):
        plan_sites(net, halls, before, k=-1, use_gaps=False)
    with pytest.raises(CoverageInputError, match="candidate sites"):
        plan_sites(net, halls, before, k=500, use_gaps=False, k_max=None, target_share=None)
    far = gpd.GeoDataFrame(
        {"candidate_id": ["far", "near"]}, geometry=[shapely.Point(0, 5000), shapely.Point(1500, 0)], crs=CRS
    )
    with pytest.warns(CoverageWarning, match="far"):
        plan = plan_sites(net, halls, before, k=1, candidates=far, k_max=None, target_share=None)
    assert plan.sites["candidate_id"].tolist() == ["near"]
    dup = far.assign(candidate_id="x")
    with pytest.raises(CoverageInputError, match="duplicate candidate ids"):
        plan_sites(net, halls, before, k=1, candidates=dup)


def test_target_above_reach_is_explained() -> None:
    net, halls, before = line_case()
    only = gpd.GeoDataFrame({"candidate_id": ["c"]}, geometry=[shapely.Point(1000, 0)], crs=CRS)
    plan = plan_sites(net, halls, before, k=1, candidates=only, k_max=None, target_share=1.0)
    assert plan.target is None
    assert "cannot be met" in plan.target_note


def test_everyone_covered_is_nothing_to_do() -> None:
    net = network_from_graph(line_graph([200.0]))
    before = assess_coverage(net, points([(100.0, 0.0)]), demand([(50.0, 0.0), (150.0, 0.0)]), radius_m=500.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan = plan_sites(net, points([(100.0, 0.0)]), before, k=0, use_gaps=False, k_max=2)
    assert len(plan.sites) == 0
    assert plan.selection.objective == 0.0
