"""Vectorised geometry helpers: pieces of edges, and buffered unions per group."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely

from .network import WalkNetwork

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _segmented_cumsum(values: FloatArray, start: IntArray, count: IntArray) -> FloatArray:
    """Return running sums restarted at each segment ``start[i] .. start[i] + count[i]``, summed in order.

    Segments of equal length are summed together as the rows of a 2-D array,
    so each sum is the plain left-to-right sum of its own values.
    """
    out = np.zeros_like(values)
    for c in np.unique(count):
        if c <= 0:
            continue
        rows = start[count == c]
        idx = rows[:, None] + np.arange(c)[None, :]
        out[idx] = np.cumsum(values[idx], axis=1)
    return out


class EdgeGeometryIndex:
    """Flat vertex arrays of every edge geometry, for fast substring extraction."""

    def __init__(self, net: WalkNetwork) -> None:
        coords, owner = shapely.get_coordinates(net.edge_geometry, return_index=True)
        self.coords = coords
        counts = np.bincount(owner, minlength=net.n_edges)
        self.start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self.count = counts.astype(np.int64)
        step = np.zeros(coords.shape[0])
        step[1:] = np.hypot(np.diff(coords[:, 0]), np.diff(coords[:, 1]))
        step[self.start] = 0.0  # no step across edges
        self.cum = np.cumsum(step)  # global running geometry length (for searching)
        self.base = self.cum[self.start]
        # Per-edge running length, summed within each edge only: an edge's offsets do
        # not depend on the edges before it (the same on a sub-network, bit for bit).
        self.local = _segmented_cumsum(step, self.start, self.count)
        self.geom_length = shapely.length(net.edge_geometry)
        self.scale = np.divide(
            self.geom_length,
            net.edge_length_m,
            out=np.ones_like(self.geom_length),
            where=net.edge_length_m > 0,
        )
        self.geometry = net.edge_geometry

    def pieces(self, edge: IntArray, t0: FloatArray, t1: FloatArray) -> npt.NDArray[np.object_]:
        """LineStrings of edges between offsets ``t0 < t1`` (metres of walking length).

        Parameters
        ----------
        edge : numpy.ndarray
            Edge index per piece.
        t0, t1 : numpy.ndarray
            Offsets from the edge's ``u`` end, in the edge's length units.

        Returns
        -------
        numpy.ndarray of LineString
        """
        n = edge.size
        if n == 0:
            return np.empty(0, dtype=object)
        g0 = np.clip(t0 * self.scale[edge], 0.0, self.geom_length[edge])
        g1 = np.clip(t1 * self.scale[edge], 0.0, self.geom_length[edge])
        lines = self.geometry[edge]
        p0 = shapely.get_coordinates(shapely.line_interpolate_point(lines, g0))
        p1 = shapely.get_coordinates(shapely.line_interpolate_point(lines, g1))
        lo = self.start[edge] + 1
        hi = self.start[edge] + self.count[edge] - 1  # exclusive of the last vertex
        i0 = np.clip(np.searchsorted(self.cum, self.base[edge] + g0, side="right"), lo, hi)
        i1 = np.clip(np.searchsorted(self.cum, self.base[edge] + g1, side="left"), lo, hi)
        i1 = np.maximum(i1, i0)
        inner = i1 - i0
        sizes = inner + 2
        total = int(sizes.sum())
        owner = np.repeat(np.arange(n), sizes)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        pos = np.arange(total) - offsets[owner]
        out = np.empty((total, 2))
        first = pos == 0
        lastm = pos == (sizes[owner] - 1)
        mid = ~(first | lastm)
        out[first] = p0
        out[lastm] = p1
        out[mid] = self.coords[i0[owner[mid]] + pos[mid] - 1]
        return np.asarray(shapely.linestrings(out, indices=owner), dtype=object)


def sample_pieces(
    index: EdgeGeometryIndex, edge: IntArray, t0: FloatArray, t1: FloatArray, step: float
) -> tuple[FloatArray, IntArray]:
    """Points along pieces of edges, at most ``step`` apart, ends included.

    Returns
    -------
    (xy, owner)
        Coordinates and the index of the piece each point belongs to.
    """
    if edge.size == 0:
        return np.empty((0, 2)), np.empty(0, np.int64)
    g0 = np.clip(t0 * index.scale[edge], 0.0, index.geom_length[edge])
    g1 = np.clip(t1 * index.scale[edge], 0.0, index.geom_length[edge])
    n = np.maximum(1, np.ceil((g1 - g0) / step)).astype(np.int64) + 1
    owner = np.repeat(np.arange(edge.size), n)
    k = np.arange(owner.size) - np.repeat(np.cumsum(n) - n, n)
    d = g0[owner] + (g1 - g0)[owner] * (k / (n[owner] - 1))
    e = edge[owner]
    target = index.base[e] + d
    lo = index.start[e]
    hi = index.start[e] + index.count[e] - 2
    i = np.clip(np.searchsorted(index.cum, target, side="right") - 1, lo, hi)
    span = index.cum[i + 1] - index.cum[i]
    frac = np.divide(target - index.cum[i], span, out=np.zeros_like(span), where=span > 0)
    frac = np.clip(frac, 0.0, 1.0)[:, None]
    xy = index.coords[i] + (index.coords[i + 1] - index.coords[i]) * frac
    return xy, owner


def union_by_group(
    polygons: npt.NDArray[np.object_], group: IntArray, n_groups: int, *, grid_size: float = 0.0
) -> npt.NDArray[np.object_]:
    """Union polygons per group; groups with none get an empty polygon."""
    out = np.empty(n_groups, dtype=object)
    out[:] = shapely.Polygon()
    if polygons.size == 0:
        return out
    order = np.argsort(group, kind="stable")
    g = group[order]
    polys = polygons[order]
    bounds = np.flatnonzero(np.diff(g)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [g.size]])
    for s, e in zip(starts, ends, strict=True):
        out[g[s]] = shapely.union_all(polys[s:e], grid_size=grid_size or None)
    return out


class SegmentIndex:
    """Nearest-street lookup on the straight pieces of every edge geometry.

    Long pieces are cut into sub-pieces of at most ``piece_m`` so that a
    KD-tree on their midpoints bounds the search: a piece whose midpoint is
    farther than ``best + piece_m / 2`` cannot be nearer than ``best``.
    """

    def __init__(self, index: EdgeGeometryIndex, *, piece_m: float = 20.0) -> None:
        from scipy.spatial import cKDTree

        coords = index.coords
        n_vert = coords.shape[0]
        last_of_edge = np.zeros(n_vert, dtype=bool)
        last_of_edge[index.start + index.count - 1] = True
        seg_start = np.flatnonzero(~last_of_edge)  # vertex i -> i + 1 is a segment
        edge_of_vertex = np.repeat(np.arange(index.count.size), index.count)
        p0 = coords[seg_start]
        p1 = coords[seg_start + 1]
        seg_len = np.hypot(*(p1 - p0).T)
        # Split into sub-pieces of at most piece_m.
        parts = np.maximum(1, np.ceil(seg_len / piece_m)).astype(np.int64)
        owner = np.repeat(np.arange(seg_start.size), parts)
        k = np.arange(owner.size) - np.repeat(np.cumsum(parts) - parts, parts)
        f0 = k / parts[owner]
        f1 = (k + 1) / parts[owner]
        d = p1[owner] - p0[owner]
        self.a = p0[owner] + d * f0[:, None]
        self.b = p0[owner] + d * f1[:, None]
        self.edge = edge_of_vertex[seg_start[owner]]
        # Geometry-length position of each sub-piece start, from the edge's start.
        self.along0 = index.local[seg_start[owner]] + seg_len[owner] * f0
        self.half = float((seg_len / parts).max(initial=0.0)) / 2.0
        self.tree = cKDTree((self.a + self.b) / 2.0)

    def nearest(
        self, x: FloatArray, y: FloatArray, *, max_distance: float, k: int = 8
    ) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """Nearest edge of each point.

        Returns
        -------
        (edge, along, distance, sx, sy)
            Edge index (-1 if none within ``max_distance``), distance along
            the edge geometry from its start, distance to it, and the nearest
            point's coordinates. Ties go to the lowest edge index.
        """
        pts = np.column_stack([x, y])
        n = pts.shape[0]
        edge = np.full(n, -1, dtype=np.int64)
        along = np.full(n, np.nan)
        dist = np.full(n, np.inf)
        sx = np.full(n, np.nan)
        sy = np.full(n, np.nan)
        if n == 0 or self.edge.size == 0:
            return edge, along, dist, sx, sy
        k = min(k, self.edge.size)
        dk, ik = self.tree.query(pts, k=k)
        dk = dk.reshape(n, k)
        ik = ik.reshape(n, k)
        rows = np.repeat(np.arange(n), k)
        self._update(pts, rows, ik.ravel(), edge, along, dist, sx, sy, dense_k=k)
        # Points whose k-th midpoint could still hide a nearer piece: full search.
        unsure = np.flatnonzero((dk[:, -1] <= dist + self.half) & (dist <= max_distance + 1e-9))
        if unsure.size and k < self.edge.size:
            found = self.tree.query_ball_point(pts[unsure], dist[unsure] + self.half)
            lens = np.fromiter((len(f) for f in found), dtype=np.int64, count=unsure.size)
            cand = np.fromiter((j for f in found for j in f), dtype=np.int64, count=int(lens.sum()))
            self._update(pts, np.repeat(unsure, lens), cand, edge, along, dist, sx, sy)
        far = dist > max_distance
        edge[far] = -1
        along[far] = np.nan
        sx[far] = np.nan
        sy[far] = np.nan
        return edge, along, dist, sx, sy

    def _update(
        self,
        pts: FloatArray,
        rows: IntArray,
        cand: IntArray,
        edge: IntArray,
        along: FloatArray,
        dist: FloatArray,
        sx: FloatArray,
        sy: FloatArray,
        dense_k: int = 0,
    ) -> None:
        p = pts[rows]
        a = self.a[cand]
        d = self.b[cand] - a
        dd = (d * d).sum(axis=1)
        s = np.divide(((p - a) * d).sum(axis=1), dd, out=np.zeros_like(dd), where=dd > 0)
        s = np.clip(s, 0.0, 1.0)
        q = a + d * s[:, None]
        dist_c = np.hypot(*(p - q).T)
        e_c = self.edge[cand]
        along_c = self.along0[cand] + np.sqrt(dd) * s
        # Best per row: smallest distance, then lowest edge, then smallest along.
        if dense_k:
            n_rows = rows.size // dense_k
            dm = dist_c.reshape(n_rows, dense_k)
            em = np.where(dm == dm.min(axis=1, keepdims=True), e_c.reshape(n_rows, dense_k), np.iinfo(np.int64).max)
            am = np.where(em == em.min(axis=1, keepdims=True), along_c.reshape(n_rows, dense_k), np.inf)
            best = np.arange(n_rows) * dense_k + np.argmin(am, axis=1)
        else:
            order = np.lexsort((along_c, e_c, dist_c, rows))
            r_sorted = rows[order]
            first = np.ones(order.size, dtype=bool)
            first[1:] = r_sorted[1:] != r_sorted[:-1]
            best = order[first]
        r = rows[best]
        better = (dist_c[best] < dist[r]) | ((dist_c[best] == dist[r]) & (e_c[best] < edge[r]))
        r, best = r[better], best[better]
        edge[r] = e_c[best]
        along[r] = along_c[best]
        dist[r] = dist_c[best]
        sx[r] = q[best, 0]
        sy[r] = q[best, 1]
