"""The windowed bounded searches give exactly the whole-graph answers."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from coverage import _search
from coverage._augment import augment, locate
from coverage._search import bounded_blocks, reached_segments, straight_line_reach, within_located
from coverage.network import WalkNetwork, network_from_graph
from tests._graphs import CRS


def grid_network(n: int = 14, block: float = 80.0, seed: int = 3, shrink: float = 1.0) -> WalkNetwork:
    """A jittered grid with some edges removed; lengths = straight line x ``1 / shrink``."""
    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph(crs=CRS)
    xy = {}
    for i in range(n):
        for j in range(n):
            xy[(i, j)] = (i * block + rng.normal(0, 8), j * block + rng.normal(0, 8))
            G.add_node(i * n + j, x=xy[(i, j)][0], y=xy[(i, j)][1])
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n and rng.random() > 0.08:
                    a, b = xy[(i, j)], xy[(i + di, j + dj)]
                    length = math.dist(a, b) / shrink
                    G.add_edge(i * n + j, (i + di) * n + j + dj, length=length, highway="footway")
    return network_from_graph(G)


def random_points(net: WalkNetwork, count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    edge = rng.integers(0, net.n_edges, count)
    offset = rng.random(count) * net.edge_length_m[edge]
    offset[: count // 5] = 0.0  # some exactly at a node
    access = rng.random(count) * 30.0
    return edge.astype(np.int64), offset, access


def whole_graph(aug, sources, limit):
    """Reference: the old dense search over every node."""
    return list(_search._whole_graph_blocks(aug, np.asarray(sources), limit=limit, max_cells=10**9))


@pytest.mark.parametrize("limit", [60.0, 200.0, 333.3])
def test_within_located_equals_whole_graph(limit: float, monkeypatch: pytest.MonkeyPatch) -> None:
    net = grid_network()
    e, t, a = random_points(net, 60, seed=1)
    aug = augment(net, e, t, a)
    pe, pt, pa = random_points(net, 300, seed=2)
    loc = locate(aug, pe, pt, pa)
    windowed = within_located(aug, aug.point_node, loc, limit=limit)
    monkeypatch.setattr(_search, "straight_line_reach", lambda *_a: math.inf)
    whole = within_located(aug, aug.point_node, loc, limit=limit)
    assert windowed[0].size > 0
    for mine, ref in zip(windowed, whole, strict=True):
        np.testing.assert_array_equal(mine, ref)


def test_windows_are_smaller_than_the_graph() -> None:
    net = grid_network(n=20)
    e, t, a = random_points(net, 40, seed=4)
    aug = augment(net, e, t, a)
    blocks = list(bounded_blocks(aug, aug.point_node, limit=150.0))
    assert sum(b.source_pos.size for b in blocks) == 40
    assert max(b.nodes.size for b in blocks) < aug.n_nodes / 2


def test_reached_segments_equal_whole_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    net = grid_network()
    e, t, a = random_points(net, 50, seed=5)
    aug = augment(net, e, t, a)
    windowed = reached_segments(aug, aug.point_node, 250.0)
    monkeypatch.setattr(_search, "straight_line_reach", lambda *_a: math.inf)
    whole = reached_segments(aug, aug.point_node, 250.0)
    for mine, ref in zip(windowed, whole, strict=True):
        np.testing.assert_array_equal(mine, ref)


def test_lengths_shorter_than_the_geometry_search_everything() -> None:
    # Walking lengths a third of the drawn distance: windows would cut real paths.
    net = grid_network(shrink=3.0)
    aug = augment(net, *random_points(net, 10, seed=6))
    assert straight_line_reach(aug, 100.0) == math.inf
    blocks = list(bounded_blocks(aug, aug.point_node, limit=100.0))
    assert all(b.nodes.size == aug.n_nodes for b in blocks)


def test_distances_match_networkx() -> None:
    net = grid_network(n=10)
    e, t, a = random_points(net, 8, seed=7)
    aug = augment(net, e, t, a)
    coo = aug.graph.tocoo()
    G = nx.Graph()
    G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
    for block in bounded_blocks(aug, aug.point_node, limit=220.0):
        for j, pos in enumerate(block.source_pos):
            ref = nx.single_source_dijkstra_path_length(G, int(aug.point_node[pos]), cutoff=220.0)
            got = {int(n): d for n, d in zip(block.nodes, block.dist[j], strict=True) if np.isfinite(d)}
            assert set(got) == set(ref)
            assert max(abs(got[n] - ref[n]) for n in ref) < 1e-9
