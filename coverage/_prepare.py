"""Edge arrays to a :class:`~coverage.network.WalkNetwork`: the one assembly both loaders share.

Whichever way the walkable edges were found (an osmnx-style graph in
:func:`coverage.network.network_from_graph`, or OSM ways simplified as arrays
in :mod:`coverage._simplify`), they end here: self-loops dropped, the graph
treated as undirected with parallel edges collapsed to the shortest (never
summed), coordinates projected to the local UTM zone (or a given CRS),
islands removed when asked, nodes renumbered, and every count reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from ._errors import CoverageInputError
from ._types import FloatArray, IntArray, ObjectArray
from ._walknet import NetworkReport, WalkNetwork
from .crs import utm_crs_for

__all__ = ["EdgeTable", "RaggedLines", "assemble_network", "symmetric_csr"]


@dataclass(frozen=True)
class RaggedLines:
    """Line coordinates of many edges in one array: edge ``i`` is ``coords[offsets[i]:offsets[i + 1]]``."""

    coords: FloatArray
    offsets: IntArray


@dataclass(frozen=True)
class EdgeTable:
    """Walkable edges and their nodes, in the input CRS, before assembly.

    Attributes
    ----------
    node_id : IntArray
        OSM id of each node (the index is the node's position).
    node_x, node_y : FloatArray
        Node coordinates in ``crs``.
    crs : pyproj.CRS
        The CRS of the coordinates.
    u, v : IntArray
        Node positions of each edge's ends (self-loops allowed; they are dropped).
    length_m : FloatArray
        Length of each edge in metres.
    highway : ObjectArray
        The ``highway`` value of each edge.
    geometry : ObjectArray or RaggedLines
        Per edge a ``LineString`` from ``u`` to ``v`` in ``crs``, ``None`` for
        a straight line, or all edges' coordinates as :class:`RaggedLines`
        (running from ``u`` to ``v``).
    copies : int
        How many directed edges each row stands for in the report (2 when
        each row is an undirected street that osmnx would hold both ways).
    raw_nodes, raw_edges : int
        Size of the graph the edges came from, for the report.
    removed_edges, removed_ways : dict
        Reason -> count of edges / OSM ways left out as not walkable.
    """

    node_id: IntArray
    node_x: FloatArray
    node_y: FloatArray
    crs: pyproj.CRS
    u: IntArray
    v: IntArray
    length_m: FloatArray
    highway: ObjectArray
    geometry: ObjectArray | RaggedLines
    copies: int = 1
    raw_nodes: int = 0
    raw_edges: int = 0
    removed_edges: dict[str, int] = field(default_factory=dict)
    removed_ways: dict[str, int] = field(default_factory=dict)


def symmetric_csr(u: IntArray, v: IntArray, length: FloatArray, n: int) -> sp.csr_matrix:
    """Return the symmetric CSR matrix of edge lengths; explicit zeros are kept (they are edges)."""
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    data = np.concatenate([length, length])
    return sp.csr_matrix((data, (rows, cols)), shape=(n, n))


def _collapse_parallel(lo: IntArray, hi: IntArray, length: FloatArray) -> tuple[IntArray, int]:
    """Return the rows to keep (the shortest per node pair) and the number of parallel edges.

    Parallel edges are counted as distinct lengths (to the millimetre) per pair
    beyond one, so the two directions of one street count once.
    """
    order = np.lexsort((np.arange(length.size), length, hi, lo))
    lo_s, hi_s = lo[order], hi[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = (lo_s[1:] != lo_s[:-1]) | (hi_s[1:] != hi_s[:-1])
    pair_len = np.round(length[order], 3)
    distinct = np.ones(order.size, dtype=bool)
    distinct[1:] = first[1:] | (pair_len[1:] != pair_len[:-1])
    return order[first], int(distinct.sum() - first.sum())


def assemble_network(
    table: EdgeTable,
    *,
    largest_only: bool,
    crs: pyproj.CRS | None,
    source: str,
) -> WalkNetwork:
    """Turn walkable edges into a :class:`WalkNetwork` (see the module notes).

    Raises
    ------
    CoverageInputError
        If no edge is left, a length is negative, or ``crs`` is geographic.
    """
    loops = table.u == table.v
    self_loops = int(loops.sum()) * table.copies
    rows = np.flatnonzero(~loops)
    if rows.size == 0:
        msg = (
            f"{source}: no walkable edge is left after removing {table.removed_ways or table.removed_edges} "
            f"(and {self_loops:,} self-loops); is this a walking or street network?"
        )
        raise CoverageInputError(msg)
    u_all, v_all, len_all = table.u[rows], table.v[rows], table.length_m[rows]
    if np.any(len_all < 0):
        bad = int(np.flatnonzero(len_all < 0)[0])
        msg = f"{source}: edge ({table.node_id[u_all[bad]]}, {table.node_id[v_all[bad]]}) has a negative length."
        raise CoverageInputError(msg)
    keep, parallel = _collapse_parallel(np.minimum(u_all, v_all), np.maximum(u_all, v_all), len_all)
    edge_rows = rows[keep]
    eu, ev, elen = u_all[keep], v_all[keep], len_all[keep]

    out_crs = _output_crs(table, crs)
    transformer = pyproj.Transformer.from_crs(table.crs, out_crs, always_xy=True)
    px, py = (np.asarray(a, dtype=np.float64) for a in transformer.transform(table.node_x, table.node_y))

    # connected components of the kept edges
    n = table.node_id.size
    adj = sp.coo_matrix((np.ones(eu.size), (eu, ev)), shape=(n, n)).tocsr()
    n_comp, labels = connected_components(adj, directed=False)
    used = np.zeros(n, dtype=bool)
    used[eu] = True
    used[ev] = True
    sizes = np.bincount(labels[used], minlength=n_comp)
    keep_node = used.copy()
    islands_removed = island_nodes = 0
    if largest_only and n_comp > 1:
        main = _largest_component(sizes, labels, eu, elen, table.node_id)
        small = (sizes > 0) & (np.arange(n_comp) != main)
        islands_removed = int(small.sum())
        island_nodes = int(sizes[small].sum())
        keep_node &= labels == main
    edge_keep = keep_node[eu] & keep_node[ev]
    edge_rows, eu, ev, elen = edge_rows[edge_keep], eu[edge_keep], ev[edge_keep], elen[edge_keep]
    geometry = _edge_geometries(table, edge_rows, eu, ev, transformer, px, py)

    new_index = np.full(n, -1, dtype=np.int64)
    kept_nodes = np.flatnonzero(keep_node)
    new_index[kept_nodes] = np.arange(kept_nodes.size)
    eu, ev = new_index[eu], new_index[ev]
    _, comp_labels = np.unique(labels[kept_nodes], return_inverse=True)
    report = NetworkReport(
        source=source,
        raw_nodes=table.raw_nodes,
        raw_edges=table.raw_edges,
        removed_edges=dict(sorted(table.removed_edges.items())),
        removed_ways=dict(sorted(table.removed_ways.items())),
        parallel_edges_collapsed=parallel,
        self_loops_removed=self_loops,
        islands_removed=islands_removed,
        island_nodes_removed=island_nodes,
        nodes=int(kept_nodes.size),
        edges=int(eu.size),
        total_length_m=float(elen.sum()),
    )
    return WalkNetwork(
        crs=out_crs,
        node_id=table.node_id[kept_nodes].astype(np.int64, copy=False),
        node_x=px[kept_nodes],
        node_y=py[kept_nodes],
        edge_u=eu,
        edge_v=ev,
        edge_length_m=elen,
        edge_geometry=geometry,
        edge_highway=np.asarray(table.highway, dtype=object)[edge_rows],
        graph=symmetric_csr(eu, ev, elen, kept_nodes.size),
        component=comp_labels.astype(np.int64),
        report=report,
    )


def _largest_component(sizes: IntArray, labels: IntArray, eu: IntArray, length: FloatArray, node_id: IntArray) -> int:
    """Return the component with the most nodes; ties go to the longer, then to the smallest OSM node id.

    The rule does not depend on the order of nodes, so every loader keeps the same component.
    """
    tied = np.flatnonzero(sizes == sizes.max())
    if tied.size == 1:
        return int(tied[0])
    total = np.bincount(labels[eu], weights=length, minlength=sizes.size)[tied]
    tied = tied[total == total.max()]
    if tied.size == 1:
        return int(tied[0])
    smallest = np.full(sizes.size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, labels, node_id)
    return int(tied[np.argmin(smallest[tied])])


def _output_crs(table: EdgeTable, crs: pyproj.CRS | None) -> pyproj.CRS:
    if crs is not None:
        out = crs
    elif table.crs.is_projected:
        out = table.crs
    else:
        out = utm_crs_for(float(np.median(table.node_x)), float(np.median(table.node_y)))
    if out.is_geographic:
        raise CoverageInputError(f"crs={out.to_string()} is geographic; give a projected CRS.")
    return out


def _edge_geometries(
    table: EdgeTable,
    rows: IntArray,
    eu: IntArray,
    ev: IntArray,
    transformer: pyproj.Transformer,
    px: FloatArray,
    py: FloatArray,
) -> ObjectArray:
    """Return projected LineStrings of the kept edges, oriented from u to v."""
    if isinstance(table.geometry, RaggedLines):
        return _ragged_lines(table.geometry, rows, transformer)
    raw = table.geometry[rows]
    out = np.empty(rows.size, dtype=object)
    has = np.array([isinstance(g, shapely.LineString) for g in raw], dtype=bool)
    idx = np.flatnonzero(~has)
    if idx.size:  # straight lines where the graph has no geometry
        starts = np.column_stack([px[eu[idx]], py[eu[idx]]])
        ends = np.column_stack([px[ev[idx]], py[ev[idx]]])
        out[idx] = shapely.linestrings(np.stack([starts, ends], axis=1))
    idx = np.flatnonzero(has)
    if idx.size:
        lines = np.asarray(list(raw[idx]), dtype=object)
        projected = shapely.transform(lines, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1])))
        # orient each from u to v: compare the first and last vertex with node u
        first, last = shapely.get_point(projected, 0), shapely.get_point(projected, -1)
        du = np.hypot(shapely.get_x(first) - px[eu[idx]], shapely.get_y(first) - py[eu[idx]])
        dv = np.hypot(shapely.get_x(last) - px[eu[idx]], shapely.get_y(last) - py[eu[idx]])
        flip = dv < du
        if flip.any():
            projected[flip] = shapely.reverse(projected[flip])
        out[idx] = projected
    return out


def _ragged_lines(lines: RaggedLines, rows: IntArray, transformer: pyproj.Transformer) -> ObjectArray:
    """Gather, project and build the LineStrings of some rows of ragged coordinates."""
    starts = lines.offsets[rows]
    counts = lines.offsets[rows + 1] - starts
    owner = np.repeat(np.arange(rows.size), counts)
    within = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
    coords = lines.coords[np.repeat(starts, counts) + within]
    x, y = transformer.transform(coords[:, 0], coords[:, 1])
    projected = np.column_stack([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)])
    return np.asarray(shapely.linestrings(projected, indices=owner), dtype=object)
