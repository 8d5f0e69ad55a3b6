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

from . import _defaults as defaults
from ._frames import site_frame
from ._geometry import EdgeGeometryIndex, sample_pieces, union_by_group
from ._raster import band_polygons
from ._search import AugmentedGraph, augment, reached_segments
from ._snap import Snap, geometry_index
from ._types import FloatArray, IntArray
from ._validate import as_count, as_distance, as_radii, check_memory
from .network import WalkNetwork
from .sites import snap_sites

__all__ = ["ServiceAreas", "service_areas"]

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
        from ._format import frame_html

        table = frame_html(self.areas)
        return f"<p><b>{self!r}</b></p>{table}"


def service_areas(
    net: WalkNetwork,
    halls: gpd.GeoDataFrame,
    *,
    radius_m: float | Sequence[float] | None = None,
    minutes: float | Sequence[float] | None = None,
    walk_speed_kmh: float = defaults.DEFAULT_WALK_SPEED_KMH,
    buffer_m: float = defaults.DEFAULT_BUFFER_M,
    max_snap_m: float = defaults.DEFAULT_MAX_SNAP_M,
    quad_segs: int = 2,
    resolution_m: float | None = None,
    id_col: str = "site_id",
    name_col: str | None = "name",
) -> ServiceAreas:
    """Compute exact walking service areas around halls.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    halls : GeoDataFrame
        Points with a ``site_id`` column (see :func:`coverage.sites.read_sites`).
    radius_m : float or sequence of float, optional
        Walking distance(s) in metres, e.g. ``[300, 500, 1000]`` for rings
        (default 500).
    minutes : float or sequence of float, optional
        Walking time(s) instead of distance, at ``walk_speed_kmh``, e.g.
        ``[5, 10, 15]`` for the life-circle rings.
    walk_speed_kmh : float, default 4.5
        Walking speed that turns minutes into metres (and metres into the
        ``minutes`` column).
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
        of ``buffer_m``; ``0`` selects the exact GEOS union. At least 0.5 m.
    id_col : str, default "site_id"
        Column of ``halls`` holding their unique ids.
    name_col : str or None, default "name"
        Column of ``halls`` holding their names (the ids if absent).

    Returns
    -------
    ServiceAreas

    Examples
    --------
    >>> sa = service_areas(net, halls, radius_m=[300, 500])  # doctest: +SKIP
    >>> sa.areas[["site_id", "radius_m", "reached_length_m"]]  # doctest: +SKIP
    """
    given = as_radii(defaults.DEFAULT_RADIUS_M if radius_m is None and minutes is None else radius_m, minutes,
                     walk_speed_kmh=walk_speed_kmh)
    radii, mins = given.metres, given.label_minutes
    buffer_m = as_distance(buffer_m, name="buffer_m", maximum=500.0, example="25")
    quad_segs = as_count(quad_segs, name="quad_segs", minimum=1, maximum=64)
    max_snap_m = as_distance(max_snap_m, name="max_snap_m", maximum=5_000.0, example="300")
    if resolution_m is None:
        resolution_m = buffer_m / 4.0
    resolution_m = as_distance(resolution_m, name="resolution_m", allow_zero=True, minimum=defaults.MIN_RESOLUTION_M,
                               maximum=buffer_m / 1.5, example=f"{buffer_m / 4:g} (or 0 for the exact union)")
    timings: dict[str, float] = {}
    t = time.perf_counter()
    sites, snap = snap_sites(net, site_frame(halls, id_col=id_col, name_col=name_col), max_snap_m=max_snap_m)
    if resolution_m > 0 and snap.ok.any():
        # The union is outlined on one grid over the halls' extent grown by the largest reach.
        grow = 2 * (float(radii[-1]) + buffer_m)
        w = float(np.ptp(snap.snapped_x[snap.ok])) + grow
        h = float(np.ptp(snap.snapped_y[snap.ok])) + grow
        check_memory(w * h / resolution_m**2 * 9.0, what="the outline grid of the service areas' union",
                     setting="resolution_m")
    aug = augment(net, snap.edge, snap.offset_m, snap.access_m)
    timings["snap"] = time.perf_counter() - t
    ok = np.flatnonzero(snap.ok)
    sources = aug.point_node[ok]

    t = time.perf_counter()
    hall_i, seg, ra, rb = reached_segments(aug, sources, float(radii[-1]))
    timings["search"] = time.perf_counter() - t

    index = geometry_index(net)
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
                "site_id": sites["site_id"].to_numpy()[ok],
                "name": sites["name"].to_numpy()[ok],
                "radius_m": float(r),
                "reached_length_m": length_by_hall,
                "area_m2": shapely.area(polys),
                "circle_area_m2": math.pi * float(r) ** 2,
            }
        )
        frame.insert(3, "minutes", float(mins[k]))
        frame["area_vs_circle"] = frame["area_m2"] / frame["circle_area_m2"]
        rows.append(gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(polys, crs=net.crs)))
        urow = {
            "radius_m": float(r),
            "halls": int(ok.size),
            "reached_length_m": union_len,
            "area_m2": float(shapely.area(union_geom)),
            "minutes": float(mins[k]),
        }
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
