"""OSM ways to walkable street edges with arrays: the pedestrian filter, then osmnx's topology simplification.

The array path of :func:`coverage.network.load_network` for OSM XML, PBF and
Overpass sources. It gives the same edges as building an osmnx graph of the
walkable ways and calling ``osmnx.simplify_graph`` (checked against it in the
tests), without a networkx graph:

1. ways the pedestrian filter refuses are left out (counted per reason);
2. each way's repeated consecutive nodes are merged; ways with fewer than two
   distinct nodes are dropped, and ways are cut where their nodes are missing
   from the data, exactly as :func:`coverage.osm.graph_from_file` does;
3. every pair of consecutive way nodes is a segment of an undirected
   multigraph; a node is *interior* when it has exactly two segments to two
   different neighbours (osmnx's rules for a bidirectional graph: no
   self-loop, in and out degree 2, two neighbours), every other node is an
   endpoint;
4. segments joined at interior nodes form chains; each chain becomes one edge
   between its two endpoints (the same endpoint for a loop) with the nodes in
   between as its geometry and the sum of the segments' great-circle lengths
   (``osmnx.distance.great_circle``, R = 6,371,009 m) as its length;
   chains with no endpoint at all (isolated rings) are removed, as osmnx's
   ``remove_rings`` does.

Each chain stands for the two directed edges osmnx would hold
(``EdgeTable.copies = 2``), so the report counts the same edges.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping

import numpy as np
import pyproj
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from ._prepare import EdgeTable, RaggedLines
from ._types import BoolArray, FloatArray, IntArray
from .osm import DROP_DEGENERATE, DROP_OUTSIDE
from .osm._arrays import WayArrays
from .osm._graph import no_street_error, rings_only_error, way_notes

__all__ = ["EARTH_RADIUS_M", "edges_from_ways", "great_circle_m"]

EARTH_RADIUS_M = 6_371_009.0
"""Mean earth radius osmnx uses for edge lengths."""

WayFilter = Callable[[Mapping[str, str]], "str | None"]


def great_circle_m(lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray) -> FloatArray:
    """Return haversine distances in metres, computed exactly as ``osmnx.distance.great_circle``.

    Examples
    --------
    >>> float(great_circle_m(np.array([22.54]), np.array([114.05]), np.array([22.54]), np.array([114.051]))[0])
    102.7...
    """
    y1, y2 = np.deg2rad(lat1), np.deg2rad(lat2)
    x1, x2 = np.deg2rad(lon1), np.deg2rad(lon2)
    h = np.sin((y2 - y1) / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin((x2 - x1) / 2) ** 2
    h = np.minimum(1, h)
    return np.asarray(2 * np.arcsin(np.sqrt(h)) * EARTH_RADIUS_M, dtype=np.float64)


def edges_from_ways(ways: WayArrays, *, exclude: WayFilter) -> tuple[EdgeTable, list[str]]:
    """Filter, cut and simplify OSM ways into walkable edges (see the module notes).

    Parameters
    ----------
    ways : WayArrays
        Highway ways and node coordinates (:func:`coverage.osm._arrays.ways_from_file`).
    exclude : callable
        The pedestrian filter: way tags -> a reason, or ``None`` if walkable.

    Returns
    -------
    (EdgeTable, list of str)
        The edges in EPSG:4326 (geometry as ragged coordinates), and the
        warnings about clipped or broken ways.

    Raises
    ------
    CoverageInputError
        If no walkable way has two consecutive nodes with coordinates.
    """
    n_ways = ways.way_id.size
    reasons = [exclude(tags) for tags in ways.tag_sets]
    walkable = np.array([reason is None for reason in reasons], dtype=bool)[ways.way_tags]
    removed: Counter[str] = Counter()
    for code, count in enumerate(np.bincount(ways.way_tags[~walkable], minlength=len(reasons)).tolist()):
        if count and reasons[code] is not None:
            removed[str(reasons[code])] += count

    refs, owner, dropped = _cut_ways(ways, walkable)
    node_pos = np.searchsorted(ways.node_id, refs).clip(max=max(ways.node_id.size - 1, 0))
    present = ways.node_id[node_pos] == refs if ways.node_id.size else np.zeros(refs.size, dtype=bool)
    same_way = owner[1:] == owner[:-1]
    is_segment = same_way & present[:-1] & present[1:]
    seg_a = node_pos[:-1][is_segment]
    seg_b = node_pos[1:][is_segment]
    seg_way = owner[:-1][is_segment]

    bad_ways = np.unique(owner[~present])
    with_segment = np.zeros(n_ways, dtype=bool)
    with_segment[seg_way] = True
    kept_ways = np.zeros(n_ways, dtype=bool)
    kept_ways[owner] = True
    dropped[DROP_OUTSIDE] += int((kept_ways & ~with_segment).sum())
    path_text = ways.description
    if seg_a.size == 0:
        raise no_street_error(path_text, n_ways, removed)
    notes = list(ways.notes) + way_notes(
        path_text,
        clipped_ways=int(bad_ways.size),
        missing_nodes=int(np.unique(refs[~present]).size),
        dropped={k: v for k, v in dropped.items() if v},
    )

    table = _simplify(ways, seg_a, seg_b, seg_way, removed=dict(removed))
    if table.u.size == 0:
        raise rings_only_error(path_text)
    return table, notes


def _cut_ways(ways: WayArrays, walkable: BoolArray) -> tuple[IntArray, IntArray, Counter[str]]:
    """Return the walkable ways' node ids (consecutive repeats merged) and their way, without degenerate ways."""
    n_ways = ways.way_id.size
    owner = np.repeat(np.arange(n_ways), np.diff(ways.way_offsets))
    keep = walkable[owner]
    refs, owner = ways.way_refs[keep], owner[keep]
    repeat = np.zeros(refs.size, dtype=bool)
    repeat[1:] = (refs[1:] == refs[:-1]) & (owner[1:] == owner[:-1])
    refs, owner = refs[~repeat], owner[~repeat]
    order = np.lexsort((refs, owner))
    first = np.ones(order.size, dtype=bool)
    first[1:] = (owner[order][1:] != owner[order][:-1]) | (refs[order][1:] != refs[order][:-1])
    distinct = np.bincount(owner[order][first], minlength=n_ways)
    degenerate = walkable & (distinct < 2)
    dropped: Counter[str] = Counter({DROP_DEGENERATE: int(degenerate.sum())})
    keep = ~degenerate[owner]
    return refs[keep], owner[keep], dropped


def _simplify(
    ways: WayArrays, seg_a: IntArray, seg_b: IntArray, seg_way: IntArray, *, removed: dict[str, int]
) -> EdgeTable:
    """Contract the segments into chains between endpoint nodes."""
    n_nodes = ways.node_id.size
    n_seg = seg_a.size
    degree = np.bincount(seg_a, minlength=n_nodes) + np.bincount(seg_b, minlength=n_nodes)
    lo, hi = np.minimum(seg_a, seg_b), np.maximum(seg_a, seg_b)
    pair_order = np.lexsort((hi, lo))
    new_pair = np.ones(n_seg, dtype=bool)
    new_pair[1:] = (lo[pair_order][1:] != lo[pair_order][:-1]) | (hi[pair_order][1:] != hi[pair_order][:-1])
    unique_lo, unique_hi = lo[pair_order][new_pair], hi[pair_order][new_pair]
    neighbours = np.bincount(unique_lo, minlength=n_nodes) + np.bincount(unique_hi, minlength=n_nodes)
    interior = (degree == 2) & (neighbours == 2)

    # chains: the two segments at each interior node belong together
    ends = np.concatenate([seg_a, seg_b])
    segs = np.concatenate([np.arange(n_seg), np.arange(n_seg)])
    at_interior = interior[ends]
    by_node = np.argsort(ends[at_interior], kind="stable")
    joined = segs[at_interior][by_node].reshape(-1, 2)
    links = sp.coo_matrix((np.ones(joined.shape[0]), (joined[:, 0], joined[:, 1])), shape=(n_seg, n_seg)).tocsr()
    n_chains, chain = connected_components(links, directed=False)

    # each chain starts at its first segment (in file order) that touches an endpoint; rings have none
    touches = ~interior[seg_a] | ~interior[seg_b]
    start_seg = np.full(n_chains, n_seg, dtype=np.int64)
    np.minimum.at(start_seg, chain[touches], np.flatnonzero(touches))
    is_chain = start_seg < n_seg
    starts = start_seg[is_chain]
    step = dijkstra(links, directed=False, indices=starts, unweighted=True, min_only=True)
    in_chain = np.isfinite(step)
    order = np.flatnonzero(in_chain)
    order = order[np.lexsort((step[order], chain[order]))]

    a, b, label = seg_a[order], seg_b[order], chain[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = label[1:] != label[:-1]
    last = np.ones(order.size, dtype=bool)
    last[:-1] = first[1:]
    start_node = np.where(interior[seg_a[start_seg[label]]], seg_b[start_seg[label]], seg_a[start_seg[label]])
    # the node each segment leads to: shared with the next segment, or (last) the end not arrived at
    far = np.empty(order.size, dtype=np.int64)
    inner = np.flatnonzero(~last)
    shares_a = (a[inner] == a[inner + 1]) | (a[inner] == b[inner + 1])
    far[inner] = np.where(shares_a, a[inner], b[inner])
    tail = np.flatnonzero(last)
    near = np.where(first[tail], start_node[tail], far[np.maximum(tail - 1, 0)])
    far[tail] = np.where(a[tail] == near, b[tail], a[tail])

    # one edge per chain: nodes start, far..., coordinates, summed lengths
    chain_first = np.flatnonzero(first)
    n_edges = chain_first.size
    counts = np.diff(np.append(chain_first, order.size)) + 1
    offsets = np.zeros(n_edges + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    sequence = np.empty(int(offsets[-1]), dtype=np.int64)
    sequence[offsets[:-1]] = start_node[chain_first]
    slot = np.ones(sequence.size, dtype=bool)
    slot[offsets[:-1]] = False
    sequence[slot] = far
    lon, lat = ways.node_lon, ways.node_lat
    seg_length = great_circle_m(lat[a], lon[a], lat[b], lon[b])
    length = np.add.reduceat(seg_length, chain_first)
    u = sequence[offsets[:-1]]
    v = sequence[offsets[1:] - 1]
    first_way = seg_way[order[chain_first]]
    highway = np.array([ways.tag_sets[code].get("highway", "") for code in ways.way_tags[first_way]], dtype=object)

    # keep the endpoint nodes only, renumbered
    endpoint = ~interior & (degree > 0)
    renumber = np.full(n_nodes, -1, dtype=np.int64)
    kept = np.flatnonzero(endpoint)
    renumber[kept] = np.arange(kept.size)
    return EdgeTable(
        node_id=ways.node_id[kept],
        node_x=lon[kept],
        node_y=lat[kept],
        crs=pyproj.CRS.from_epsg(4326),
        u=renumber[u],
        v=renumber[v],
        length_m=length,
        highway=highway,
        geometry=RaggedLines(np.column_stack([lon[sequence], lat[sequence]]), offsets),
        copies=2,
        raw_nodes=int(kept.size),
        raw_edges=2 * n_edges,
        removed_ways=removed,
    )
