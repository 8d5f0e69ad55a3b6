"""Geometry of the web map: display coordinates, packed coordinates and size budgets.

* :func:`to_display` projects to WGS-84 (then GCJ-02 for Amap tiles),
  optionally simplified in metres, each geometry on its own (linear in the
  vertices; never one topology-preserving pass over a whole network).
* :func:`features` writes GeoJSON features. Lines and polygons are
  *packed*: their coordinates are whole millionths of a degree (the same
  1e-6° grid as before, about 0.1 m), each vertex stored as the difference
  to the one before (``{"type": "MultiPolygon", "p": [[[x0, y0, dx, dy,
  ...]]]}``); ``_map_app.js`` unpacks them into plain GeoJSON before Leaflet
  sees them. Points stay plain GeoJSON. The picture is the same; the file
  is about 2.5 times smaller and is written without a Python loop per
  coordinate.
* :func:`fit_budget` keeps a layer under a vertex budget on big maps:
  first the small holes (block interiors inside a walking area) go, then
  the simplification tolerance grows; it reports what it did, for the note
  on the map. Layers under budget are left exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import shapely

Shift = Callable[[np.ndarray], np.ndarray]

#: Coordinates of the web map are stored on this grid (degrees).
GRID_DEG: Final = 1e-6
_SCALE: Final = 1_000_000
_LINES: Final = (1, 5)  # LineString, MultiLineString
_POLYGONS: Final = (3, 6)  # Polygon, MultiPolygon


def to_display(gdf: gpd.GeoDataFrame | gpd.GeoSeries, shift: Shift | None, *, simplify_m: float = 0.0) -> Any:
    """Project to WGS-84 (then into GCJ-02 for Amap tiles), optionally simplified in metres (each geometry alone)."""
    out = gdf
    if simplify_m > 0:
        if out.crs is not None and out.crs.is_geographic:
            out = out.to_crs(out.estimate_utm_crs())
        geoms = out.geometry.to_numpy() if isinstance(out, gpd.GeoDataFrame) else out.to_numpy()
        simple = shapely.simplify(geoms, simplify_m, preserve_topology=False)
        if isinstance(out, gpd.GeoDataFrame):
            out = out.set_geometry(gpd.GeoSeries(simple, index=out.index, crs=out.crs))
        else:
            out = gpd.GeoSeries(simple, index=out.index, crs=out.crs)
    out = out.to_crs("EPSG:4326")
    geoms = out.geometry.to_numpy() if isinstance(out, gpd.GeoDataFrame) else out.to_numpy()
    if shift is not None:
        geoms = shapely.transform(geoms, shift)
    if isinstance(out, gpd.GeoDataFrame):
        return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs="EPSG:4326"))
    return gpd.GeoSeries(geoms, index=out.index, crs="EPSG:4326")


def _points(geoms: np.ndarray) -> list[dict[str, Any] | None]:
    out: list[dict[str, Any] | None] = [None] * len(geoms)
    ok = np.flatnonzero((shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms))
    if ok.size:
        xy = np.round(shapely.get_coordinates(geoms[ok]), 6).tolist()
        for i, c in zip(ok.tolist(), xy, strict=True):
            out[i] = {"type": "Point", "coordinates": c}
    return out


def _packed(geoms: np.ndarray, family: tuple[int, int]) -> dict[int, dict[str, Any]]:
    """Pack the lines or polygons of ``geoms`` (see the module notes); keyed by position."""
    idx = np.flatnonzero(np.isin(shapely.get_type_id(geoms), family) & ~shapely.is_empty(geoms))
    if not idx.size:
        return {}
    kind, coords, offsets = shapely.to_ragged_array(geoms[idx])
    q = np.rint(coords * _SCALE).astype(np.int64)
    levels = [np.asarray(o) for o in offsets]
    if kind in (shapely.GeometryType.LINESTRING, shapely.GeometryType.POLYGON):
        levels.append(np.arange(len(idx) + 1))  # one part per geometry
    polygons = family == _POLYGONS
    if polygons:  # (Multi)Polygon: coords <- rings <- polygons <- geometries
        rings, polys, geoms_off = levels
        first_ring = polys[geoms_off[:-1]]
    else:  # (Multi)LineString: coords <- lines <- geometries
        rings, geoms_off = levels
        polys = None
        first_ring = geoms_off[:-1]
    delta = np.empty_like(q)
    if len(q):
        delta[0] = q[0]
        delta[1:] = q[1:] - q[:-1]
        starts = rings[first_ring]
        starts = starts[starts < len(q)]
        delta[starts] = q[starts]  # each geometry starts from its absolute first vertex
    parts = [delta[a:b].ravel() for a, b in zip(rings[:-1].tolist(), rings[1:].tolist(), strict=True)]
    out: dict[int, dict[str, Any]] = {}
    for j, pos in enumerate(idx.tolist()):
        if polygons:
            assert polys is not None
            p0, p1 = int(geoms_off[j]), int(geoms_off[j + 1])
            value: list[Any] = [parts[int(polys[p]) : int(polys[p + 1])] for p in range(p0, p1)]
            out[pos] = {"type": "MultiPolygon", "p": value}
        else:
            out[pos] = {"type": "MultiLineString", "p": parts[int(geoms_off[j]) : int(geoms_off[j + 1])]}
    return out


def geometries(geoms: Sequence[Any] | np.ndarray) -> list[dict[str, Any] | None]:
    """Return the map geometry of each shapely geometry: points plain, lines and polygons packed."""
    arr = np.asarray(geoms, dtype=object)
    if not len(arr):
        return []
    out = _points(arr)
    for family in (_LINES, _POLYGONS):
        for pos, geom in _packed(arr, family).items():
            out[pos] = geom
    return out


def features(geoms: Sequence[Any] | np.ndarray, props: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return a FeatureCollection from shapely geometries and property dicts (empty geometries dropped)."""
    shapes = geometries(geoms)
    props = props if props is not None else [{}] * len(shapes)
    out = [
        {"type": "Feature", "geometry": g, "properties": p} for g, p in zip(shapes, props, strict=True) if g is not None
    ]
    return {"type": "FeatureCollection", "features": out}


def pack_quads(quads: np.ndarray) -> np.ndarray:
    """Pack four-cornered polygons (cells) as one flat integer array, 8 numbers a cell.

    Each cell is its first four corners on the 1e-6° grid: the first corner
    relative to the previous cell's first corner (the first cell's is
    absolute), the other three relative to the corner before. The page
    closes each ring.
    """
    arr = np.asarray(quads, dtype=object)
    if not len(arr):
        return np.zeros(0, dtype=np.int64)
    coords = shapely.get_coordinates(shapely.get_exterior_ring(arr))
    if len(coords) != 5 * len(arr):
        raise ValueError("pack_quads needs polygons of exactly four corners")
    q = np.rint(coords * _SCALE).astype(np.int64).reshape(len(arr), 5, 2)[:, :4, :]
    out = q.copy()
    out[:, 1:, :] = q[:, 1:, :] - q[:, :-1, :]
    out[1:, 0, :] = q[1:, 0, :] - q[:-1, 0, :]
    return out.ravel()


def simplify_each(geoms: Any, tolerance_m: float) -> np.ndarray:
    """Douglas-Peucker on every polygon or line *part* on its own, the parts put back together.

    GEOS repairs a simplified polygon that became invalid; on one
    multi-polygon of a whole city (a union of walking areas) that repair is
    a union of every part and took 12 s, part by part it takes 0.4 s.
    """
    arr = np.asarray(geoms, dtype=object)
    if tolerance_m <= 0 or not len(arr):
        return arr
    multi = np.isin(shapely.get_type_id(arr), (5, 6))  # MultiLineString, MultiPolygon
    out = arr.copy()
    if (~multi).any():
        out[~multi] = shapely.simplify(arr[~multi], tolerance_m, preserve_topology=False)
    if multi.any():
        parts, index = shapely.get_parts(arr[multi], return_index=True)
        simple = shapely.simplify(parts, tolerance_m, preserve_topology=False)
        keep = ~shapely.is_empty(simple)
        rebuilt = np.array([shapely.GeometryCollection()] * int(multi.sum()), dtype=object)
        polys = shapely.get_type_id(arr[multi]) == 6
        for want, build in ((polys, shapely.multipolygons), (~polys, shapely.multilinestrings)):
            sel = keep & want[index]
            if sel.any():
                rebuilt = build(simple[sel], indices=index[sel], out=rebuilt)
        out[multi] = rebuilt
    return out


def vertices(geoms: Any) -> int:
    """Return the number of coordinates of ``geoms`` (an array or GeoSeries)."""
    return int(shapely.get_num_coordinates(np.asarray(geoms, dtype=object)).sum())


def drop_small_holes(geoms: np.ndarray, min_area_m2: float) -> np.ndarray:
    """Return the polygons without their holes smaller than ``min_area_m2`` (projected metres)."""
    arr = np.asarray(geoms, dtype=object)
    idx = np.flatnonzero(np.isin(shapely.get_type_id(arr), _POLYGONS) & ~shapely.is_empty(arr))
    if not idx.size or min_area_m2 <= 0:
        return arr
    kind, coords, offsets = shapely.to_ragged_array(arr[idx])
    levels = [np.asarray(o) for o in offsets]
    if kind == shapely.GeometryType.POLYGON:
        levels.append(np.arange(len(idx) + 1))
    rings, polys, geoms_off = levels
    x, y = coords[:, 0], coords[:, 1]
    cross = np.zeros(len(coords))
    cross[:-1] = x[:-1] * y[1:] - x[1:] * y[:-1]
    starts = rings[:-1]
    cross[rings[1:] - 1] = 0.0  # the closing vertex does not pair with the next ring
    area = np.abs(np.add.reduceat(cross, starts)) / 2.0 if len(starts) else np.zeros(0)
    exterior = np.zeros(len(starts), dtype=bool)
    exterior[polys[:-1]] = True
    keep = exterior | (area >= min_area_m2)
    if keep.all():
        return arr
    ring_len = np.diff(rings)
    kept_coords = np.repeat(keep, ring_len)
    new_rings = np.concatenate([[0], np.cumsum(ring_len[keep])])
    kept_before = np.concatenate([[0], np.cumsum(keep)])
    new_polys = kept_before[polys]
    simple = shapely.from_ragged_array(
        shapely.GeometryType.MULTIPOLYGON, coords[kept_coords], (new_rings, new_polys, geoms_off)
    )
    out = arr.copy()
    out[idx] = simple
    return out


@dataclass(frozen=True)
class Reduction:
    """What :func:`fit_budget` did beyond the base simplification (for the note on the map)."""

    tolerance_m: float
    min_hole_m2: float


_HOLES_M2: Final = (2_500.0, 10_000.0, 40_000.0, 160_000.0)
_TOLERANCES_M: Final = (2.0, 5.0, 10.0, 20.0, 40.0, 80.0)


def fit_budget(geoms: Any, *, base_m: float, max_vertices: int, polygons: bool) -> tuple[np.ndarray, Reduction | None]:
    """Simplify ``geoms`` (projected) at ``base_m``; over ``max_vertices``, reduce further.

    Polygons first lose their holes below 0.25, 1, 4 and 16 ha (block
    interiors of a walking area), then the tolerance grows (2 ... 80 m)
    until the layer fits or the steps run out. Douglas-Peucker on each
    geometry (GEOS repairs polygons it would make invalid): linear in the
    vertices, unlike the topology-preserving simplifier, which took 38 s on
    the walking area of a 100 k-node city and 0.2 s this way.

    Returns
    -------
    geoms : ndarray
        The simplified geometries (same order, still projected).
    reduction : Reduction or None
        None when the base simplification was enough.
    """
    arr = np.asarray(geoms, dtype=object)
    out = simplify_each(arr, base_m)
    if vertices(out) <= max_vertices:
        return out, None
    holes = 0.0
    if polygons:
        for holes in _HOLES_M2:
            out = simplify_each(drop_small_holes(arr, holes), base_m)
            if vertices(out) <= max_vertices:
                return out, Reduction(base_m, holes)
        arr = drop_small_holes(arr, holes)
    tol = base_m
    for tol in (t for t in _TOLERANCES_M if t > base_m):
        out = simplify_each(arr, tol)
        if vertices(out) <= max_vertices:
            break
    return out, Reduction(tol, holes)
