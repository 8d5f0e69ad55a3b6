"""Numerical core: snapped points as virtual nodes of the network.

Every snapped point (a hall, a resident, a candidate site) sits at offset
``t`` on edge ``(u, v)`` of length ``L`` with an off-network access walk
``a``. The edge is split at ``t`` (a *position* node, shared by all points at
the same place) and the point becomes a leaf node joined to its position by
an edge of length ``a``. Then one scipy Dijkstra handles everything exactly,
including two points on the same edge, and no search can shortcut through an
access leg (point nodes are leaves).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely

from ._types import BoolArray, FloatArray, IntArray
from .network import WalkNetwork

#: Offsets closer than this (m) to an edge end snap to the end node itself.
END_TOLERANCE_M = 1e-6


@dataclass(frozen=True, eq=False)
class AugmentedGraph:
    """The network with snapped points inserted as nodes.

    Attributes
    ----------
    graph : scipy.sparse.csr_matrix
        Symmetric matrix over base nodes, position nodes and point nodes.
    n_base : int
        Number of network nodes (indices ``0..n_base-1`` are the network's).
    point_node : numpy.ndarray
        Node index of each input point, -1 where the point is unsnapped.
    position_node : numpy.ndarray
        Node index of each point's on-edge position (-1 where unsnapped).
    seg_a, seg_b : numpy.ndarray
        End nodes of each street segment (pieces of edges between nodes and
        positions); access legs are not segments.
    seg_edge : numpy.ndarray
        The network edge each segment belongs to.
    seg_t0, seg_t1 : numpy.ndarray
        Offsets (m along the edge, from its ``u`` end) of ``seg_a`` and ``seg_b``.
    node_x, node_y : numpy.ndarray
        Projected coordinates of every node: network nodes, positions on their
        edge's geometry, and point nodes at their position (the access walk
        is not drawn, so straight-line distances never exceed walking ones).
    """

    graph: sp.csr_matrix
    n_base: int
    point_node: IntArray
    position_node: IntArray
    seg_a: IntArray
    seg_b: IntArray
    seg_edge: IntArray
    seg_t0: FloatArray
    seg_t1: FloatArray
    node_x: FloatArray
    node_y: FloatArray

    @property
    def n_nodes(self) -> int:
        """Number of nodes of the augmented graph."""
        return int(self.graph.shape[0])

    @property
    def seg_length(self) -> FloatArray:
        """Length of each street segment in metres."""
        return self.seg_t1 - self.seg_t0


def augment(net: WalkNetwork, edge: IntArray, offset_m: FloatArray, access_m: FloatArray) -> AugmentedGraph:
    """Insert snapped points into the network as nodes.

    Parameters
    ----------
    net : WalkNetwork
        The network to insert the points into.
    edge, offset_m, access_m : numpy.ndarray
        Per point: edge index (-1 = unsnapped, ignored), offset along the edge
        from its ``u`` end, and access walk, as in :class:`coverage._snap.Snap`.

    Returns
    -------
    AugmentedGraph
    """
    edge = np.asarray(edge, dtype=np.int64)
    offset_m = np.asarray(offset_m, dtype=np.float64)
    access_m = np.asarray(access_m, dtype=np.float64)
    n_base = net.n_nodes
    n_pts = edge.size
    ok = edge >= 0
    length = net.edge_length_m
    position = np.full(n_pts, -1, dtype=np.int64)

    e_ok = edge[ok]
    t_ok = np.clip(offset_m[ok], 0.0, length[e_ok])
    at_u = t_ok <= END_TOLERANCE_M
    at_v = (length[e_ok] - t_ok) <= END_TOLERANCE_M
    pos_ok = np.full(e_ok.size, -1, dtype=np.int64)
    pos_ok[at_u] = net.edge_u[e_ok[at_u]]
    pos_ok[at_v & ~at_u] = net.edge_v[e_ok[at_v & ~at_u]]

    interior = ~(at_u | at_v)
    ie = e_ok[interior]
    it = t_ok[interior]
    # Unique interior positions, sorted by (edge, offset).
    order = np.lexsort((it, ie))
    se, st = ie[order], it[order]
    new = np.ones(se.size, dtype=bool)
    new[1:] = (se[1:] != se[:-1]) | (st[1:] != st[:-1])
    ue, ut = se[new], st[new]
    n_pos = ue.size
    pos_node_sorted = n_base + np.cumsum(new) - 1
    interior_nodes = np.empty(ie.size, dtype=np.int64)
    interior_nodes[order] = pos_node_sorted
    pos_ok[interior] = interior_nodes
    position[ok] = pos_ok

    # Segments: unsplit edges whole, split edges in pieces.
    split = np.zeros(net.n_edges, dtype=bool)
    split[ue] = True
    whole = np.flatnonzero(~split)
    un = n_base + np.arange(n_pos, dtype=np.int64)
    same_prev = np.zeros(n_pos, dtype=bool)
    same_prev[1:] = ue[1:] == ue[:-1]
    prev_node = np.where(same_prev, np.roll(un, 1), net.edge_u[ue])
    prev_t = np.where(same_prev, np.roll(ut, 1), 0.0)
    last = np.ones(n_pos, dtype=bool)
    last[:-1] = ue[1:] != ue[:-1]
    seg_a = np.concatenate([net.edge_u[whole], prev_node, un[last]])
    seg_b = np.concatenate([net.edge_v[whole], un, net.edge_v[ue[last]]])
    seg_edge = np.concatenate([whole, ue, ue[last]])
    seg_t0 = np.concatenate([np.zeros(whole.size), prev_t, ut[last]])
    seg_t1 = np.concatenate([length[whole], ut, length[ue[last]]])

    # Point nodes (leaves) joined to their positions by the access walk.
    n_nodes = n_base + n_pos + int(ok.sum())
    point_node = np.full(n_pts, -1, dtype=np.int64)
    point_node[ok] = n_base + n_pos + np.arange(int(ok.sum()), dtype=np.int64)
    rows = np.concatenate([seg_a, point_node[ok]])
    cols = np.concatenate([seg_b, position[ok]])
    data = np.concatenate([seg_t1 - seg_t0, access_m[ok]])
    graph = sp.csr_matrix(
        (np.concatenate([data, data]), (np.concatenate([rows, cols]), np.concatenate([cols, rows]))),
        shape=(n_nodes, n_nodes),
    )
    # Duplicate (a, b) pairs cannot arise: positions are unique and edges are.
    # Coordinates: positions on their edge's geometry (offsets are in length units).
    geoms = net.edge_geometry[ue]
    geom_len = shapely.length(geoms)
    scale = np.divide(geom_len, length[ue], out=np.zeros_like(geom_len), where=length[ue] > 0)
    pos_xy = shapely.get_coordinates(shapely.line_interpolate_point(geoms, ut * scale)) if n_pos else np.empty((0, 2))
    pos_x = np.concatenate([net.node_x, pos_xy[:, 0]])
    pos_y = np.concatenate([net.node_y, pos_xy[:, 1]])
    node_x = np.concatenate([pos_x, pos_x[position[ok]]])
    node_y = np.concatenate([pos_y, pos_y[position[ok]]])
    return AugmentedGraph(
        graph=graph,
        n_base=n_base,
        point_node=point_node,
        position_node=position,
        seg_a=seg_a,
        seg_b=seg_b,
        seg_edge=seg_edge,
        seg_t0=seg_t0,
        seg_t1=seg_t1,
        node_x=node_x,
        node_y=node_y,
    )


@dataclass(frozen=True, eq=False)
class Located:
    """Points placed on the segments of an augmented graph (not inserted as nodes).

    A point at offset ``t`` on a segment ``(a, b)`` spanning ``[t0, t1]`` is
    reached from a source at distance ``access + min(d[a] + (t - t0),
    d[b] + (t1 - t))``: exact, because the segment has no node inside, so
    the same-edge case is handled by the source's own split of the edge.
    """

    node_a: IntArray
    node_b: IntArray
    to_a: FloatArray
    to_b: FloatArray
    access: FloatArray
    ok: BoolArray

    def nearest_of(self, node_dist: FloatArray, node_source: IntArray) -> tuple[FloatArray, IntArray]:
        """Distance and nearest source of each point, from a multi-source search."""
        da = node_dist[self.node_a] + self.to_a
        db = node_dist[self.node_b] + self.to_b
        use_b = db < da
        dist = np.where(use_b, db, da) + self.access
        src = np.where(use_b, node_source[self.node_b], node_source[self.node_a])
        dist[~self.ok] = np.inf
        src[~self.ok | ~np.isfinite(dist)] = -1
        return dist, src


def locate(aug: AugmentedGraph, edge: IntArray, offset_m: FloatArray, access_m: FloatArray) -> Located:
    """Place snapped points on the segments of ``aug`` (see :class:`Located`)."""
    edge = np.asarray(edge, dtype=np.int64)
    ok = edge >= 0
    order = np.lexsort((aug.seg_t0, aug.seg_edge))
    s_edge = aug.seg_edge[order]
    s_t0 = aug.seg_t0[order]
    first_of_edge = np.searchsorted(s_edge, np.where(ok, edge, 0), side="left")
    last_of_edge = np.searchsorted(s_edge, np.where(ok, edge, 0), side="right") - 1
    # Within an edge, the last segment whose t0 <= t.
    t = np.where(ok, np.asarray(offset_m, dtype=np.float64), 0.0)
    pos = first_of_edge.copy()
    span = last_of_edge - first_of_edge
    for step in range(int(span.max(initial=0))):
        nxt = np.minimum(first_of_edge + step + 1, last_of_edge)
        move = (nxt > pos) & (s_t0[nxt] <= t)
        pos = np.where(move, nxt, pos)
    seg = order[pos]
    to_a = np.clip(t - aug.seg_t0[seg], 0.0, None)
    to_b = np.clip(aug.seg_t1[seg] - t, 0.0, None)
    access = np.where(ok, np.asarray(access_m, dtype=np.float64), np.inf)
    return Located(
        node_a=np.where(ok, aug.seg_a[seg], 0),
        node_b=np.where(ok, aug.seg_b[seg], 0),
        to_a=np.where(ok, to_a, np.inf),
        to_b=np.where(ok, to_b, np.inf),
        access=access,
        ok=ok,
    )
