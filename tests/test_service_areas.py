from __future__ import annotations

import math
import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage._errors import CoverageInputError, CoverageWarning
from coverage._search import augment, bounded_blocks
from coverage.network import WalkNetwork, load_network, network_from_graph
from coverage.service_areas import service_areas
from coverage.sites import snap_points
from tests._graphs import CRS, line_graph, points


def reached(net: WalkNetwork, xy: list[tuple[float, float]], radius: float | list[float]) -> list[float]:
    sa = service_areas(net, points(xy), radius_m=radius)
    return sa.areas["reached_length_m"].tolist()


def test_hall_in_the_middle_of_an_edge() -> None:
    net = network_from_graph(line_graph([100.0]))
    assert reached(net, [(40.0, 0.0)], 50.0) == pytest.approx([90.0])
    assert reached(net, [(40.0, 0.0)], 30.0) == pytest.approx([60.0])
    assert reached(net, [(40.0, 0.0)], 500.0) == pytest.approx([100.0])


def test_radius_ends_mid_edge_and_access_walk_counts() -> None:
    net = network_from_graph(line_graph([100.0, 100.0]))
    # 10 m off the street at node 1: 140 m of budget left on the street.
    assert reached(net, [(0.0, 10.0)], 150.0) == pytest.approx([140.0])
    # Several radii at once, sorted.
    assert reached(net, [(0.0, 10.0)], [300.0, 50.0]) == pytest.approx([40.0, 200.0])


def test_parallel_edges_use_the_shortest() -> None:
    G = line_graph([100.0, 100.0])
    G.add_edge(1, 2, length=60.0, highway="path", geometry=shapely.LineString([(0, 0), (50, 20), (100, 0)]))
    net = network_from_graph(G)
    # 60 m to node 2 over the short path, then 20 m along the next edge.
    assert reached(net, [(0.0, 0.0)], 80.0) == pytest.approx([80.0])


def test_one_way_street_walked_both_ways() -> None:
    net = network_from_graph(line_graph([100.0, 100.0]))  # only forward edges in the graph
    assert reached(net, [(200.0, 0.0)], 150.0) == pytest.approx([150.0])


def test_hall_on_an_island_is_flagged_and_stays_on_it() -> None:
    G = line_graph([100.0, 100.0])
    G.add_node(10, x=0.0, y=500.0)
    G.add_node(11, x=30.0, y=500.0)
    G.add_edge(10, 11, length=30.0, highway="footway")
    net = network_from_graph(G, largest_only=False)
    with pytest.warns(CoverageWarning, match="disconnected part"):
        sa = service_areas(net, points([(10.0, 500.0)]), radius_m=500.0)
    assert sa.areas["reached_length_m"].tolist() == pytest.approx([30.0])


def test_two_halls_on_the_same_edge() -> None:
    net = network_from_graph(line_graph([100.0]))
    sa = service_areas(net, points([(20.0, 0.0), (30.0, 0.0)]), radius_m=15.0)
    assert sa.areas["reached_length_m"].tolist() == pytest.approx([30.0, 30.0])
    # Union: [5, 45] = 40 m of street.
    assert sa.union["reached_length_m"].iloc[0] == pytest.approx(40.0)


def test_walking_time_gives_radius() -> None:
    net = network_from_graph(line_graph([1000.0]))
    sa = service_areas(net, points([(0.0, 0.0)]), minutes=[5.0], walk_speed_kmh=6.0)
    assert sa.areas["radius_m"].tolist() == [500.0]
    assert sa.areas["minutes"].tolist() == [5.0]
    assert sa.areas["reached_length_m"].tolist() == pytest.approx([500.0])


@pytest.mark.parametrize(("resolution_m", "rel"), [(0.0, 0.005), (None, 0.04), (3.0, 0.06)])
def test_polygon_is_a_buffer_not_a_hull(resolution_m: float | None, rel: float) -> None:
    G = line_graph([100.0, 100.0])
    G.add_node(4, x=100.0, y=100.0)
    G.add_edge(2, 4, length=100.0, highway="footway")  # an L: its hull would add a triangle
    net = network_from_graph(G)
    sa = service_areas(
        net, points([(100.0, 0.0)]), radius_m=1000.0, buffer_m=10.0, quad_segs=8, resolution_m=resolution_m
    )
    poly = sa.areas.geometry.iloc[0]
    exact = shapely.union_all([e.buffer(10.0, quad_segs=16) for e in net.edge_geometry])
    assert poly.area == pytest.approx(exact.area, rel=rel)
    assert poly.symmetric_difference(exact).area < rel * exact.area * 2
    assert poly.buffer(1e-6).contains(shapely.MultiLineString(list(net.edge_geometry)))
    assert sa.areas["circle_area_m2"].iloc[0] == pytest.approx(math.pi * 1000.0**2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"radius_m": 0.0}, "distance > 0"),
        ({"radius_m": -5.0}, "distance > 0"),
        ({"radius_m": float("nan")}, "distance > 0"),
        ({"radius_m": 60_000.0}, "not a walking distance"),
        ({"radius_m": None, "minutes": 0.0}, "walking times > 0"),
        ({"radius_m": 500.0, "buffer_m": 0.0}, r"buffer_m=0.0: give a distance > 0"),
        ({"radius_m": [300.0, 300.0]}, "given twice"),
        ({"radius_m": 500.0, "resolution_m": 0.001}, "resolution_m=0.001: below the smallest"),
        ({"radius_m": 500.0, "minutes": 5.0}, "not both"),
        ({"radius_m": "500"}, "give numbers"),
    ],
)
def test_bad_radius(kwargs: dict[str, object], match: str) -> None:
    net = network_from_graph(line_graph([100.0]))
    with pytest.raises(CoverageInputError, match=match):
        service_areas(net, points([(0.0, 0.0)]), **kwargs)  # type: ignore[arg-type]


def test_huge_outline_grid_is_refused_before_allocating(monkeypatch: pytest.MonkeyPatch) -> None:
    net = network_from_graph(line_graph([5000.0, 5000.0]))
    monkeypatch.setenv("COVERAGE_PLANNER_MAX_MEMORY_GB", "0.01")
    with pytest.raises(CoverageInputError, match=r"GiB.*resolution_m coarser"):
        service_areas(net, points([(0.0, 0.0), (10_000.0, 0.0)]), radius_m=500.0, resolution_m=1.0)


def test_far_hall_warns_and_is_reported() -> None:
    net = network_from_graph(line_graph([100.0]))
    with pytest.warns(CoverageWarning, match="h1"):
        sa = service_areas(net, points([(0.0, 0.0), (0.0, 5000.0)]), radius_m=50.0)
    assert sa.sites["snapped"].tolist() == [True, False]
    assert sa.areas["site_id"].tolist() == ["h0"]


# --------------------------------------------------------------------------
# Properties on random grid graphs
# --------------------------------------------------------------------------


def grid_network(seed: int, size: int = 5, spacing: float = 100.0) -> WalkNetwork:
    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph(crs=CRS)
    for i in range(size):
        for j in range(size):
            G.add_node(i * size + j, x=i * spacing, y=j * spacing)
    for i in range(size):
        for j in range(size):
            n = i * size + j
            for m in ((i + 1) * size + j if i + 1 < size else None, n + 1 if j + 1 < size else None):
                if m is not None and rng.random() < 0.85:
                    # Walking length >= straight length (streets bend).
                    G.add_edge(n, m, length=spacing * (1.0 + rng.random() * 0.3), highway="residential")
    return network_from_graph(G)


hall_xy = st.tuples(st.floats(-50, 450), st.floats(-50, 450))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 1000),
    xy=st.lists(hall_xy, min_size=1, max_size=4),
    extra=hall_xy,
    r=st.floats(20, 600),
    dr=st.floats(1, 300),
)
def test_properties(
    seed: int, xy: list[tuple[float, float]], extra: tuple[float, float], r: float, dr: float
) -> None:
    net = grid_network(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        small = service_areas(net, points(xy), radius_m=r, max_snap_m=1000.0)
        big = service_areas(net, points(xy), radius_m=r + dr, max_snap_m=1000.0)
        more = service_areas(net, points([*xy, extra]), radius_m=r, max_snap_m=1000.0)
    # A larger radius never reaches less.
    assert np.all(
        big.areas["reached_length_m"].to_numpy() >= small.areas["reached_length_m"].to_numpy() - 1e-9
    )
    assert big.union["reached_length_m"].iloc[0] >= small.union["reached_length_m"].iloc[0] - 1e-9
    # Adding a hall never shrinks the union.
    assert more.union["reached_length_m"].iloc[0] >= small.union["reached_length_m"].iloc[0] - 1e-9
    assert more.union.geometry.iloc[0].buffer(1e-6).contains(small.union.geometry.iloc[0])
    # Each hall's polygon contains the hall, its snapped point and every reached piece.
    snap = snap_points(net, points(xy), max_snap_m=1000.0)
    for k, poly in enumerate(small.areas.geometry):
        grown = poly.buffer(1e-6)
        assert grown.contains(shapely.Point(snap.x[k], snap.y[k]))
        assert grown.contains(shapely.Point(snap.snapped_x[k], snap.snapped_y[k]))
        for piece in reached_pieces(net, snap, k, r):
            assert grown.contains(piece)


def reached_pieces(net: WalkNetwork, snap, k: int, r: float) -> list[shapely.LineString]:
    """Reached pieces computed independently with networkx and shapely.ops.substring."""
    from shapely.ops import substring

    H = base_graph(net)
    e, t, a = snap.edge[k], snap.offset_m[k], snap.access_m[k]
    u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length_m[e])
    H.add_edge("hall", u, weight=a + t)
    H.add_edge("hall", v, weight=a + length - t)
    d = nx.single_source_dijkstra_path_length(H, "hall", weight="weight")
    out = []
    for i in range(net.n_edges):
        geom = net.edge_geometry[i]
        scale = geom.length / net.edge_length_m[i]
        du, dv, L = d.get(int(net.edge_u[i]), np.inf), d.get(int(net.edge_v[i]), np.inf), net.edge_length_m[i]
        if i == e:
            ra = max(0.0, r - a)
            lo, hi = max(0.0, t - ra), min(L, t + ra)
            if hi > lo:
                out.append(substring(geom, lo * scale, hi * scale))
            continue
        a_, b_ = max(0.0, r - du), max(0.0, r - dv)
        if a_ + b_ >= L:
            out.append(geom)
        else:
            if a_ > 0:
                out.append(substring(geom, 0.0, a_ * scale))
            if b_ > 0:
                out.append(substring(geom, (L - b_) * scale, L * scale))
    return out


def base_graph(net: WalkNetwork) -> nx.Graph:
    H = nx.Graph()
    for u, v, length in zip(net.edge_u, net.edge_v, net.edge_length_m, strict=True):
        H.add_edge(int(u), int(v), weight=float(length))
    return H


# --------------------------------------------------------------------------
# Oracle on real networks
# --------------------------------------------------------------------------


def check_against_networkx(net: WalkNetwork, seed: int, n_halls: int, radius: float) -> None:
    rng = np.random.default_rng(seed)
    idx = rng.choice(net.n_edges, n_halls, replace=False)
    # Random points along random edges, pushed a little off the street.
    along = shapely.line_interpolate_point(net.edge_geometry[idx], rng.random(n_halls), normalized=True)
    hx = shapely.get_x(along) + rng.normal(0, 15, n_halls)
    hy = shapely.get_y(along) + rng.normal(0, 15, n_halls)
    halls = gpd.GeoDataFrame(
        {"site_id": [f"h{i}" for i in range(n_halls)], "name": "x"},
        geometry=gpd.points_from_xy(hx, hy),
        crs=net.crs,
    )
    snap = snap_points(net, halls)
    assert snap.ok.all()
    aug = augment(net, snap.edge, snap.offset_m, snap.access_m)
    sa = service_areas(net, halls, radius_m=radius)
    H = base_graph(net)
    lengths = {}
    for block in bounded_blocks(aug, aug.point_node, limit=radius):
        for j in range(block.dist.shape[0]):
            k = int(block.source_pos[j])
            e, t, a = snap.edge[k], snap.offset_m[k], snap.access_m[k]
            u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length_m[e])
            H.add_edge("hall", u, weight=a + t)
            H.add_edge("hall", v, weight=a + length - t)
            ref = nx.single_source_dijkstra_path_length(H, "hall", cutoff=radius, weight="weight")
            H.remove_node("hall")
            ref.pop("hall")
            full = np.full(aug.n_nodes, np.inf)
            full[block.nodes] = block.dist[j]
            mine = full[: net.n_nodes]
            assert set(ref) == set(np.flatnonzero(np.isfinite(mine)).tolist())
            assert max((abs(mine[n] - dist) for n, dist in ref.items()), default=0.0) < 1e-6
            # Reached length: base edges, with the hall's own edge split at t.
            du = np.array([ref.get(i, np.inf) for i in range(net.n_nodes)])
            ra = np.clip(radius - du[net.edge_u], 0, None)
            rb = np.clip(radius - du[net.edge_v], 0, None)
            per_edge = np.minimum(net.edge_length_m, ra + rb)
            budget = max(0.0, radius - a)
            per_edge[e] = min(t, ra[e] + budget) + min(length - t, budget + rb[e])
            lengths[k] = per_edge.sum()
    assert sa.areas["reached_length_m"].to_numpy() == pytest.approx(
        [lengths[k] for k in range(n_halls)], abs=1e-6
    )


def test_futian_against_networkx(shared_data) -> None:
    net = load_network(shared_data / "shenzhen" / "futian_walk.graphml")
    check_against_networkx(net, seed=7, n_halls=12, radius=500.0)


@pytest.mark.slow
def test_porto_alegre_against_networkx(shared_data) -> None:
    net = load_network(shared_data / "porto_alegre" / "poa_osm.pbf")
    check_against_networkx(net, seed=11, n_halls=6, radius=500.0)
