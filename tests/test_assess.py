from __future__ import annotations

import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage._errors import CoverageInputError, CoverageWarning
from coverage.assess import assess_coverage
from coverage.network import WalkNetwork, load_network, network_from_graph
from coverage.sites import snap_points
from tests._graphs import CRS, line_graph, points
from tests.test_service_areas import base_graph, grid_network


def demand(
    xy: list[tuple[float, float]], pop: list[float] | None = None, group: str = "residents"
) -> gpd.GeoDataFrame:
    pop = pop if pop is not None else [10.0] * len(xy)
    return gpd.GeoDataFrame(
        {
            "demand_id": [f"d{i}" for i in range(len(xy))],
            "group": group,
            "population": pop,
            "estimate": False,
        },
        geometry=[shapely.Point(x, y) for x, y in xy],
        crs=CRS,
    )


def test_statuses_on_a_line() -> None:
    net = network_from_graph(line_graph([300.0, 300.0, 300.0]))
    res = assess_coverage(
        net, points([(0.0, 0.0)]), demand([(100.0, 5.0), (600.0, 0.0), (450.0, 0.0)]), radius_m=500.0
    )
    u = res.units
    assert u["distance_m"].tolist() == pytest.approx([105.0, 600.0, 450.0])
    assert u["status"].astype(str).tolist() == ["covered", "uncovered", "covered"]
    assert u["halls_within"].tolist() == [1, 0, 1]
    assert u["nearest_site"].tolist() == ["h0", "h0", "h0"]
    s = res.summary.iloc[0]
    assert (s.covered, s.uncovered, s.unreachable, s.total) == (20.0, 10.0, 0.0, 30.0)


def test_same_edge_is_walked_directly() -> None:
    # Hall and resident on the same 1 km edge, 50 m apart: an endpoint-only
    # formula would say 400+ m; the exact answer is 50 m.
    net = network_from_graph(line_graph([1000.0]))
    res = assess_coverage(net, points([(450.0, 0.0)]), demand([(500.0, 0.0)]), radius_m=100.0)
    assert res.units["distance_m"].tolist() == pytest.approx([50.0])
    assert res.units["status"].astype(str).tolist() == ["covered"]


def test_unreachable_far_and_island_without_hall() -> None:
    G = line_graph([100.0])
    G.add_node(10, x=0.0, y=1000.0)
    G.add_node(11, x=50.0, y=1000.0)
    G.add_edge(10, 11, length=50.0, highway="footway")
    net = network_from_graph(G, largest_only=False)
    with pytest.warns(CoverageWarning, match="too far"):
        res = assess_coverage(
            net, points([(0.0, 0.0)]), demand([(50.0, 0.0), (20.0, 1000.0), (0.0, 5000.0)]), radius_m=500.0
        )
    assert res.units["status"].astype(str).tolist() == ["covered", "unreachable", "unreachable"]
    s = res.summary.iloc[0]
    assert s.units_unreachable == 2
    assert s.covered + s.uncovered + s.unreachable == s.total


def test_redundancy_and_per_hall_tables() -> None:
    net = network_from_graph(line_graph([100.0, 100.0]))
    res = assess_coverage(
        net, points([(0.0, 0.0), (200.0, 0.0)]), demand([(90.0, 0.0), (150.0, 0.0)], [5.0, 7.0]), radius_m=150.0
    )
    assert res.units["halls_within"].tolist() == [2, 2]
    assert res.units["nearest_site"].tolist() == ["h0", "h1"]
    assert res.halls["population_served"].tolist() == [5.0, 7.0]
    assert res.halls["population_within"].tolist() == [12.0, 12.0]


def test_groups_reported_separately() -> None:
    net = network_from_graph(line_graph([1000.0]))
    d = pd.concat(
        [
            demand([(100.0, 0.0), (900.0, 0.0)], [100.0, 50.0]),
            demand([(100.0, 0.0), (900.0, 0.0)], [10.0, 20.0], group="elderly"),
        ],
        ignore_index=True,
    )
    res = assess_coverage(net, points([(0.0, 0.0)]), d, radius_m=500.0)
    summary = res.summary.set_index("group")
    assert summary.loc["residents", "covered"] == 100.0
    assert summary.loc["elderly", "covered"] == 10.0
    assert "population_served_elderly" in res.halls.columns


def test_no_halls_means_everyone_near_a_street_is_uncovered() -> None:
    # A district with no halls yet: the question becomes where halls should go.
    net = network_from_graph(line_graph([1000.0]))
    with pytest.warns(CoverageWarning, match="too far"):
        res = assess_coverage(net, points([]), demand([(100.0, 0.0), (900.0, 3.0), (500.0, 4000.0)]), radius_m=500.0)
    assert res.units["status"].astype(str).tolist() == ["uncovered", "uncovered", "unreachable"]
    assert res.gaps["population"].sum() == 20.0
    assert np.isinf(res.gaps["nearest_hall_m"]).all()
    assert res.halls.empty


def test_areas_table_adds_up() -> None:
    net = network_from_graph(line_graph([1000.0]))
    areas = gpd.GeoDataFrame(
        {"name": ["west", "east"]},
        geometry=[shapely.box(-10, -10, 500, 10), shapely.box(500, -10, 900, 10)],
        crs=CRS,
    )
    res = assess_coverage(
        net,
        points([(0.0, 0.0)]),
        demand([(100.0, 0.0), (700.0, 0.0), (950.0, 0.0)]),
        radius_m=500.0,
        areas=areas,
        area_name_col="name",
    )
    table = res.areas.set_index("area")
    assert table.loc["west", "covered"] == 10.0
    assert table.loc["east", "uncovered"] == 10.0
    assert table.loc["(outside the areas)", "total"] == 10.0
    assert table["total"].sum() == 30.0


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (demand([(0.0, 0.0)], [-1.0]), "negative"),
        (demand([(0.0, 0.0)], [float("nan")]), "NaN|missing"),
        (demand([(0.0, 0.0), (1.0, 0.0)], [0.0, 0.0]), "zero"),
        (demand([(0.0, 0.0)]).set_crs(None, allow_override=True), "CRS"),
        (pd.concat([demand([(0.0, 0.0)]), demand([(5.0, 0.0)])], ignore_index=True), "more than once"),
    ],
)
def test_bad_demand(frame: gpd.GeoDataFrame, match: str) -> None:
    net = network_from_graph(line_graph([1000.0]))
    with pytest.raises(CoverageInputError, match=match):
        assess_coverage(net, points([(0.0, 0.0)]), frame, radius_m=500.0)


def test_demand_outside_the_network_is_refused() -> None:
    net = network_from_graph(line_graph([1000.0]))
    with pytest.raises(CoverageInputError, match="no demand unit lies near the network"):
        assess_coverage(net, points([(0.0, 0.0)]), demand([(0.0, 90_000.0)]), radius_m=500.0)


def test_demand_in_another_crs_is_reprojected() -> None:
    net = network_from_graph(line_graph([1000.0]))
    d = demand([(100.0, 0.0)]).to_crs("EPSG:4326")
    res = assess_coverage(net, points([(0.0, 0.0)]), d, radius_m=500.0)
    assert res.units["distance_m"].iloc[0] == pytest.approx(100.0, abs=1e-6)


def test_result_round_trips_and_reprs(tmp_path) -> None:
    net = network_from_graph(line_graph([300.0, 300.0, 300.0]))
    res = assess_coverage(
        net, points([(0.0, 0.0)]), demand([(100.0, 5.0), (800.0, 0.0), (850.0, 0.0)]), radius_m=500.0
    )
    path = res.to_file(tmp_path / "cov.gpkg")
    back = gpd.read_file(path, layer="residents")
    assert back["demand_id"].tolist() == res.units["demand_id"].tolist()
    assert back["status"].tolist() == res.units["status"].astype(str).tolist()
    assert back["population"].tolist() == res.units["population"].tolist()
    files = res.to_csv(tmp_path / "csv")
    assert {f.name for f in files} >= {"residents.csv", "coverage_summary.csv"}
    assert "within a 500 m walk" in repr(res)
    assert "<table" in res._repr_html_()
    assert res.gaps["population"].sum() == 20.0


# --------------------------------------------------------------------------
# Oracle: brute force over halls with networkx
# --------------------------------------------------------------------------


def brute_force_nearest(net: WalkNetwork, halls: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> np.ndarray:
    hs = snap_points(net, halls)
    us = snap_points(net, units)
    H = base_graph(net)
    best = np.full(len(units), np.inf)
    for k in range(len(halls)):
        if hs.edge[k] < 0:
            continue
        e, t, a = hs.edge[k], hs.offset_m[k], hs.access_m[k]
        L = float(net.edge_length_m[e])
        H.add_edge("hall", int(net.edge_u[e]), weight=a + t)
        H.add_edge("hall", int(net.edge_v[e]), weight=a + L - t)
        d = nx.single_source_dijkstra_path_length(H, "hall", weight="weight")
        H.remove_node("hall")
        for i in range(len(units)):
            eu = us.edge[i]
            if eu < 0:
                continue
            tu, Lu = us.offset_m[i], net.edge_length_m[eu]
            cands = [d.get(int(net.edge_u[eu]), np.inf) + tu, d.get(int(net.edge_v[eu]), np.inf) + Lu - tu]
            if eu == e:
                cands.append(a + abs(tu - t))
            best[i] = min(best[i], us.access_m[i] + min(cands))
    return best


def random_points(
    net: WalkNetwork, rng: np.random.Generator, n: int, prefix: str, jitter: float = 20.0
) -> gpd.GeoDataFrame:
    idx = rng.choice(net.n_edges, n)
    along = shapely.line_interpolate_point(net.edge_geometry[idx], rng.random(n), normalized=True)
    x = shapely.get_x(along) + rng.normal(0, jitter, n)
    y = shapely.get_y(along) + rng.normal(0, jitter, n)
    frame = pd.DataFrame({"site_id" if prefix == "h" else "demand_id": [f"{prefix}{i}" for i in range(n)]})
    if prefix == "h":
        frame["name"] = frame["site_id"]
    else:
        frame["group"] = "residents"
        frame["population"] = rng.integers(1, 100, n).astype(float)
        frame["estimate"] = False
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs=net.crs)


def test_futian_against_brute_force(shared_data) -> None:
    net = load_network(shared_data / "shenzhen" / "futian_walk.graphml")
    rng = np.random.default_rng(3)
    halls = random_points(net, rng, 6, "h")
    units = random_points(net, rng, 150, "d")
    # Put some residents on the halls' own edges.
    hs = snap_points(net, halls)
    same = gpd.GeoSeries(
        shapely.line_interpolate_point(net.edge_geometry[hs.edge], rng.random(6), normalized=True),
        crs=net.crs,
    )
    units.loc[:5, "geometry"] = same.to_numpy()
    res = assess_coverage(net, halls, units, radius_m=500.0)
    ref = brute_force_nearest(net, halls, units)
    assert res.units["distance_m"].to_numpy() == pytest.approx(ref, abs=1e-6)


@pytest.mark.slow
def test_porto_alegre_against_brute_force(shared_data) -> None:
    net = load_network(shared_data / "porto_alegre" / "poa_osm.pbf")
    rng = np.random.default_rng(5)
    halls = random_points(net, rng, 4, "h")
    units = random_points(net, rng, 100, "d")
    res = assess_coverage(net, halls, units, radius_m=500.0)
    ref = brute_force_nearest(net, halls, units)
    assert res.units["distance_m"].to_numpy() == pytest.approx(ref, abs=1e-6)
    # Redundancy >= 1 exactly when covered.
    assert ((res.units["halls_within"] >= 1) == (res.units["status"] == "covered")).all()


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

xy = st.tuples(st.floats(-50, 450), st.floats(-50, 450))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 1000),
    halls=st.lists(xy, min_size=0, max_size=4),
    extra=xy,
    people=st.lists(st.tuples(xy, st.floats(0, 1000)), min_size=1, max_size=25),
    r=st.floats(20, 600),
    dr=st.floats(1, 300),
)
def test_properties(seed, halls, extra, people, r, dr) -> None:
    net = grid_network(seed)
    d = demand([p for p, _ in people], [w for _, w in people])
    if d["population"].sum() == 0:
        d.loc[0, "population"] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        base = assess_coverage(net, points(halls), d, radius_m=r)
        bigger = assess_coverage(net, points(halls), d, radius_m=r + dr)
        more = assess_coverage(net, points([*halls, extra]), d, radius_m=r)
    for res in (base, bigger, more):
        s = res.summary.iloc[0]
        # Every resident counted once.
        assert s.covered + s.uncovered + s.unreachable == pytest.approx(s.total)
        assert s.units_covered + s.units_uncovered + s.units_unreachable == len(d)
        # Redundancy >= 1 exactly when covered.
        assert ((res.units["halls_within"] >= 1) == (res.units["status"] == "covered")).all()
        # The circle never claims less than the network.
        assert s.circle_covered >= s.covered - 1e-9
        # Gaps hold exactly the uncovered residents.
        assert res.gaps["population"].sum() == pytest.approx(s.uncovered)
    assert bigger.summary.iloc[0].covered >= base.summary.iloc[0].covered - 1e-9
    assert more.summary.iloc[0].covered >= base.summary.iloc[0].covered - 1e-9
