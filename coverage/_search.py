"""Numerical core: bounded graph searches on the augmented network.

A walk of length ``r`` never ends farther than ``r / f`` in a straight line
from where it started, where ``f <= 1`` is the smallest ratio of an edge's
walking length to the length of its drawn geometry (about 1; a little less
where the UTM projection stretches distances). So a bounded search from a
batch of nearby sources only needs the nodes in the batch's bounding box
grown by ``r / f``: searching that window gives exactly the same distances
within ``r`` as searching the whole network. Sources are batched by grid
cell, each window is cut out of the graph and searched with scipy's
Dijkstra, and the work and memory grow with the pairs found instead of with
sources x nodes.

Snapped points are inserted as nodes first (:mod:`coverage._augment`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from ._augment import END_TOLERANCE_M, AugmentedGraph, Located, augment, locate
from ._defaults import MAX_BLOCK_CELLS
from ._types import FloatArray, IntArray

__all__ = [
    "END_TOLERANCE_M",
    "MAX_BLOCK_CELLS",
    "AugmentedGraph",
    "Block",
    "Located",
    "augment",
    "bounded_blocks",
    "locate",
    "nearest_source",
    "reached_segments",
    "within_located",
]

#: Windows holding more than this share of the graph search the whole graph.
_WHOLE_GRAPH_SHARE = 0.5

#: Fixed cost of one batch of searches, counted in nodes searched.
_BATCH_OVERHEAD_NODES = 20_000


def nearest_source(aug: AugmentedGraph, sources: IntArray, *, limit: float = np.inf) -> tuple[FloatArray, IntArray]:
    """Distance from every node to its nearest source, in one search.

    Parameters
    ----------
    aug : AugmentedGraph
        The network with the sources inserted.
    sources : numpy.ndarray
        Node indices of the sources.
    limit : float, default inf
        Stop searching beyond this distance.

    Returns
    -------
    (distance, source)
        Per node: the distance (inf if none within ``limit``) and the position
        in ``sources`` of the nearest source (-1 if none). Ties go to the
        lowest source position.
    """
    sources = np.asarray(sources, dtype=np.int64)
    n = aug.n_nodes
    if sources.size == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    # Deduplicate sources sharing a node; keep the first position.
    uniq, first = np.unique(sources, return_index=True)
    dist, _pred, src = dijkstra(
        aug.graph,
        directed=True,
        indices=uniq,
        limit=limit,
        min_only=True,
        return_predecessors=True,
    )
    which = np.full(n, -1, dtype=np.int64)
    reached = src >= 0
    lookup = np.full(n, -1, dtype=np.int64)
    lookup[uniq] = first
    which[reached] = lookup[src[reached]]
    return np.asarray(dist, dtype=np.float64), which


@dataclass(frozen=True, eq=False)
class Block:
    """Distances from a batch of sources to the nodes of their search window.

    Attributes
    ----------
    source_pos : numpy.ndarray
        Positions (in the ``sources`` given) of the batch's sources.
    nodes : numpy.ndarray
        Node indices of the window (sorted); every node reached within the
        limit is in it.
    dist : numpy.ndarray
        ``len(source_pos) x len(nodes)`` distances, inf beyond the limit.
    """

    source_pos: IntArray
    nodes: IntArray
    dist: FloatArray


def straight_line_reach(aug: AugmentedGraph, limit: float) -> float:
    """How far (straight line) a walk of ``limit`` metres can end from its start.

    With ``f`` the smallest ratio of walking length to chord over the street
    segments at least 1 m long, a walk of length ``L`` ends at most
    ``L / f + D`` away, where ``D`` adds up, over the shorter segments, how
    much their chord exceeds ``length / f`` (rounded lengths of tiny
    segments). Returns inf when the lengths are far from the geometry
    (``f < 0.5``), so that the whole graph is searched.
    """
    dx = aug.node_x[aug.seg_a] - aug.node_x[aug.seg_b]
    dy = aug.node_y[aug.seg_a] - aug.node_y[aug.seg_b]
    chord = np.hypot(dx, dy)
    length = aug.seg_length
    long_enough = chord >= 1.0
    if not long_enough.any() or not math.isfinite(limit):
        return math.inf
    f = min(1.0, float(np.min(length[long_enough] / chord[long_enough])))
    if f < 0.5:
        return math.inf
    f *= 1.0 - 1e-9  # rounding
    deficit = float(np.clip(chord - length / f, 0.0, None).sum())
    return limit / f + deficit + 1e-6 * limit + 1e-3


class _Grid:
    """Nodes bucketed on a square grid, for cutting out windows."""

    def __init__(self, x: FloatArray, y: FloatArray, cell: float) -> None:
        self.cell = cell
        self.x0 = float(x.min())
        self.y0 = float(y.min())
        cx = np.floor((x - self.x0) / cell).astype(np.int64)
        cy = np.floor((y - self.y0) / cell).astype(np.int64)
        self.nx = int(cx.max()) + 1
        self.ny = int(cy.max()) + 1
        key = cy * self.nx + cx
        self.order = np.argsort(key, kind="stable")
        self.ptr = np.searchsorted(key[self.order], np.arange(self.nx * self.ny + 1))

    def nodes_in(self, xmin: float, ymin: float, xmax: float, ymax: float) -> IntArray:
        """Node indices in the cells the box touches (a superset of the box)."""
        c0 = max(0, math.floor((xmin - self.x0) / self.cell))
        c1 = min(self.nx - 1, math.floor((xmax - self.x0) / self.cell))
        r0 = max(0, math.floor((ymin - self.y0) / self.cell))
        r1 = min(self.ny - 1, math.floor((ymax - self.y0) / self.cell))
        if c0 > c1 or r0 > r1:
            return np.empty(0, np.int64)
        parts = [self.order[self.ptr[r * self.nx + c0] : self.ptr[r * self.nx + c1 + 1]] for r in range(r0, r1 + 1)]
        return np.sort(np.concatenate(parts))


def bounded_blocks(
    aug: AugmentedGraph, sources: IntArray, *, limit: float, max_cells: int = MAX_BLOCK_CELLS
) -> Iterator[Block]:
    """Yield distance blocks from batches of nearby sources, bounded by ``limit``.

    Each batch is searched on the window of nodes it can reach (see the
    module notes), so a block is ``batch x window`` instead of ``batch x
    all nodes``; the distances within ``limit`` are exactly those of a search
    over the whole graph.

    Parameters
    ----------
    aug : AugmentedGraph
        The network with the sources inserted.
    sources : numpy.ndarray
        Node indices to search from.
    limit : float
        Search radius (m).
    max_cells : int
        Largest number of cells in one block.

    Yields
    ------
    Block
    """
    sources = np.asarray(sources, dtype=np.int64)
    if sources.size == 0:
        return
    n = aug.n_nodes
    reach = straight_line_reach(aug, limit)
    span = max(float(np.ptp(aug.node_x)), float(np.ptp(aug.node_y)), 1.0)
    if not math.isfinite(reach) or reach * 3 >= span:
        yield from _whole_graph_blocks(aug, sources, limit=limit, max_cells=max_cells)
        return
    grid = _Grid(aug.node_x, aug.node_y, reach)
    sx = aug.node_x[sources]
    sy = aug.node_y[sources]
    cell = reach * _batch_cells(sx, sy, reach, n / (span * span))
    # Batch sources by grid cell, in a stable order.
    cx = np.floor((sx - grid.x0) / cell).astype(np.int64)
    cy = np.floor((sy - grid.y0) / cell).astype(np.int64)
    key = cy * (int(cx.max()) + 1) + cx
    order = np.lexsort((np.arange(sources.size), key))
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    local_of = np.full(n, -1, dtype=np.int64)
    for batch in np.split(order, bounds):
        bx, by = sx[batch], sy[batch]
        nodes = grid.nodes_in(bx.min() - reach, by.min() - reach, bx.max() + reach, by.max() + reach)
        if nodes.size > _WHOLE_GRAPH_SHARE * n:
            sub, nodes = aug.graph, np.arange(n)
        else:
            sub = _subgraph(aug.graph, nodes, local_of)
        local = np.searchsorted(nodes, sources[batch])
        per = max(1, max_cells // max(nodes.size, 1))
        for start in range(0, batch.size, per):
            idx = local[start : start + per]
            dist = dijkstra(sub, directed=True, indices=idx, limit=limit)
            yield Block(source_pos=batch[start : start + per], nodes=nodes, dist=np.atleast_2d(dist))


def _batch_cells(sx: FloatArray, sy: FloatArray, reach: float, density: float) -> int:
    """Side of the batching cells, in search reaches, that keeps the estimated work lowest.

    A batch costs a fixed part (cutting out its window, starting a search:
    about the work of :data:`_BATCH_OVERHEAD_NODES` nodes) plus its sources
    times its window's nodes. Larger cells mean fewer batches but larger
    windows; sparse sources (halls) want large cells, dense ones (residents)
    small ones.
    """
    best, best_cost = 1, math.inf
    for m in (1, 2, 3, 4, 6, 8):
        side = m * reach
        keys = np.floor(sx / side).astype(np.int64) * 1_000_003 + np.floor(sy / side).astype(np.int64)
        _, counts = np.unique(keys, return_counts=True)
        window = density * (side + 2 * reach) ** 2
        cost = counts.size * (_BATCH_OVERHEAD_NODES + window) + float(counts.sum()) * window
        if cost < best_cost:
            best, best_cost = m, cost
    return best


def _subgraph(graph: sp.csr_matrix, nodes: IntArray, local_of: IntArray) -> sp.csr_matrix:
    """Rows and columns ``nodes`` (sorted) of a CSR matrix, in time linear in their entries.

    ``local_of`` is a scratch array of -1 the size of the graph (left as it was).
    """
    local_of[nodes] = np.arange(nodes.size)
    starts = graph.indptr[nodes]
    counts = graph.indptr[nodes + 1] - starts
    pos = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(int(counts.sum()))
    cols = local_of[graph.indices[pos]]
    keep = cols >= 0
    row = np.repeat(np.arange(nodes.size), counts)[keep]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=nodes.size))])
    local_of[nodes] = -1
    return sp.csr_matrix((graph.data[pos][keep], cols[keep], indptr), shape=(nodes.size, nodes.size))


def _whole_graph_blocks(aug: AugmentedGraph, sources: IntArray, *, limit: float, max_cells: int) -> Iterator[Block]:
    nodes = np.arange(aug.n_nodes)
    per = max(1, max_cells // max(aug.n_nodes, 1))
    for start in range(0, sources.size, per):
        idx = sources[start : start + per]
        dist = dijkstra(aug.graph, directed=True, indices=idx, limit=limit)
        pos = np.arange(start, start + idx.size, dtype=np.int64)
        yield Block(source_pos=pos, nodes=nodes, dist=np.atleast_2d(np.asarray(dist, dtype=np.float64)))


def within_located(
    aug: AugmentedGraph, sources: IntArray, targets: Located, *, limit: float
) -> tuple[IntArray, IntArray, FloatArray]:
    """All (source, located point) pairs within ``limit``, as sparse triplets.

    Each block of bounded searches is reduced at once to the nodes it reached;
    only the points on segments ending at those nodes are examined, so memory
    grows with the number of pairs found, not with sources x points.

    Parameters
    ----------
    aug : AugmentedGraph
        The network with the sources inserted.
    sources : numpy.ndarray
        Node indices to search from.
    targets : Located
        Points placed on the segments of ``aug``.
    limit : float
        Largest distance kept (inclusive).

    Returns
    -------
    (source_pos, target_pos, distance)
        Positions in ``sources`` and in ``targets`` (sorted by source, then
        target) and the network distance.
    """
    n_t = targets.ok.size
    ok = np.flatnonzero(targets.ok)
    # Each point is reachable through either end node of its segment.
    end_node = np.concatenate([targets.node_a[ok], targets.node_b[ok]])
    end_point = np.concatenate([ok, ok])
    end_extra = np.concatenate([targets.to_a[ok], targets.to_b[ok]]) + targets.access[end_point]
    order = np.argsort(end_node, kind="stable")
    ptr = np.searchsorted(end_node[order], np.arange(aug.n_nodes + 1))
    out_s: list[IntArray] = []
    out_t: list[IntArray] = []
    out_d: list[FloatArray] = []
    for block in bounded_blocks(aug, sources, limit=limit):
        si, li = np.nonzero(block.dist <= limit)
        ni = block.nodes[li]
        d_node = block.dist[si, li]
        counts = ptr[ni + 1] - ptr[ni]
        rep = np.repeat(np.arange(si.size), counts)
        within = np.arange(rep.size) - np.repeat(np.cumsum(counts) - counts, counts)
        idx = order[ptr[ni][rep] + within]
        dist = d_node[rep] + end_extra[idx]
        keep = dist <= limit
        src = block.source_pos[si[rep][keep]]
        tgt = end_point[idx][keep]
        dist = dist[keep]
        # A point reached through both ends: keep the shorter.
        key = src * n_t + tgt
        by = np.lexsort((dist, key))
        first = np.ones(by.size, dtype=bool)
        first[1:] = key[by][1:] != key[by][:-1]
        pick = by[first]
        out_s.append(src[pick])
        out_t.append(tgt[pick])
        out_d.append(dist[pick])
    if not out_s:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    s, t, d = np.concatenate(out_s), np.concatenate(out_t), np.concatenate(out_d)
    by = np.lexsort((t, s))
    return s[by], t[by], d[by]


def reached_segments(
    aug: AugmentedGraph, sources: IntArray, radius_m: float
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Reach of each street segment from each source within ``radius_m``.

    Returns
    -------
    (source_pos, segment, reach_a, reach_b)
        For every (source, segment) pair reached at all: how far into the
        segment the budget goes from its ``a`` end and from its ``b`` end
        (0 if not from that side). The reached length of the segment is
        ``min(length, reach_a + reach_b)``. Sorted by source, then segment.
    """
    n = aug.n_nodes
    n_seg = aug.seg_a.size
    # Segments incident to each node, to find the segments of a window.
    inc = sp.csr_matrix(
        (np.ones(2 * n_seg, dtype=bool), (np.concatenate([aug.seg_a, aug.seg_b]), np.tile(np.arange(n_seg), 2))),
        shape=(n, n_seg),
    )
    local_of = np.full(n, -1, dtype=np.int64)
    out: list[tuple[IntArray, IntArray, FloatArray, FloatArray]] = []
    for block in bounded_blocks(aug, sources, limit=radius_m):
        reached_nodes = np.flatnonzero((block.dist <= radius_m).any(axis=0))
        if reached_nodes.size == 0:
            continue
        segs = np.unique(inc[block.nodes[reached_nodes]].indices)
        local_of[block.nodes] = np.arange(block.nodes.size)
        la = local_of[aug.seg_a[segs]]
        lb = local_of[aug.seg_b[segs]]
        inf_col = np.full((block.dist.shape[0], 1), np.inf)
        padded = np.hstack([block.dist, inf_col])  # column -1: ends outside the window
        da = padded[:, la]
        db = padded[:, lb]
        local_of[block.nodes] = -1
        hit_i, hit_s = np.nonzero((da <= radius_m) | (db <= radius_m))
        ra = np.clip(radius_m - da[hit_i, hit_s], 0.0, None)
        rb = np.clip(radius_m - db[hit_i, hit_s], 0.0, None)
        out.append((block.source_pos[hit_i], segs[hit_s], ra, rb))
    if not out:
        e = np.empty(0, np.int64)
        return e, e, np.empty(0), np.empty(0)
    src, seg, ra, rb = (np.concatenate(parts) for parts in zip(*out, strict=True))
    by = np.lexsort((seg, src))
    return src[by], seg[by], ra[by], rb[by]
