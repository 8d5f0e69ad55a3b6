from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely

from coverage._errors import CoverageInputError
from coverage.network import exclusion_reason, network_from_graph
from tests._graphs import CRS, line_graph


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ({"highway": "motorway"}, "highway=motorway"),
        ({"highway": ["residential", "motorway_link"]}, "highway=motorway_link"),
        ({"highway": "['steps', 'footway']"}, None),
        ({"highway": "residential", "foot": "no"}, "foot=no"),
        ({"highway": "service", "access": "private"}, "access=private"),
        ({"highway": "service", "access": "private", "foot": "yes"}, None),
        ({"highway": "service", "service": "private"}, "service=private"),
        ({"highway": "pedestrian", "area": "yes"}, "area=yes"),
        ({}, "no highway tag"),
        ({"highway": "footway"}, None),
    ],
)
def test_exclusion_reason(tags: dict[str, object], reason: str | None) -> None:
    assert exclusion_reason(tags) == reason


def test_parallel_edges_collapse_to_shortest_never_summed() -> None:
    G = line_graph([100.0])
    G.add_edge(1, 2, length=60.0, highway="path")  # a shorter parallel path
    G.add_edge(2, 1, length=100.0, highway="footway")  # the reverse direction
    net = network_from_graph(G)
    assert net.n_edges == 1
    assert net.edge_length_m.tolist() == [60.0]
    assert net.graph[0, 1] == 60.0 and net.graph[1, 0] == 60.0
    assert net.report.parallel_edges_collapsed == 1


def test_one_way_street_is_walked_both_ways() -> None:
    G = line_graph([100.0, 50.0])  # only u -> v edges: one-way for cars
    net = network_from_graph(G)
    from scipy.sparse.csgraph import dijkstra

    d = dijkstra(net.graph, indices=[2])
    assert d[0].tolist() == [150.0, 50.0, 0.0]


def test_islands_are_removed_and_reported() -> None:
    G = line_graph([100.0, 100.0])
    G.add_node(10, x=0.0, y=500.0)
    G.add_node(11, x=30.0, y=500.0)
    G.add_edge(10, 11, length=30.0, highway="footway")
    net = network_from_graph(G)
    assert net.n_nodes == 3
    assert net.report.islands_removed == 1
    assert net.report.island_nodes_removed == 2
    assert "1 islands with 2 nodes" in net.report.summary()
    kept = network_from_graph(G, largest_only=False)
    assert kept.n_nodes == 5
    assert sorted(np.bincount(kept.component).tolist()) == [2, 3]


def test_excluded_edges_are_counted() -> None:
    G = line_graph([100.0, 100.0])
    G.add_edge(1, 3, length=150.0, highway="motorway")
    net = network_from_graph(G)
    assert net.report.removed_edges == {"highway=motorway": 1}
    assert net.n_edges == 2


def test_geometry_oriented_from_u_to_v() -> None:
    G = line_graph([100.0])
    G.add_edge(2, 1, length=100.0, highway="footway", geometry=shapely.LineString([(100, 0), (50, 5), (0, 0)]))
    G.remove_edge(1, 2, 0)
    net = network_from_graph(G)
    geom = net.edge_geometry[0]
    start = shapely.get_coordinates(geom)[0]
    u = net.edge_u[0]
    assert np.allclose(start, [net.node_x[u], net.node_y[u]])


def test_graph_without_crs_or_length_is_refused() -> None:
    G = line_graph([100.0])
    del G.graph["crs"]
    with pytest.raises(CoverageInputError, match="no CRS"):
        network_from_graph(G)
    G = line_graph([100.0])
    del G.edges[1, 2, 0]["length"]
    with pytest.raises(CoverageInputError, match="add_edge_lengths"):
        network_from_graph(G)


def test_nothing_walkable_is_refused() -> None:
    G = nx.MultiDiGraph(crs=CRS)
    G.add_node(1, x=0.0, y=0.0)
    G.add_node(2, x=1.0, y=0.0)
    G.add_edge(1, 2, length=1.0, highway="motorway")
    with pytest.raises(CoverageInputError, match="no walkable edge"):
        network_from_graph(G)


def test_zero_length_edges_stay_edges() -> None:
    G = line_graph([0.0, 10.0])
    net = network_from_graph(G)
    from scipy.sparse.csgraph import dijkstra

    assert dijkstra(net.graph, indices=[0])[0].tolist() == [0.0, 0.0, 10.0]


def test_futian_matches_networkx(shared_data) -> None:
    import osmnx as ox

    G = ox.load_graphml(shared_data / "shenzhen" / "futian_walk.graphml")
    net = network_from_graph(G)
    assert net.crs.to_epsg() == 32650
    assert net.report.raw_nodes == 1751
    # Oracle: networkx on the raw graph, walkable edges, undirected, shortest parallel.
    H = nx.Graph()
    for u, v, data in G.edges(data=True):
        shorter = not H.has_edge(u, v) or H[u][v]["length"] > data["length"]
        if exclusion_reason(data) is None and u != v and shorter:
            H.add_edge(u, v, length=data["length"])
    main = max(nx.connected_components(H), key=len)
    assert len(main) == net.n_nodes
    from scipy.sparse.csgraph import dijkstra

    rng = np.random.default_rng(1)
    pos = {int(n): i for i, n in enumerate(net.node_id)}
    for src in rng.choice(net.n_nodes, 5, replace=False):
        mine = dijkstra(net.graph, indices=[src], limit=800.0)[0]
        ref = nx.single_source_dijkstra_path_length(H, int(net.node_id[src]), cutoff=800.0, weight="length")
        reached = {pos[n] for n in ref}
        assert reached == set(np.flatnonzero(np.isfinite(mine)).tolist())
        assert max(abs(mine[pos[n]] - d) for n, d in ref.items()) < 1e-6


def test_nan_node_coordinate_names_the_node() -> None:
    G = line_graph([100.0, 100.0])
    G.nodes[2]["x"] = float("nan")
    with pytest.raises(CoverageInputError, match=r"node 2 has coordinates x=nan.*Fix"):
        network_from_graph(G)


def test_load_network_refuses_a_link_to_dev_zero(tmp_path) -> None:
    from coverage.network import load_network

    link = tmp_path / "city.osm.pbf"
    link.symlink_to("/dev/zero")
    for cache in (True, False):
        with pytest.raises(CoverageInputError, match=r"city\.osm\.pbf.*character device"):
            load_network(link, cache=cache, cache_dir=tmp_path / "cache")
