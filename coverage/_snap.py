"""Where points sit on the network's edges: the :class:`Snap` arrays and the nearest-edge search.

Numerical core: a :class:`Snap` holds one entry per point (edge index,
offset along the edge from its ``u`` end, straight access walk, original and
snapped projected coordinates); :func:`snap_xy` fills one from projected
coordinates, :func:`snap_points` from a GeoSeries in any CRS. A point is
snapped onto the nearest point of the nearest edge (not the nearest node);
points farther than ``max_snap_m`` from every edge stay unsnapped
(``edge == -1``).

The edge geometry and segment indexes a network needs for this are built
once per network and kept while the network lives (:func:`geometry_index`,
:func:`segment_index`), in a weak-keyed table rather than on the frozen
network object.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from ._defaults import DEFAULT_MAX_SNAP_M
from ._errors import CoverageInputError
from ._geometry import EdgeGeometryIndex, SegmentIndex
from ._types import BoolArray, FloatArray, IntArray
from ._validate import as_distance
from ._walknet import WalkNetwork

__all__ = ["Snap", "geometry_index", "segment_index", "snap_points", "snap_xy"]


@dataclass(frozen=True, eq=False)
class Snap:
    """Where points sit on the network.

    Attributes
    ----------
    edge : numpy.ndarray
        Edge index per point, -1 where unsnapped (beyond ``max_snap_m``).
    offset_m : numpy.ndarray
        Walking distance from the edge's ``u`` end to the snapped point,
        along the edge, in the edge's length units (metres).
    access_m : numpy.ndarray
        Straight-line distance from the point to its snapped position.
    x, y : numpy.ndarray
        Projected coordinates of the original points.
    snapped_x, snapped_y : numpy.ndarray
        Projected coordinates of the snapped positions (NaN where unsnapped).
    """

    edge: IntArray
    offset_m: FloatArray
    access_m: FloatArray
    x: FloatArray
    y: FloatArray
    snapped_x: FloatArray
    snapped_y: FloatArray

    @property
    def ok(self) -> BoolArray:
        """Mask of snapped points."""
        return self.edge >= 0

    def __len__(self) -> int:
        return int(self.edge.shape[0])


_GEOMETRY: weakref.WeakKeyDictionary[WalkNetwork, EdgeGeometryIndex] = weakref.WeakKeyDictionary()
_SEGMENTS: weakref.WeakKeyDictionary[WalkNetwork, SegmentIndex] = weakref.WeakKeyDictionary()


def geometry_index(net: WalkNetwork) -> EdgeGeometryIndex:
    """Return the edge geometry index of ``net``, built on first use and kept while ``net`` lives."""
    index = _GEOMETRY.get(net)
    if index is None:
        index = EdgeGeometryIndex(net)
        _GEOMETRY[net] = index
    return index


def segment_index(net: WalkNetwork) -> SegmentIndex:
    """Return the straight-segment index of ``net`` (nearest-edge queries), built once per network."""
    index = _SEGMENTS.get(net)
    if index is None:
        index = SegmentIndex(geometry_index(net))
        _SEGMENTS[net] = index
    return index


def snap_xy(net: WalkNetwork, x: FloatArray, y: FloatArray, *, max_snap_m: float = DEFAULT_MAX_SNAP_M) -> Snap:
    """Snap points given by projected coordinates (the network's CRS) onto their nearest edge.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    x, y : numpy.ndarray
        Coordinates in ``net.crs``.
    max_snap_m : float, default 300
        Points farther than this from every edge are left unsnapped.

    Returns
    -------
    Snap
        Ties between equally near edges go to the lowest edge index.
    """
    max_snap_m = as_distance(max_snap_m, name="max_snap_m", allow_zero=True, example="300")
    px = np.asarray(x, dtype=np.float64)
    py = np.asarray(y, dtype=np.float64)
    n = px.shape[0]
    edge = np.full(n, -1, dtype=np.int64)
    offset = np.full(n, np.nan)
    access = np.full(n, np.nan)
    sx = np.full(n, np.nan)
    sy = np.full(n, np.nan)
    if n:
        ei, along, dist, snx, sny = segment_index(net).nearest(px, py, max_distance=max_snap_m)
        ok = ei >= 0
        e_ok = ei[ok]
        geom_len = geometry_index(net).geom_length[e_ok]
        scale = np.divide(net.edge_length_m[e_ok], geom_len, out=np.ones_like(geom_len), where=geom_len > 0)
        edge[ok] = e_ok
        offset[ok] = np.clip(along[ok] * scale, 0.0, net.edge_length_m[e_ok])
        access[ok] = dist[ok]
        sx[ok] = snx[ok]
        sy[ok] = sny[ok]
    return Snap(edge=edge, offset_m=offset, access_m=access, x=px, y=py, snapped_x=sx, snapped_y=sy)


def snap_points(
    net: WalkNetwork, points: gpd.GeoSeries | gpd.GeoDataFrame, *, max_snap_m: float = DEFAULT_MAX_SNAP_M
) -> Snap:
    """Snap points onto the nearest point of the nearest edge.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    points : GeoSeries or GeoDataFrame of Points
        Any CRS; reprojected to the network's. A missing CRS is an error.
    max_snap_m : float, default 300
        Points farther than this from every edge are left unsnapped
        (``edge == -1``).

    Returns
    -------
    Snap
        Ties between equally near edges go to the lowest edge index.
    """
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if geoms.crs is None:
        raise CoverageInputError("points have no CRS; set it with .set_crs('EPSG:4326') (or their real CRS).")
    proj = geoms.to_crs(net.crs).to_numpy()
    return snap_xy(net, shapely.get_x(proj), shapely.get_y(proj), max_snap_m=max_snap_m)
