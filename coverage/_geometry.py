"""Vectorised geometry helpers: pieces of edges, and buffered unions per group."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely

from .network import WalkNetwork

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


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
        self.cum = np.cumsum(step)  # global running geometry length
        self.base = self.cum[self.start]
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
