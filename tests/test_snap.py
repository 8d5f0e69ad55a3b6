"""The snapping core (coverage._snap): nearest point of the nearest edge, checked by brute force."""

from __future__ import annotations

import gc
import weakref

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

import coverage.sites
from coverage._errors import CoverageInputError
from coverage._snap import Snap, geometry_index, segment_index, snap_points, snap_xy
from coverage.network import WalkNetwork, network_from_graph
from tests._graphs import CRS, line_graph


def grid_network(n: int = 5, step: float = 100.0) -> WalkNetwork:
    G = nx.MultiDiGraph(crs=CRS)
    for i in range(n):
        for j in range(n):
            G.add_node(i * n + j, x=j * step, y=i * step)
    for i in range(n):
        for j in range(n):
            if j + 1 < n:
                G.add_edge(i * n + j, i * n + j + 1, length=step, highway="footway")
            if i + 1 < n:
                G.add_edge(i * n + j, (i + 1) * n + j, length=step, highway="footway")
    return network_from_graph(G)


def test_snap_matches_a_brute_force_nearest_edge() -> None:
    net = grid_network()
    rng = np.random.default_rng(7)
    xy = rng.uniform(-80, 480, (300, 2))
    snap = snap_xy(net, xy[:, 0], xy[:, 1], max_snap_m=40.0)
    points = shapely.points(xy)
    dist = shapely.distance(points[:, None], np.asarray(net.edge_geometry)[None, :])
    best = dist.min(axis=1)
    near = best <= 40.0
    assert np.array_equal(snap.ok, near)
    np.testing.assert_allclose(snap.access_m[near], best[near], atol=1e-9)
    # the chosen edge is one of the nearest ones, and the snapped point lies on it
    chosen = dist[np.flatnonzero(near), snap.edge[near]]
    np.testing.assert_allclose(chosen, best[near], atol=1e-9)
    on_edge = shapely.points(snap.snapped_x[near], snap.snapped_y[near])
    assert shapely.dwithin(on_edge, np.asarray(net.edge_geometry)[snap.edge[near]], 1e-9).all()
    # offsets run from the edge's u end, within the edge
    assert (snap.offset_m[near] >= 0).all()
    assert (snap.offset_m[near] <= net.edge_length_m[snap.edge[near]]).all()
    assert np.isnan(snap.offset_m[~near]).all()
    assert (snap.edge[~near] == -1).all()


def test_snap_points_reprojects_and_equals_snap_xy() -> None:
    net = grid_network()
    pts = gpd.GeoSeries(shapely.points([(150.0, 20.0), (420.0, 399.0)]), crs=CRS)
    a = snap_points(net, pts.to_crs(4326))
    b = snap_xy(net, np.array([150.0, 420.0]), np.array([20.0, 399.0]))
    np.testing.assert_array_equal(a.edge, b.edge)
    np.testing.assert_allclose(a.offset_m, b.offset_m, atol=1e-6)
    assert len(a) == 2 and isinstance(a, Snap)


def test_bad_max_snap_and_missing_crs() -> None:
    net = network_from_graph(line_graph([100.0]))
    with pytest.raises(CoverageInputError, match=r"max_snap_m=-1: give a distance > 0 m"):
        snap_xy(net, np.zeros(1), np.zeros(1), max_snap_m=-1)
    with pytest.raises(CoverageInputError, match=r"max_snap_m=nan: give a finite number"):
        snap_xy(net, np.zeros(1), np.zeros(1), max_snap_m=float("nan"))
    assert snap_xy(net, np.array([50.0]), np.array([0.0]), max_snap_m=0).ok.all()  # on the edge itself
    with pytest.raises(CoverageInputError, match="set_crs"):
        snap_points(net, gpd.GeoSeries([shapely.Point(0, 0)]))


def test_indexes_are_built_once_per_network_and_freed_with_it() -> None:
    net = grid_network(3)
    assert geometry_index(net) is geometry_index(net)
    assert segment_index(net) is segment_index(net)
    assert not hasattr(net, "_geometry_index_cache")  # nothing set on the frozen network
    ref = weakref.ref(geometry_index(net))
    del net
    gc.collect()
    assert ref() is None


def test_sites_keeps_the_old_import_paths() -> None:
    assert coverage.sites.Snap is Snap
    assert coverage.sites.snap_points is snap_points
