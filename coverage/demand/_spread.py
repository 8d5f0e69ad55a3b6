"""Array kernels of the spreading: clip street lines to polygons, place points along them, share totals.

Arrays of shapely geometries and numbers in, arrays out; no frames. Used by
:mod:`coverage.demand.polygons` and :mod:`coverage.demand.streets`. Divisions
are guarded so that degenerate (even denormal, 5e-324 m) segments cannot
overflow, and a memory estimate runs before points are placed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from coverage._defaults import MAX_BLOCK_CELLS
from coverage._types import BoolArray, FloatArray, IntArray, ObjectArray
from coverage._validate import check_memory

from .schema import _BYTES_PER_UNIT


def _convex_mask(areas: ObjectArray) -> BoolArray:
    """Flag single polygons without holes that equal their convex hull."""
    simple = (shapely.get_type_id(areas) == 3) & (shapely.get_num_interior_rings(areas) == 0)
    out = np.zeros(areas.size, dtype=bool)
    if simple.any():
        a = shapely.area(areas[simple])
        hull = shapely.area(shapely.convex_hull(areas[simple]))
        out[simple] = (hull - a) <= 1e-9 * hull
    return out


def _clip_convex(
    areas: ObjectArray,
    lines: ObjectArray,
    area_idx: IntArray,
    line_idx: IntArray,
) -> tuple[ObjectArray, IntArray]:
    """Clip LineStrings to convex polygons, pair by pair (Cyrus-Beck on every segment).

    Exact and vectorised: far faster than a GEOS overlay per pair for grid cells
    and hexagons. Returns the pieces and the pair index of each piece.
    """
    # Polygon edges, counter-clockwise, padded to the largest vertex count.
    used, poly_of_pair = np.unique(area_idx, return_inverse=True)
    rings = shapely.orient_polygons(areas[used], exterior_cw=False)
    coords, ring_of = shapely.get_coordinates(shapely.get_exterior_ring(rings), return_index=True)
    counts = np.bincount(ring_of, minlength=used.size)
    n_edges = int(counts.max()) - 1
    first = np.cumsum(counts) - counts
    e = np.minimum(np.arange(n_edges)[None, :], (counts - 2)[:, None])  # repeat the last edge
    start = coords[first[:, None] + e]  # (polygons, edges, 2)
    step = coords[first[:, None] + e + 1] - start
    normal = np.stack([-step[..., 1], step[..., 0]], axis=-1)  # points inside for CCW

    # Segments of every (pair) line.
    seg_xy, seg_pair = shapely.get_coordinates(lines[line_idx], return_index=True)
    same = seg_pair[:-1] == seg_pair[1:]
    p0, p1, pair = seg_xy[:-1][same], seg_xy[1:][same], seg_pair[:-1][same]
    seg_no = np.flatnonzero(same)  # consecutive segments of a line have consecutive numbers
    poly = poly_of_pair[pair]
    d = p1 - p0
    num = np.einsum("spk,spk->sp", normal[poly], p0[:, None, :] - start[poly])
    den = np.einsum("spk,sk->sp", normal[poly], d)
    # t = -num / den, computed only where |t| <= 1: a denormal segment (5e-324 m) would overflow,
    # and any |t| > 1 acts exactly like +-2 in the clamps below (entering after the end, leaving
    # before the start, or a bound outside [0, 1] that the clamps ignore).
    exact = (den != 0) & (np.abs(num) <= np.abs(den))
    t = np.where(np.signbit(num) == np.signbit(den), -2.0, 2.0)
    np.divide(-num, den, out=t, where=exact)
    t0 = np.max(np.where(den > 0, t, 0.0), axis=1, initial=0.0)
    t1 = np.min(np.where(den < 0, t, 1.0), axis=1, initial=1.0)
    outside = ((den == 0) & (num < 0)).any(axis=1)
    kept = ~outside & (t1 > t0)
    p0, p1, pair, seg_no = p0[kept], p1[kept], pair[kept], seg_no[kept]
    t0, t1, d = t0[kept], t1[kept], d[kept]
    a = p0 + t0[:, None] * d
    b = p0 + t1[:, None] * d
    # A piece continues while one kept segment runs into the next of the same line.
    cont = np.zeros(pair.size, dtype=bool)
    cont[1:] = (seg_no[1:] == seg_no[:-1] + 1) & (t1[:-1] >= 1.0) & (t0[1:] <= 0.0)
    piece = np.cumsum(~cont) - 1
    xy = np.stack([a, b], axis=1).reshape(-1, 2)
    take = np.stack([~cont, np.ones(pair.size, dtype=bool)], axis=1).reshape(-1)
    index = np.repeat(piece, 2)
    pieces = shapely.linestrings(xy[take], indices=index[take])
    piece_pair = np.zeros(int(piece.max()) + 1 if piece.size else 0, dtype=np.int64)
    piece_pair[piece] = pair
    return np.asarray(pieces, dtype=object), piece_pair


def _clip_lines(areas: ObjectArray, lines: ObjectArray) -> tuple[ObjectArray, IntArray, IntArray]:
    """Cut lines by areas: return the pieces and, per piece, the area and line index.

    Lines wholly inside an area are kept whole; lines crossing a convex area
    (grid cells, hexagons) are clipped with :func:`_clip_convex`, others with a
    GEOS intersection. Pieces of zero length are dropped (a line touching an
    area only at a point carries no street length into it).
    """
    parts, part_of = shapely.get_parts(lines, return_index=True)
    parts = np.asarray(parts, dtype=object)
    tree = shapely.STRtree(parts)
    area_idx, line_idx = tree.query(areas, predicate="intersects")
    area_idx, line_idx = area_idx.astype(np.int64), line_idx.astype(np.int64)
    shapely.prepare(areas)
    inside = shapely.contains_properly(areas[area_idx], parts[line_idx])
    convex = _convex_mask(areas)[area_idx] & ~inside
    other = ~inside & ~convex
    chunks = [parts[line_idx[inside]]]
    owners = [np.flatnonzero(inside)]
    if convex.any():
        pairs = np.flatnonzero(convex)
        # Blocks of pairs keep the (segments x polygon edges) arrays of _clip_convex bounded.
        n_edges = int(shapely.get_num_coordinates(areas).max())
        segments = shapely.get_num_coordinates(parts[line_idx[pairs]]) - 1
        block = np.cumsum(segments) * n_edges // MAX_BLOCK_CELLS
        for b in np.unique(block):
            sub = pairs[block == b]
            clipped, pair_of = _clip_convex(areas, parts, area_idx[sub], line_idx[sub])
            chunks.append(clipped)
            owners.append(sub[pair_of])
    if other.any():
        pairs = np.flatnonzero(other)
        cut = np.asarray(shapely.intersection(parts[line_idx[pairs]], areas[area_idx[pairs]]), dtype=object)
        # Explode multi-part results (MultiLineString, GeometryCollection) into parts.
        while np.isin(shapely.get_type_id(cut), (4, 5, 6, 7)).any():
            exploded, of = shapely.get_parts(cut, return_index=True)
            cut, pairs = np.asarray(exploded, dtype=object), pairs[of]
        chunks.append(cut)
        owners.append(pairs)
    pieces = np.concatenate(chunks)
    owner = np.concatenate(owners)
    keep = (shapely.get_type_id(pieces) == 1) & (shapely.length(pieces) > 0)
    owner = owner[keep]
    return pieces[keep], area_idx[owner], part_of[line_idx[owner]].astype(np.int64)


def _points_along(lines: ObjectArray, spacing_m: float) -> tuple[ObjectArray, IntArray, FloatArray]:
    """Place points every ~spacing_m along each LineString (at least one per line).

    A line of length L gets n = max(1, round(L / spacing_m)) points at the middles
    of n equal stretches; each point stands for L / n metres of street.
    Returns the points, the line index of each point and the metres it stands for.
    (Interpolates on the coordinate arrays with numpy, like
    ``shapely.line_interpolate_point`` but without a GEOS call per point.)
    """
    xy, line_of_xy = shapely.get_coordinates(lines, return_index=True)
    counts = np.bincount(line_of_xy, minlength=lines.size)
    first_xy = np.cumsum(counts) - counts
    seg = np.hypot(*np.diff(xy, axis=0).T)
    seg[line_of_xy[1:] != line_of_xy[:-1]] = 0.0  # no length between two lines
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    lengths = cum[first_xy + counts - 1] - cum[first_xy]

    n = np.maximum(1, np.rint(lengths / spacing_m)).astype(np.int64)
    line_of = np.repeat(np.arange(lines.size, dtype=np.int64), n)
    first = np.cumsum(n) - n
    k = np.arange(line_of.size, dtype=np.int64) - first[line_of]
    step = (lengths / n)[line_of]
    target = cum[first_xy[line_of]] + (k + 0.5) * step
    pos = np.searchsorted(cum, target, side="right") - 1
    pos = np.clip(pos, first_xy[line_of], first_xy[line_of] + counts[line_of] - 2)
    # The distance into the segment is clamped to [0, seg] before dividing, so that rounding
    # past the end of a denormal segment cannot overflow (hypothesis found a 5e-324 m one).
    into = np.clip(target - cum[pos], 0.0, seg[pos])
    frac = np.divide(into, seg[pos], out=np.zeros_like(into), where=seg[pos] > 0)
    at = xy[pos] + frac[:, None] * (xy[pos + 1] - xy[pos])
    return np.asarray(shapely.points(at), dtype=object), line_of, step


def _check_points_memory(lines: ObjectArray, spacing_m: float) -> None:
    """Refuse to place more points along ``lines`` than the memory limit allows, naming ``spacing_m``."""
    n = float(np.maximum(1.0, np.rint(shapely.length(lines) / spacing_m)).sum()) if lines.size else 0.0
    check_memory(
        n * _BYTES_PER_UNIT,
        what=f"spreading people over the streets at spacing_m={spacing_m:g} ({n:,.0f} demand points)",
        setting="spacing_m",
    )


def _share(
    weights: FloatArray,
    owner: IntArray,
    totals: FloatArray,
) -> FloatArray:
    """Share ``totals[owner]`` among the units of each owner in proportion to weights."""
    sums = np.bincount(owner, weights=weights, minlength=totals.size)
    # The ratio first: weights / sums is in [0, 1] even for denormal street lengths, where
    # totals * weights would underflow and lose people.
    return np.asarray(totals[owner] * (weights / sums[owner]), dtype=np.float64)


def _numbered(source: ObjectArray) -> ObjectArray:
    """Ids ``"<source>#<k>"`` numbering the units of each source from 0."""
    s = pd.Series(source, dtype="str")
    k = s.groupby(s, sort=False).cumcount()
    return np.asarray((s + "#" + k.astype(str)).to_numpy(), dtype=object)
