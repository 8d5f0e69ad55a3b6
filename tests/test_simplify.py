"""The array path (coverage._simplify) against the networkx/osmnx path as the oracle."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import osmnx as ox
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage._errors import CoverageInputError
from coverage._simplify import great_circle_m
from coverage.network import WalkNetwork, load_network
from tests.test_osm import _osm_xml


def _edges(net: WalkNetwork) -> dict[tuple[int, int], list[float]]:
    ids = net.node_id
    out: dict[tuple[int, int], list[float]] = {}
    for u, v, length in zip(ids[net.edge_u], ids[net.edge_v], net.edge_length_m, strict=True):
        out.setdefault((int(min(u, v)), int(max(u, v))), []).append(float(length))
    return out


def assert_same_network(a: WalkNetwork, b: WalkNetwork) -> None:
    """Same nodes by OSM id and position, same edges and lengths, same geometry, same report."""
    assert a.crs == b.crs
    assert sorted(a.node_id.tolist()) == sorted(b.node_id.tolist())
    pos_a = dict(zip(a.node_id.tolist(), zip(a.node_x, a.node_y, strict=True), strict=True))
    for node, x, y in zip(b.node_id.tolist(), b.node_x, b.node_y, strict=True):
        assert pos_a[node] == pytest.approx((x, y), abs=1e-6)
    edges_a, edges_b = _edges(a), _edges(b)
    assert edges_a.keys() == edges_b.keys()
    for pair, lengths in edges_b.items():
        assert edges_a[pair] == pytest.approx(lengths, rel=1e-9)
    # geometry: the same line, up to orientation
    key_a = {
        (int(min(p, q)), int(max(p, q))): g
        for p, q, g in zip(a.node_id[a.edge_u], a.node_id[a.edge_v], a.edge_geometry, strict=True)
    }
    for p, q, g in zip(b.node_id[b.edge_u], b.node_id[b.edge_v], b.edge_geometry, strict=True):
        mine = key_a[(int(min(p, q)), int(max(p, q)))]
        assert shapely.equals_exact(mine, g, tolerance=1e-6) or shapely.equals_exact(
            shapely.reverse(mine), g, tolerance=1e-6
        )
    # every edge's geometry runs from its u to its v
    for net in (a, b):
        start = shapely.get_coordinates(shapely.get_point(net.edge_geometry, 0))
        np.testing.assert_allclose(start, np.column_stack([net.node_x[net.edge_u], net.node_y[net.edge_u]]), atol=1e-6)
    assert a.edge_length_m.sum() == pytest.approx(b.edge_length_m.sum(), rel=1e-12)
    ra, rb = a.report, b.report
    assert (ra.raw_nodes, ra.raw_edges, ra.removed_ways, ra.removed_edges) == (
        rb.raw_nodes,
        rb.raw_edges,
        rb.removed_ways,
        rb.removed_edges,
    )
    assert (ra.parallel_edges_collapsed, ra.self_loops_removed, ra.islands_removed, ra.island_nodes_removed) == (
        rb.parallel_edges_collapsed,
        rb.self_loops_removed,
        rb.islands_removed,
        rb.island_nodes_removed,
    )
    assert (ra.nodes, ra.edges) == (rb.nodes, rb.edges)
    # the same components
    comp_a = dict(zip(a.node_id.tolist(), a.component.tolist(), strict=True))
    pairs = {(comp_a[n], c) for n, c in zip(b.node_id.tolist(), b.component.tolist(), strict=True)}
    assert len(pairs) == len(set(a.component.tolist())) == len(set(b.component.tolist()))


def _both(source: Any, *, messages: list[str] | None = None, **options: Any) -> tuple[WalkNetwork, WalkNetwork]:
    with warnings.catch_warnings(record=True) as caught_a:
        warnings.simplefilter("always")
        a = load_network(source, cache=False, engine="arrays", **options)
    with warnings.catch_warnings(record=True) as caught_b:
        warnings.simplefilter("always")
        b = load_network(source, cache=False, engine="networkx", **options)
    assert sorted(str(w.message) for w in caught_a) == sorted(str(w.message) for w in caught_b)
    if messages is not None:
        messages.extend(str(w.message) for w in caught_a)
    assert_same_network(a, b)
    return a, b


def _write(
    tmp_path: Path, nodes: dict[int, tuple[float, float]], ways: list[tuple[int, list[int], dict[str, str]]]
) -> Path:
    path = tmp_path / "net.osm"
    path.write_text(_osm_xml(nodes, ways), encoding="utf-8")
    return path


def _lattice(n: int = 5) -> dict[int, tuple[float, float]]:
    return {1 + i + n * j: (114.05 + 0.001 * i, 22.54 + 0.001 * j) for i in range(n) for j in range(n)}


# ---------------------------------------------------------------------------
# the rules, one case each (answers known by hand, and equal to the oracle)


def test_great_circle_is_osmnx_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    lat1, lat2 = rng.uniform(-60, 60, 1000), rng.uniform(-60, 60, 1000)
    lon1, lon2 = rng.uniform(-180, 180, 1000), rng.uniform(-180, 180, 1000)
    assert np.array_equal(great_circle_m(lat1, lon1, lat2, lon2), ox.distance.great_circle(lat1, lon1, lat2, lon2))


def test_chain_across_ways_is_one_edge(tmp_path: Path) -> None:
    nodes = _lattice()
    # a street of two ways meeting at node 3 (degree 2): one edge 1 -> 5
    a, _ = _both(
        _write(tmp_path, nodes, [(10, [1, 2, 3], {"highway": "residential"}), (11, [3, 4, 5], {"highway": "footway"})])
    )
    assert sorted(a.node_id.tolist()) == [1, 5]
    assert a.n_edges == 1
    assert shapely.get_num_coordinates(a.edge_geometry[0]) == 5
    assert a.edge_highway[0] in {"residential", "footway"}


def test_filter_before_simplify_keeps_walkable_parts(tmp_path: Path) -> None:
    nodes = _lattice()
    ways = [
        (10, [1, 2, 3], {"highway": "footway"}),
        (11, [3, 4, 5], {"highway": "motorway"}),  # continues the footway at node 3
        (12, [3, 8], {"highway": "cycleway"}),  # makes node 3 a junction in the full graph only
        (13, [1, 6], {"highway": "path"}),
    ]
    a, _ = _both(_write(tmp_path, nodes, ways))
    # node 3 has degree 1 in the walking graph: an endpoint; node 1 joins ways 10 and 13
    assert sorted(a.node_id.tolist()) == [3, 6]
    assert a.report.removed_ways == {"highway=cycleway": 1, "highway=motorway": 1}
    assert a.report.raw_edges == 2


def test_isolated_ring_is_removed_and_loop_is_a_self_loop(tmp_path: Path) -> None:
    nodes = _lattice()
    ways = [
        (10, [1, 2, 3], {"highway": "residential"}),
        (11, [3, 8, 9, 4, 3], {"highway": "residential"}),  # a loop hanging at node 3
        (12, [16, 17, 22, 21, 16], {"highway": "footway"}),  # an isolated ring: no endpoint
    ]
    a, _ = _both(_write(tmp_path, nodes, ways), largest_only=False)
    assert sorted(a.node_id.tolist()) == [1, 3]
    assert a.report.self_loops_removed == 2  # the loop, both directions as osmnx holds it
    assert a.report.raw_nodes == 2


def test_parallel_chains_collapse_to_the_shortest(tmp_path: Path) -> None:
    nodes = _lattice()
    ways = [
        (10, [1, 2, 3], {"highway": "residential"}),
        (11, [1, 6, 7, 8, 3], {"highway": "footway"}),  # a longer way between the same ends
        (12, [1, 2], {"highway": "path"}),  # a duplicate segment: node 2 becomes a junction
    ]
    a, _ = _both(_write(tmp_path, nodes, ways))
    assert a.report.parallel_edges_collapsed == 1


def test_clipped_degenerate_and_repeated_nodes(tmp_path: Path) -> None:
    nodes = _lattice()
    del nodes[3]
    ways = [
        (10, [1, 2, 3, 4, 5], {"highway": "residential"}),  # node 3 missing: cut
        (11, [6, 6, 7, 7, 8], {"highway": "footway"}),  # repeated nodes
        (12, [9, 9], {"highway": "footway"}),  # degenerate
        (13, [30, 31], {"highway": "path"}),  # outside
        (14, [6, 11, 6], {"highway": "path"}),  # there and back
    ]
    messages: list[str] = []
    a, _ = _both(_write(tmp_path, nodes, ways), messages=messages, largest_only=False)
    text = " ".join(messages)
    assert "2 highway ways reference 3 nodes" in text and "1 of them" in text
    assert "1 highway ways with fewer than 2 distinct nodes" in text
    assert {1, 2, 4, 5} <= set(a.node_id.tolist())
    assert (1, 2) in _edges(a) and (2, 4) not in _edges(a)  # cut, no shortcut over the gap


def test_nothing_walkable(tmp_path: Path) -> None:
    path = _write(tmp_path, _lattice(), [(10, [1, 2], {"highway": "motorway"})])
    for engine in ("arrays", "networkx"):
        with pytest.raises(CoverageInputError, match="none of its 1 highway ways may be walked"):
            load_network(path, cache=False, engine=engine)  # type: ignore[arg-type]


def test_only_an_isolated_ring(tmp_path: Path) -> None:
    ways = [(10, [1, 2, 7, 6, 1], {"highway": "residential"}), (11, [3, 4], {"highway": "motorway"})]
    path = _write(tmp_path, _lattice(), ways)
    for engine in ("arrays", "networkx"):
        with pytest.raises(CoverageInputError, match="only closed rings"):
            load_network(path, cache=False, engine=engine)  # type: ignore[arg-type]


def test_overpass_source(tmp_path: Path) -> None:
    nodes = _lattice()
    elements: list[dict[str, Any]] = [{"type": "node", "id": i, "lon": x, "lat": y} for i, (x, y) in nodes.items()]
    elements += [
        {"type": "way", "id": 10, "nodes": [1, 2, 3, 8], "tags": {"highway": "residential"}},
        {"type": "way", "id": 11, "nodes": [3, 4], "tags": {"highway": "service", "access": "private"}},
        {"type": "way", "id": 12, "nodes": [8, 13, 12, 7, 2], "tags": {"highway": "footway"}},
    ]
    path = tmp_path / "area.json"
    path.write_text(json.dumps({"elements": elements}))
    _both(path)


def test_graphml_needs_the_networkx_engine(tmp_path: Path) -> None:
    path = tmp_path / "g.graphml"
    path.write_text("<graphml/>")
    with pytest.raises(CoverageInputError, match="already a graph"):
        load_network(path, cache=False, engine="arrays")


# ---------------------------------------------------------------------------
# random street patterns: the two paths always agree

HIGHWAYS = ["residential", "footway", "path", "motorway", "cycleway", "service"]


@st.composite
def street_patterns(draw: st.DrawFn) -> list[tuple[int, list[int], dict[str, str]]]:
    n_ways = draw(st.integers(1, 9))
    ways = []
    for way_id in range(n_ways):
        start = draw(st.integers(1, 25))
        refs = [start]
        for _ in range(draw(st.integers(1, 6))):
            i, j = (refs[-1] - 1) % 5, (refs[-1] - 1) // 5
            di, dj = draw(st.sampled_from([(1, 0), (-1, 0), (0, 1), (0, -1), (0, 0)]))
            refs.append(1 + min(max(i + di, 0), 4) + 5 * min(max(j + dj, 0), 4))
        tags = {"highway": draw(st.sampled_from(HIGHWAYS))}
        if draw(st.booleans()):
            tags["access"] = draw(st.sampled_from(["private", "yes"]))
            tags["foot"] = draw(st.sampled_from(["yes", "no"]))
        ways.append((100 + way_id, refs, tags))
    return ways


@settings(max_examples=30)
@given(ways=street_patterns(), largest_only=st.booleans())
def test_random_patterns_match_osmnx(tmp_path_factory: pytest.TempPathFactory, ways: Any, largest_only: bool) -> None:
    path = _write(tmp_path_factory.mktemp("random"), _lattice(), ways)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = None
        try:
            load_network(path, cache=False, engine="networkx", largest_only=largest_only)
        except CoverageInputError as exc:  # nothing walkable: both must say so
            expected = str(exc)
        if expected is not None:
            with pytest.raises(CoverageInputError) as caught:
                load_network(path, cache=False, engine="arrays", largest_only=largest_only)
            assert str(caught.value) == expected
            return
    _both(path, largest_only=largest_only)


# ---------------------------------------------------------------------------
# real data (the oracle on whole cities)


@pytest.mark.slow
@pytest.mark.parametrize(
    "source",
    [
        "porto_alegre/poa_osm.pbf",
        "liechtenstein/liechtenstein-latest.osm.pbf",
        "helsinki/helsinki_centre.osm.pbf",
        "shenzhen/overpass",
    ],
)
def test_real_networks_match_osmnx(shared_data: Path, source: str) -> None:
    a, _ = _both(shared_data / source)
    assert a.n_nodes > 2000
