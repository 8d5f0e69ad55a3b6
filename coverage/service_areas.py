"""Exact network service areas (isochrones) around halls.

For each hall, the part of the street network within the walking budget is
found exactly: the hall is snapped onto its street (the access walk counts),
one bounded Dijkstra reaches every node, and each edge is cut at the exact
point where the budget ends. The reached street segments are buffered by a
walkable width and merged per hall (never a convex hull), and all halls'
areas are dissolved into one union per radius.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ._errors import CoverageInputError
from ._geometry import EdgeGeometryIndex, band_polygons, sample_pieces, union_by_group
from ._search import AugmentedGraph, augment, reached_segments
from .network import WalkNetwork
from .sites import DEFAULT_MAX_SNAP_M, Snap, _geometry_index, snap_sites

#: Largest radius accepted, in metres (beyond it the question is not a walk).
MAX_RADIUS_M = 50_000.0

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def radii_from(
    radius_m: float | Sequence[float] | None,
    minutes: float | Sequence[float] | None,
    walk_speed_kmh: float,
) -> tuple[FloatArray, FloatArray | None]:
    """Validate radii (m) or walking times (min) and return radii in metres.

    Examples
    --------
    >>> radii_from(500, None, 4.8)[0]
    array([500.])
    >>> radii_from(None, [5, 10], 4.8)[0]
    array([400., 800.])
    """
    if minutes is not None:
        if not (math.isfinite(walk_speed_kmh) and walk_speed_kmh > 0):
            raise CoverageInputError(f"walk_speed_kmh={walk_speed_kmh!r}: give a speed > 0 km/h.")
        mins = np.atleast_1d(np.asarray(minutes, dtype=np.float64))
        if mins.size == 0 or not np.all(np.isfinite(mins)) or np.any(mins <= 0):
            raise CoverageInputError(f"minutes={minutes!r}: give walking times > 0.")
        radii = mins * walk_speed_kmh * 1000.0 / 60.0
    else:
        if radius_m is None:
            raise CoverageInputError("give radius_m (metres) or minutes (walking time).")
        mins = None
        radii = np.atleast_1d(np.asarray(radius_m, dtype=np.float64))
    if radii.size == 0 or not np.all(np.isfinite(radii)) or np.any(radii <= 0):
        raise CoverageInputError(f"radius {radii.tolist()}: every radius must be a distance > 0 m.")
    if np.any(radii > MAX_RADIUS_M):
        raise CoverageInputError(
            f"radius {radii.max():g} m is more than {MAX_RADIUS_M:g} m: not a walking distance. "
            "Is it in metres (not feet or centimetres)?"
        )
    order = np.argsort(radii, kind="stable")
    return radii[order], (mins[order] if mins is not None else None)


@dataclass(frozen=True, eq=False)
class ServiceAreas:
    """Service areas of a set of halls.

    Attributes
    ----------
    areas : geopandas.GeoDataFrame
        One row per snapped hall and radius: ``site_id``, ``name``,
        ``radius_m`` (and ``minutes`` when given as time), ``reached_length_m``,
        ``area_m2``, ``circle_area_m2`` (the straight-line circle of that
        radius) and ``area_vs_circle`` (``area_m2 / circle_area_m2``).
    union : geopandas.GeoDataFrame
        One row per radius: the dissolved union of all halls' areas, its
        ``area_m2`` and ``reached_length_m`` (street length within reach of
        at least one hall).
    sites : geopandas.GeoDataFrame
        The halls as snapped (``snapped``, ``access_m``, ``edge``), unsnapped
        ones included.
    buffer_m : float
        Half-width of the walkable band drawn around reached streets.
    timings : dict
        Seconds spent per step.
    """

    areas: gpd.GeoDataFrame
    union: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    buffer_m: float
    timings: dict[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:
        radii = ", ".join(f"{r:g}" for r in self.union["radius_m"])
        n_ok = int(self.sites["snapped"].sum())
        return (
            f"ServiceAreas({n_ok} of {len(self.sites)} halls snapped, radius {radii} m, "
            f"union {self.union['area_m2'].sum() / 1e6:,.2f} km2)"
        )

    def _repr_html_(self) -> str:
        table = self.areas.drop(columns="geometry").head(20).to_html(index=False, float_format="{:,.0f}".format)
        return f"<p><b>{self!r}</b></p>{table}"


def service_areas(
    net: WalkNetwork,
    halls: gpd.GeoDataFrame,
    radius_m: float | Sequence[float] | None = 500.0,
    *,
    minutes: float | Sequence[float] | None = None,
    walk_speed_kmh: float = 4.8,
    buffer_m: float = 25.0,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    quad_segs: int = 2,
    resolution_m: float | None = None,
    id_col: str = "site_id",
) -> ServiceAreas:
    """Compute exact walking service areas around halls.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    halls : GeoDataFrame
        Points with a ``site_id`` column (see :func:`coverage.sites.read_sites`).
    radius_m : float or sequence of float, default 500
        Walking distance(s) in metres, e.g. ``[300, 500, 1000]`` for rings.
    minutes : float or sequence of float, optional
        Walking time(s) instead of distance, at ``walk_speed_kmh``.
    walk_speed_kmh : float, default 4.8
        Walking speed that turns minutes into metres.
    buffer_m : float, default 25
        Half-width of the walkable band drawn around reached streets (the
        band is ``2 * buffer_m`` wide).
    max_snap_m : float, default 300
        Halls farther than this from any street are reported and left out.
    quad_segs : int, default 2
        Segments per quarter circle of the buffers' round ends (exact method).
    resolution_m : float, optional
        Outline the band on a grid of this cell size (marching squares)
        instead of the exact GEOS union of buffers; much faster for many
        halls, within about one cell of the exact outline. Default: a quarter
        of ``buffer_m``; ``0`` selects the exact GEOS union.
    id_col : str, default "site_id"
        Column of ``halls`` holding their unique ids.

    Returns
    -------
    ServiceAreas

    Examples
    --------
    >>> sa = service_areas(net, halls, radius_m=[300, 500])  # doctest: +SKIP
    >>> sa.areas[["site_id", "radius_m", "reached_length_m"]]  # doctest: +SKIP
    """
    radii, mins = radii_from(radius_m, minutes, walk_speed_kmh)
    if not (math.isfinite(buffer_m) and buffer_m > 0):
        raise CoverageInputError(f"buffer_m={buffer_m!r}: give a half-width > 0 m (25 m is usual).")
    if resolution_m is None:
        resolution_m = buffer_m / 4.0
    if not (math.isfinite(resolution_m) and 0 <= resolution_m <= buffer_m / 1.5):
        raise CoverageInputError(
            f"resolution_m={resolution_m!r}: give 0 (exact union) or a cell size up to "
            f"buffer_m / 1.5 = {buffer_m / 1.5:g} m."
        )
    timings: dict[str, float] = {}
    t = time.perf_counter()
    sites, snap = snap_sites(net, halls, max_snap_m=max_snap_m, id_col=id_col)
    aug = augment(net, snap.edge, snap.offset_m, snap.access_m)
    timings["snap"] = time.perf_counter() - t
    ok = np.flatnonzero(snap.ok)
    sources = aug.point_node[ok]

    t = time.perf_counter()
    hall_i, seg, ra, rb = reached_segments(aug, sources, float(radii[-1]))
    timings["search"] = time.perf_counter() - t

    index = _geometry_index(net)
    rows = []
    unions = []
    geom_time = 0.0
    for k, r in enumerate(radii):
        t = time.perf_counter()
        # Budgets for a smaller radius: reach shrinks by the difference.
        shrink = radii[-1] - r
        ra_r = np.clip(ra - shrink, 0.0, None)
        rb_r = np.clip(rb - shrink, 0.0, None)
        keep = (ra_r > 0) | (rb_r > 0)
        hi, sg, a_, b_ = hall_i[keep], seg[keep], ra_r[keep], rb_r[keep]
        seg_len = aug.seg_length[sg]
        reached = np.minimum(seg_len, a_ + b_)
        length_by_hall = np.bincount(hi, weights=reached, minlength=ok.size)
        res = resolution_m or None
        pieces = _pieces(aug, snap, ok, hi, sg, a_, b_, np.arange(ok.size))
        polys, union_geom = _band(index, pieces, ok.size, buffer_m, quad_segs, res)
        if union_geom is None:
            # Exact method: the dissolved union from the farthest reach of each segment.
            u_seg, u_a, u_b = _max_reach(sg, a_, b_)
            u_pieces = _pieces(
                aug, snap, ok, np.zeros(u_seg.size, np.int64), u_seg, u_a, u_b, np.zeros(ok.size, np.int64)
            )
            union_geom = _band(index, u_pieces, 1, buffer_m, quad_segs, res)[0][0]
        # Street length reached by at least one hall: per segment, the union of intervals.
        union_len = _union_reached_length(sg, a_, b_, seg_len)
        frame = pd.DataFrame(
            {
                id_col: sites[id_col].to_numpy()[ok],
                "name": sites["name"].to_numpy()[ok] if "name" in sites else sites[id_col].to_numpy()[ok],
                "radius_m": float(r),
                "reached_length_m": length_by_hall,
                "area_m2": shapely.area(polys),
                "circle_area_m2": math.pi * float(r) ** 2,
            }
        )
        if mins is not None:
            frame.insert(3, "minutes", float(mins[k]))
        frame["area_vs_circle"] = frame["area_m2"] / frame["circle_area_m2"]
        rows.append(gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(polys, crs=net.crs)))
        urow = {
            "radius_m": float(r),
            "halls": int(ok.size),
            "reached_length_m": union_len,
            "area_m2": float(shapely.area(union_geom)),
        }
        if mins is not None:
            urow["minutes"] = float(mins[k])
        unions.append(gpd.GeoDataFrame([urow], geometry=gpd.GeoSeries([union_geom], crs=net.crs)))
        geom_time += time.perf_counter() - t
    timings["geometry"] = geom_time
    areas = pd.concat(rows, ignore_index=True)
    union = pd.concat(unions, ignore_index=True)
    return ServiceAreas(
        areas=gpd.GeoDataFrame(areas, geometry="geometry", crs=net.crs),
        union=gpd.GeoDataFrame(union, geometry="geometry", crs=net.crs),
        sites=sites,
        buffer_m=float(buffer_m),
        timings=timings,
    )


def _max_reach(seg: IntArray, ra: FloatArray, rb: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
    """Per segment, the largest reach from each end over all sources."""
    if seg.size == 0:
        return seg, ra, rb
    useg, inv = np.unique(seg, return_inverse=True)
    max_a = np.zeros(useg.size)
    max_b = np.zeros(useg.size)
    np.maximum.at(max_a, inv, ra)
    np.maximum.at(max_b, inv, rb)
    return useg, max_a, max_b


@dataclass(frozen=True)
class _Pieces:
    """Reached street pieces (edge, t0, t1) and access walks, each with an owner."""

    edge: IntArray
    t0: FloatArray
    t1: FloatArray
    owner: IntArray
    access: FloatArray  # (n, 2, 2): from the hall to its snapped point
    access_owner: IntArray


def _pieces(
    aug: AugmentedGraph,
    snap: Snap,
    ok: IntArray,
    hall_i: IntArray,
    seg: IntArray,
    ra: FloatArray,
    rb: FloatArray,
    access_owner: IntArray,
) -> _Pieces:
    """Reached street pieces per hall plus each hall's access walk."""
    t0 = aug.seg_t0[seg]
    t1 = aug.seg_t1[seg]
    full = (ra + rb) >= (t1 - t0)
    # Pieces: full segments, else a piece from each reached end.
    from_a = ~full & (ra > 0)
    from_b = ~full & (rb > 0)
    access = np.stack(
        [
            np.column_stack([snap.x[ok], snap.y[ok]]),
            np.column_stack([snap.snapped_x[ok], snap.snapped_y[ok]]),
        ],
        axis=1,
    )
    return _Pieces(
        edge=aug.seg_edge[np.concatenate([seg[full], seg[from_a], seg[from_b]])],
        t0=np.concatenate([t0[full], t0[from_a], t1[from_b] - rb[from_b]]),
        t1=np.concatenate([t1[full], t0[from_a] + ra[from_a], t1[from_b]]),
        owner=np.concatenate([hall_i[full], hall_i[from_a], hall_i[from_b]]),
        access=access,
        access_owner=access_owner,
    )


def _band(
    index: EdgeGeometryIndex,
    pieces: _Pieces,
    n_groups: int,
    buffer_m: float,
    quad_segs: int,
    resolution_m: float | None,
) -> tuple[npt.NDArray[np.object_], shapely.Geometry | None]:
    """Buffer the pieces and merge them per owner (raster outline or exact GEOS union).

    The raster method also returns the dissolved union of all owners' bands.
    """
    if resolution_m is None:
        lines = index.pieces(pieces.edge, pieces.t0, pieces.t1)
        all_lines = np.concatenate([lines, np.asarray(shapely.linestrings(pieces.access), dtype=object)])
        owner = np.concatenate([pieces.owner, pieces.access_owner])
        buffers = shapely.buffer(all_lines, buffer_m, quad_segs=quad_segs)
        return union_by_group(buffers, owner, n_groups), None
    step = resolution_m / 2.0
    xy, which = sample_pieces(index, pieces.edge, pieces.t0, pieces.t1, step)
    # Access walks: straight lines, sampled likewise.
    a = pieces.access
    n = np.maximum(1, np.ceil(np.hypot(*(a[:, 1] - a[:, 0]).T) / step)).astype(np.int64) + 1
    rep = np.repeat(np.arange(a.shape[0]), n)
    k = (np.arange(rep.size) - np.repeat(np.cumsum(n) - n, n)) / (n[rep] - 1)
    axy = a[rep, 0] + (a[rep, 1] - a[rep, 0]) * k[:, None]
    all_xy = np.concatenate([xy, axy])
    owner = np.concatenate([pieces.owner[which], pieces.access_owner[rep]])
    return band_polygons(all_xy, owner, n_groups, buffer_m=buffer_m, resolution_m=resolution_m, union=True)


def _union_reached_length(seg: IntArray, ra: FloatArray, rb: FloatArray, seg_len: FloatArray) -> float:
    """Street length reached by at least one source (union of intervals per segment)."""
    if seg.size == 0:
        return 0.0
    frame = pd.DataFrame({"seg": seg, "ra": np.minimum(ra, seg_len), "rb": np.minimum(rb, seg_len), "len": seg_len})
    g = frame.groupby("seg", sort=False).agg(ra=("ra", "max"), rb=("rb", "max"), len=("len", "first"))
    return float(np.minimum(g["len"], g["ra"] + g["rb"]).sum())
