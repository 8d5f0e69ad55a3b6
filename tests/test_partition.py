"""Coverage by district equals coverage of the whole network (oracle: assess_coverage in one piece)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage import demand as dm
from coverage._errors import CoverageInputError, CoverageWarning
from coverage.assess import assess_coverage
from coverage.network import load_network, network_from_graph
from coverage.partition import assess_coverage_by_district, subnetwork, walk_reach_m
from coverage.sites import read_sites

from ._graphs import CRS


def grid_graph(n: int = 18, spacing: float = 80.0, *, seed: int = 0, stretch: float = 0.3) -> nx.MultiDiGraph:
    """A jittered grid city: lengths at least the straight line (up to +stretch), 8 % of links missing."""
    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph(crs=CRS)
    jitter = rng.uniform(-15, 15, size=(n, n, 2))
    for i in range(n):
        for j in range(n):
            x, y = 500_000 + i * spacing + jitter[i, j, 0], 2_500_000 + j * spacing + jitter[i, j, 1]
            G.add_node(i * n + j, x=x, y=y)
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                a, b = i + di, j + dj
                if a >= n or b >= n or rng.random() < 0.08:
                    continue
                u, v = i * n + j, a * n + b
                chord = float(np.hypot(G.nodes[u]["x"] - G.nodes[v]["x"], G.nodes[u]["y"] - G.nodes[v]["y"]))
                G.add_edge(u, v, length=round(chord * (1 + stretch * rng.random()), 1), highway="residential")
    return G


def random_points(net, count: int, *, seed: int, prefix: str, pad: float = 0.0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = shapely.total_bounds(net.edge_geometry)
    xs = rng.uniform(x0 - pad, x1 + pad, count)
    ys = rng.uniform(y0 - pad, y1 + pad, count)
    return gpd.GeoDataFrame(
        {"site_id": [f"{prefix}{count - i}" for i in range(count)], "name": [f"{prefix}{i}" for i in range(count)],
         "population": rng.integers(1, 300, count).astype(float)},
        geometry=gpd.points_from_xy(xs, ys), crs=net.crs,
    )


def people(net, count: int, *, seed: int, pad: float = 0.0) -> gpd.GeoDataFrame:
    """Residents in the demand schema (ids p0, p1, ...)."""
    pts = random_points(net, count, seed=seed, prefix="p", pad=pad)
    return pts.rename(columns={"site_id": "demand_id"}).drop(columns="name").assign(
        group="residents", estimate=False, source_id=pts["site_id"]
    )


def grid_districts(net, nx_: int, ny: int, *, shrink: float = 0.0) -> gpd.GeoDataFrame:
    """Boxes tiling the network's bounding box (shrunk a little to leave units outside every box)."""
    x0, y0, x1, y1 = shapely.total_bounds(net.edge_geometry)
    xs = np.linspace(x0, x1, nx_ + 1)
    ys = np.linspace(y0, y1, ny + 1)
    boxes, names = [], []
    for i in range(nx_):
        for j in range(ny):
            boxes.append(shapely.box(xs[i] + shrink, ys[j] + shrink, xs[i + 1] - shrink, ys[j + 1] - shrink))
            names.append(f"D{i}{j}")
    return gpd.GeoDataFrame({"name": names}, geometry=boxes, crs=net.crs)


def assert_same(single, parted) -> None:
    """Statuses, counts and populations identical; distances to 1e-12 relative.

    Snapping offsets come from a running sum of segment lengths over all edges
    (coverage._geometry.EdgeGeometryIndex), so a part with fewer edges can
    round an offset differently in the last bits (seen: up to 6e-11 m).
    """
    a = single.units
    b = parted.units
    assert list(a.columns) == list(b.columns)
    exact = ["demand_id", "group", "population", "status", "threshold_m", "nearest_site", "halls_within",
             "circle_covered", "gap_id"] + [c for c in ("area", "community") if c in a.columns]
    pd.testing.assert_frame_equal(pd.DataFrame(a[exact]), pd.DataFrame(b[exact]), check_exact=True)
    near = ["distance_m", "walk_min", "access_m"]
    pd.testing.assert_frame_equal(pd.DataFrame(a[near]), pd.DataFrame(b[near]), check_exact=False, rtol=1e-12)
    assert a.geometry.equals(b.geometry)
    pd.testing.assert_frame_equal(single.summary, parted.summary, check_exact=True)
    pd.testing.assert_frame_equal(
        single.gaps.drop(columns="geometry"), parted.gaps.drop(columns="geometry"), check_exact=False, rtol=1e-12
    )
    # Per-hall sums add the same numbers in another order: equal to rounding.
    pd.testing.assert_frame_equal(single.halls, parted.halls, check_exact=False, rtol=1e-12, atol=1e-9)


@pytest.fixture(scope="module")
def grid_net():
    return network_from_graph(grid_graph())


@pytest.fixture(scope="module")
def big_grid():
    return network_from_graph(grid_graph(30, seed=1))


def test_walk_reach_is_the_radius_over_the_length_ratio(grid_net) -> None:
    # Lengths are at least the straight line up to their 0.1 m rounding: the reach is the radius plus a little.
    assert walk_reach_m(grid_net, 500.0) == pytest.approx(500.0, abs=0.2)
    assert walk_reach_m(grid_net, 500.0) >= 500.0


def test_walk_reach_oracle_every_node_within_reach(grid_net) -> None:
    """Oracle: networkx distances; no node reached within L lies farther than reach(L) in a straight line."""
    G = nx.Graph()
    for u, v, length in zip(grid_net.edge_u, grid_net.edge_v, grid_net.edge_length_m, strict=True):
        G.add_edge(int(u), int(v), weight=float(length))
    for source in (0, 100, 200):
        dist = nx.single_source_dijkstra_path_length(G, source, cutoff=400.0, weight="weight")
        nodes = np.fromiter(dist, dtype=np.int64)
        dx = grid_net.node_x[nodes] - grid_net.node_x[source]
        line = np.hypot(dx, grid_net.node_y[nodes] - grid_net.node_y[source])
        walked = np.array([dist[int(n)] for n in nodes])
        assert np.all(line <= np.array([walk_reach_m(grid_net, w) for w in walked]))


def test_short_lengths_are_refused() -> None:
    G = grid_graph(6, seed=2)
    for _u, _v, data in G.edges(data=True):
        data["length"] = data["length"] * 0.3  # lengths far below the drawn streets
    net = network_from_graph(G)
    assert walk_reach_m(net, 500.0) == np.inf
    with pytest.raises(CoverageInputError, match="shorter than their drawn geometry"):
        assess_coverage_by_district(
            net, random_points(net, 3, seed=2, prefix="h"), people(net, 20, seed=1), grid_districts(net, 2, 1)
        )


def test_subnetwork_keeps_edge_order_and_lengths(grid_net) -> None:
    edges = np.array([5, 1, 9, 1])
    sub = subnetwork(grid_net, edges)
    assert sub.n_edges == 3
    assert sub.edge_length_m.tolist() == grid_net.edge_length_m[[1, 5, 9]].tolist()
    assert sub.node_id[sub.edge_u].tolist() == grid_net.node_id[grid_net.edge_u[[1, 5, 9]]].tolist()
    assert sub.graph.nnz == 6


@pytest.mark.parametrize(
    ("nx_", "ny", "radius_m", "shrink", "pad"),
    [
        (2, 2, 200.0, 60.0, 300.0),
        pytest.param(2, 1, 300.0, 0.0, 0.0, marks=pytest.mark.slow),
        pytest.param(3, 3, 200.0, 0.0, 0.0, marks=pytest.mark.slow),
    ],
)
def test_partitioned_equals_single_on_a_grid(
    big_grid, nx_: int, ny: int, radius_m: float, shrink: float, pad: float
) -> None:
    """Minutes with an elderly group (two thresholds), halls off the streets, residents outside every district."""
    halls = random_points(big_grid, 6, seed=3, prefix="h", pad=200.0)
    residents = people(big_grid, 400, seed=4, pad=pad)
    demand = dm.combine_demand(residents, dm.demand_share(residents, 0.2, group="elderly"))
    districts = grid_districts(big_grid, nx_, ny, shrink=shrink)
    kw = {"minutes": radius_m / 75.0, "max_snap_m": 150.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        single = assess_coverage(big_grid, halls, demand, **kw)
        parted = assess_coverage_by_district(big_grid, halls, demand, districts, **kw)
    assert_same(single, parted.coverage)
    assert set(parted.coverage.units["status"].astype(str)) >= {"covered", "uncovered"}
    assert parted.parts["units"].sum() == len(demand)
    assert parted.parts["edges"].min() < big_grid.n_edges  # real parts, not the whole network
    if radius_m == 200.0:
        assert parted.parts["runs"].max() >= 2  # some distances needed a wider margin


def test_district_with_only_off_street_residents(grid_net) -> None:
    halls = random_points(grid_net, 5, seed=5, prefix="h")
    residents = people(grid_net, 200, seed=6)
    _, _, x1, y1 = shapely.total_bounds(grid_net.edge_geometry)
    far = gpd.GeoDataFrame(
        {"demand_id": ["far1", "far2"], "population": [10.0, 20.0], "group": "residents", "estimate": False,
         "source_id": ["far1", "far2"]},
        geometry=[shapely.Point(x1 + 2_000, y1 + 2_000), shapely.Point(x1 + 2_100, y1 + 2_000)], crs=grid_net.crs,
    )
    demand = pd.concat([residents, far], ignore_index=True)
    districts = pd.concat(
        [grid_districts(grid_net, 2, 1),
         gpd.GeoDataFrame({"name": ["sea"]}, geometry=[shapely.box(x1 + 1_900, y1 + 1_900, x1 + 2_200, y1 + 2_200)],
                          crs=grid_net.crs)],
        ignore_index=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        single = assess_coverage(grid_net, halls, demand, radius_m=400.0)
        parted = assess_coverage_by_district(grid_net, halls, demand, districts, radius_m=400.0)
    assert_same(single, parted.coverage)
    assert parted.coverage.units["status"].iloc[-2:].astype(str).tolist() == ["unreachable", "unreachable"]


def test_no_halls_at_all(grid_net) -> None:
    halls = random_points(grid_net, 0, seed=7, prefix="h")
    demand = people(grid_net, 100, seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        single = assess_coverage(grid_net, halls, demand, radius_m=400.0)
        parted = assess_coverage_by_district(grid_net, halls, demand, grid_districts(grid_net, 2, 2), radius_m=400.0)
    assert_same(single, parted.coverage)


def test_districts_need_a_crs(grid_net) -> None:
    districts = grid_districts(grid_net, 2, 1).set_crs(None, allow_override=True)
    with pytest.raises(CoverageInputError, match="CRS"):
        assess_coverage_by_district(
            grid_net, random_points(grid_net, 2, seed=1, prefix="h"), people(grid_net, 10, seed=8), districts
        )


@pytest.mark.slow
@pytest.mark.parametrize(("nx_", "ny"), [(2, 1), (2, 2)])
def test_partitioned_equals_single_on_futian(shared_data, nx_: int, ny: int) -> None:
    """Futian's walking network split into 2 and 4 parts by a synthetic grid; AED sites as halls."""
    net = load_network(shared_data / "shenzhen" / "futian_walk.graphml")
    halls = read_sites(shared_data / "shenzhen" / "aed_sites_gcj02.json", crs="gcj02", id_col="id",
                       name_col="title", lon_col="location.lng", lat_col="location.lat")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        demand = dm.estimate_demand_along_streets(net, density_per_km2=19_736.0, spacing_m=50.0)
        warnings.simplefilter("ignore", CoverageWarning)
        kw = {"radius_m": 500.0, "areas": gpd.read_file(shared_data / "shenzhen" / "districts.geojson"),
              "area_name_col": "qh"}
        single = assess_coverage(net, halls, demand, **kw)
        parted = assess_coverage_by_district(net, halls, demand, grid_districts(net, nx_, ny), **kw)
    assert_same(single, parted.coverage)
    pd.testing.assert_frame_equal(single.areas, parted.coverage.areas, check_exact=True)
