from __future__ import annotations

import dataclasses
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

from coverage._errors import CoverageInputError, CoverageWarning
from coverage.assess import assess_coverage
from coverage.candidates import build_candidates
from coverage.network import network_from_graph
from coverage.plan import SitePlan, plan_sites
from tests._graphs import CRS, line_graph, points
from tests.test_assess import demand


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
    plan = plan_sites(net, halls, before, build_candidates(net, spacing_m=50.0), k=2, k_max=3, target_share=1.0)
    assert isinstance(plan, SitePlan)
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
    # The residents were not snapped again: the assessment's snapping is reused.
    assert plan.after.unit_snap is before.unit_snap


def test_plan_default_candidates_and_radius_in_minutes() -> None:
    net, halls, before = line_case()
    plan = plan_sites(net, halls, before, k=1, k_max=None, target_share=None)
    assert plan.candidates.counts["network"] > 0
    # 10 minutes at 3 km/h = 500 m: the same radius, no new assessment.
    same = plan_sites(net, halls, before, k=1, k_max=None, target_share=None, minutes=10, walk_speed_kmh=3.0)
    assert same.before is before
    assert same.selection.objective == plan.selection.objective
    # 300 m: the existing hall is assessed again at the new radius first.
    short = plan_sites(net, halls, before, k=1, k_max=None, target_share=None, radius_m=300)
    assert short.before.radius_m == 300.0
    assert short.before.summary.iloc[0].covered == 30.0
    assert short.after.radius_m == 300.0


def test_plan_halls_with_own_id_and_name_columns() -> None:
    net, halls, before = line_case()
    own = halls.rename(columns={"site_id": "code", "name": "label"})
    cands = build_candidates(net, spacing_m=100.0)
    plan = plan_sites(net, own, before, cands, k=1, k_max=None, target_share=None, id_col="code", name_col="label")
    assert plan.after.halls["site_id"].tolist()[0] == "h0"
    with pytest.raises(CoverageInputError, match="no 'site_id' column"):
        plan_sites(net, own, before, cands, k=1)


def test_plan_bad_inputs() -> None:
    net, halls, before = line_case()
    cands = build_candidates(net, spacing_m=50.0)
    with pytest.raises(CoverageInputError, match="at least 0"):
        plan_sites(net, halls, before, cands, k=-1)
    with pytest.raises(CoverageInputError, match="candidate sites"):
        plan_sites(net, halls, before, cands, k=500, k_max=None, target_share=None)
    with pytest.raises(CoverageInputError, match="Candidates result"):
        plan_sites(net, halls, before, cands.points, k=1)  # type: ignore[arg-type]
    with pytest.raises(CoverageInputError, match="group='elderly' is not in the demand"):
        plan_sites(net, halls, before, cands, k=1, group="elderly")
    with pytest.raises(CoverageInputError, match="target_share"):
        plan_sites(net, halls, before, cands, k=1, target_share=1.5)
    far = gpd.GeoDataFrame(
        {"site_id": ["far", "near"]}, geometry=[shapely.Point(0, 5000), shapely.Point(1500, 0)], crs=CRS
    )
    with pytest.warns(CoverageWarning, match="far"):
        only_near = build_candidates(net, spacing_m=None, sites=far)
    plan = plan_sites(net, halls, before, only_near, k=1, k_max=None, target_share=None)
    assert plan.sites["candidate_id"].tolist() == ["site-near"]


def test_target_above_reach_is_explained() -> None:
    net, halls, before = line_case()
    only = gpd.GeoDataFrame({"site_id": ["c"]}, geometry=[shapely.Point(1000, 0)], crs=CRS)
    plan = plan_sites(net, halls, before, build_candidates(net, spacing_m=None, sites=only), k=1, k_max=None)
    assert plan.target is None
    assert "cannot be met" in plan.target_note


def test_everyone_covered_is_nothing_to_do() -> None:
    net = network_from_graph(line_graph([200.0]))
    before = assess_coverage(net, points([(100.0, 0.0)]), demand([(50.0, 0.0), (150.0, 0.0)]), radius_m=500.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan = plan_sites(net, points([(100.0, 0.0)]), before, build_candidates(net), k=0, k_max=2)
    assert len(plan.sites) == 0
    assert plan.selection.objective == 0.0


def test_plan_with_capacity_backup_and_fairness() -> None:
    net, halls, before = line_case()
    cands = build_candidates(net, spacing_m=100.0)
    free = plan_sites(net, halls, before, cands, k=1, k_max=None, target_share=None)
    # every hall and new site serves at most 40 residents: the best single site now serves 40 more
    capped = plan_sites(
        net,
        halls.assign(cap=60.0),
        before,
        cands,
        k=1,
        k_max=None,
        target_share=None,
        capacity_col="cap",
        new_site_capacity=40.0,
    )
    sel = capped.selection
    assert sel.model == "capacitated_coverage" and sel.optimal
    assert sel.covered_before == pytest.approx(50.0)  # the hall reaches 50 residents, capacity 60
    assert sel.objective == pytest.approx(40.0)
    assert sel.extras["within_reach_after"] >= sel.covered_after
    assert free.selection.objective == pytest.approx(110.0)  # uncapped: 11 units of 10 within 500 m
    # halls counting visits: 60 visits a day at 2 visits per resident serve 30 residents
    visits = plan_sites(
        net,
        halls.assign(cap=60.0),
        before,
        cands,
        k=1,
        k_max=None,
        target_share=None,
        capacity_col="cap",
        visits_per_resident=2.0,
        new_site_capacity=40.0,
    )
    assert visits.selection.covered_before == pytest.approx(30.0)
    backup = plan_sites(net, halls, before, cands, k=2, k_max=None, target_share=None, backup=True)
    assert backup.selection.model == "backup_coverage" and backup.selection.optimal
    assert backup.selection.objective == pytest.approx(150.0)  # coverage first: the same as plain coverage
    with pytest.raises(CoverageInputError, match="choose one model"):
        plan_sites(net, halls, before, cands, k=1, backup=True, new_site_capacity=10.0)
    with pytest.raises(CoverageInputError, match="fairness_col='community'"):
        plan_sites(net, halls, before, cands, k=1, k_max=None, target_share=None, fairness_col="community")
    with pytest.raises(CoverageInputError, match="capacity_col='seats'"):
        plan_sites(net, halls, before, cands, k=1, k_max=None, target_share=None, capacity_col="seats")


def test_plan_max_min_lifts_the_worst_community() -> None:
    net, halls, before = line_case()
    west = before.units.geometry.x.to_numpy() < 1000
    units = before.units.assign(community=np.where(west, "west", "east"))
    before_grouped = dataclasses.replace(before, units=units)
    cands = build_candidates(net, spacing_m=100.0)
    fair = plan_sites(net, halls, before_grouped, cands, k=1, k_max=None, target_share=None, fairness_col="community")
    sel = fair.selection
    assert sel.model == "max_min_coverage" and sel.optimal
    # west is half covered by the hall, east not at all: the one new site must go east
    assert sel.extras["worst_share_before"] == 0.0
    assert sel.extras["worst_share_after"] > 0.0
    assert fair.sites.geometry.x.iloc[0] > 1000
