"""Numerical core: walkable bands outlined on a grid (the default service-area polygons).

Each group's sample points (one group per hall) are marked on a grid of
``resolution_m`` cells aligned to multiples of the resolution, dilated by a
disk of radius ``buffer_m`` (a union of separable rectangles, computed with
cumulative sums) and outlined with marching squares (contourpy), so that the
outline lies within about one cell of the exact buffer.

Outlining each hall on its own grid costs a few milliseconds of fixed
overhead per hall; instead, the halls' grids are packed side by side into
one *atlas* (separated by empty cells, so nothing touches), dilated and
outlined at once, and each outline is moved back to its hall. The dissolved
union of all halls is marked on one grid covering them all and outlined once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from ._types import BoolArray, FloatArray, IntArray, ObjectArray

#: Cells added to the dilation radius to offset the lattice disk's shortfall.
BAND_CALIBRATION = 0.1

#: Cells of one atlas (a batch of halls outlined together).
ATLAS_CELLS = 4_000_000


def _disk_rectangles(radius_cells: float) -> list[tuple[int, int]]:
    """Half-widths (w, h) of rectangles whose union is the lattice disk of the radius."""
    r = int(np.floor(radius_cells + 1e-9))
    rects = []
    for h in range(r + 1):
        w = int(np.floor(np.sqrt(max(radius_cells**2 - h * h, 0.0)) + 1e-9))
        next_w = int(np.floor(np.sqrt(max(radius_cells**2 - (h + 1) ** 2, 0.0)) + 1e-9)) if h < r else -1
        if w != next_w:  # not inside the next, taller rectangle
            rects.append((w, h))
    return rects


def _grow_into(out: BoolArray, src: BoolArray, by: int, axis: int, done: int = 0) -> None:
    """OR into ``out`` the image ``src`` shifted by ``done + 1 .. by`` cells both ways along ``axis``.

    Plain slices, no arithmetic: about a byte of memory traffic per cell and step.
    """
    n = src.shape[axis]
    for k in range(done + 1, min(by, n - 1) + 1):
        lo = [slice(None)] * src.ndim
        hi = [slice(None)] * src.ndim
        lo[axis], hi[axis] = slice(0, n - k), slice(k, n)
        out[tuple(lo)] |= src[tuple(hi)]
        out[tuple(hi)] |= src[tuple(lo)]


def dilate_disk(mask: BoolArray, radius_cells: float) -> BoolArray:
    """Dilate a boolean image by a disk, as a union of separable rectangles.

    The rectangles' vertical dilations grow incrementally (a taller one
    starts from the shorter one), then each is dilated horizontally into the
    result.
    """
    out = np.zeros_like(mask)
    tall = mask.copy()
    done = 0
    for w, h in sorted(_disk_rectangles(radius_cells), key=lambda r: r[1]):
        _grow_into(tall, mask, h, axis=0, done=done)
        done = max(done, h)
        out |= tall
        _grow_into(out, tall, w, axis=1)
    return out


def _band_geometry(buffer_m: float, resolution_m: float) -> tuple[float, float, int]:
    """Dilation radius (cells), marching-squares level and padding of a band.

    Dilate by a whole number of cells, then place the outline between the
    last cell centre inside and the first outside (the level), so that it lies
    at ``buffer_m`` on average.
    """
    f = buffer_m / resolution_m + BAND_CALIBRATION
    radius_cells = float(np.floor(f - 0.05))
    level = float(np.clip(1.0 - (f - radius_cells), 0.02, 0.98))
    pad = int(np.ceil(radius_cells)) + 2
    return radius_cells, level, pad


def band_polygons(
    xy: FloatArray,
    group: IntArray,
    n_groups: int,
    *,
    buffer_m: float,
    resolution_m: float,
    union: bool = False,
) -> tuple[ObjectArray, shapely.Geometry | None]:
    """Polygons of the band within ``buffer_m`` of each group's sample points.

    Groups without points get an empty polygon. With ``union``, the groups'
    cells are also merged on one grid and outlined once: the dissolved union
    of all bands.

    Returns
    -------
    (polygons, union)
        One polygon (or multipolygon) per group, and the union (None unless asked).
    """
    out = np.empty(n_groups, dtype=object)
    out[:] = shapely.Polygon()
    if xy.shape[0] == 0:
        return out, (shapely.Polygon() if union else None)
    c = float(resolution_m)
    radius_cells, level, pad = _band_geometry(buffer_m, c)
    order = np.argsort(group, kind="stable")
    g = group[order]
    cells = np.rint(xy[order] / c).astype(np.int64)  # cell centres at multiples of c
    starts = np.concatenate([[0], np.flatnonzero(np.diff(g)) + 1])
    tiles = _Tiles(cells, starts, pad)
    for batch in tiles.batches(ATLAS_CELLS):
        atlas, ax, ay = tiles.atlas(batch)
        atlas = dilate_disk(atlas, radius_cells)
        polys = _outline_parts(atlas, level)
        _assign(polys, batch, tiles, ax, ay, g[starts], c, out)
    merged = None
    if union:
        merged = _union_outline(cells, pad, radius_cells, level, c)
    return out, merged


class _Tiles:
    """Per group, the bounding box of its cells grown by ``pad`` (a tile of the atlas)."""

    def __init__(self, cells: IntArray, starts: IntArray, pad: int) -> None:
        self.cells = cells
        self.starts = starts
        self.ends = np.append(starts[1:], cells.shape[0])
        self.x0 = np.minimum.reduceat(cells[:, 0], starts) - pad
        self.y0 = np.minimum.reduceat(cells[:, 1], starts) - pad
        self.w = np.maximum.reduceat(cells[:, 0], starts) - self.x0 + pad + 1
        self.h = np.maximum.reduceat(cells[:, 1], starts) - self.y0 + pad + 1

    def batches(self, max_cells: int) -> list[IntArray]:
        """Tiles grouped so that each atlas holds about ``max_cells`` cells (a big tile alone)."""
        area = self.w * self.h
        out: list[IntArray] = []
        current: list[int] = []
        total = 0
        for t in range(area.size):
            if current and total + area[t] > max_cells:
                out.append(np.asarray(current, dtype=np.int64))
                current, total = [], 0
            current.append(t)
            total += int(area[t])
        if current:
            out.append(np.asarray(current, dtype=np.int64))
        return out

    def atlas(self, batch: IntArray) -> tuple[BoolArray, IntArray, IntArray]:
        """Pack the batch's tiles into rows (tallest first) and mark their cells.

        Returns the atlas and each tile's lower-left corner in it.
        """
        w, h = self.w[batch], self.h[batch]
        width = int(max(w.max(), np.ceil(np.sqrt(float((w * h).sum())) * 1.2)))
        ax = np.zeros(batch.size, dtype=np.int64)
        ay = np.zeros(batch.size, dtype=np.int64)
        x = y = row_h = 0
        for k in np.argsort(-h, kind="stable"):
            if x + w[k] > width:
                x, y, row_h = 0, y + row_h, 0
            ax[k], ay[k] = x, y
            x += int(w[k])
            row_h = max(row_h, int(h[k]))
        atlas = np.zeros((y + row_h, width), dtype=bool)
        for k, t in enumerate(batch):
            pts = self.cells[self.starts[t] : self.ends[t]]
            atlas[pts[:, 1] - self.y0[t] + ay[k], pts[:, 0] - self.x0[t] + ax[k]] = True
        return atlas, ax, ay


def _outline_parts(mask: BoolArray, level: float) -> list[tuple[FloatArray, IntArray]]:
    """Marching-squares polygons of a boolean grid, in grid coordinates (cell centres at integers).

    Each polygon is ``(points, ring_offsets)``: its shell first, then its holes.
    """
    import contourpy

    if not mask.any():
        return []
    gen = contourpy.contour_generator(z=mask.astype(np.float64), fill_type=contourpy.FillType.OuterOffset)
    filled: Any = gen.filled(level, 1.5)
    return list(zip(filled[0], filled[1], strict=True))


def _polygons(parts: list[tuple[FloatArray, IntArray]], shifts: FloatArray, c: float) -> ObjectArray:
    """Shapely polygons of outline parts, each moved by its shift (grid cells) and scaled to metres."""
    if not parts:
        return np.empty(0, dtype=object)
    sizes = np.array([p.shape[0] for p, _ in parts])
    coords = (np.concatenate([p for p, _ in parts]) + np.repeat(shifts, sizes, axis=0)) * c
    ring_sizes = np.concatenate([np.diff(o) for _, o in parts])
    ring_id = np.repeat(np.arange(ring_sizes.size), ring_sizes)
    poly_of_ring = np.repeat(np.arange(len(parts)), [len(o) - 1 for _, o in parts])
    rings = shapely.linearrings(coords, indices=ring_id)
    return np.asarray(shapely.polygons(rings, indices=poly_of_ring), dtype=object)


def _collect(polys: ObjectArray, owner: IntArray, n: int) -> ObjectArray:
    """One geometry per owner: its polygon, a multipolygon of several, or an empty polygon."""
    out = np.empty(n, dtype=object)
    out[:] = shapely.Polygon()
    if polys.size == 0:
        return out
    order = np.argsort(owner, kind="stable")
    multi = np.asarray(shapely.multipolygons(polys[order], indices=owner[order]), dtype=object)
    present = np.unique(owner)
    single = shapely.get_num_geometries(multi) == 1
    multi[single] = shapely.get_geometry(multi[single], 0)
    out[present] = multi
    return out


def _assign(
    polys: list[tuple[FloatArray, IntArray]],
    batch: IntArray,
    tiles: _Tiles,
    ax: IntArray,
    ay: IntArray,
    group_of_tile: IntArray,
    c: float,
    out: ObjectArray,
) -> None:
    """Move each atlas polygon back to its tile's place and gather them per group."""
    if not polys:
        return
    first = np.array([p[0][0] for p in polys])  # a shell point lies inside its tile
    inside = (
        (first[:, None, 0] >= ax[None, :])
        & (first[:, None, 0] <= ax[None, :] + tiles.w[batch][None, :] - 1)
        & (first[:, None, 1] >= ay[None, :])
        & (first[:, None, 1] <= ay[None, :] + tiles.h[batch][None, :] - 1)
    )
    owner = np.argmax(inside, axis=1)
    t = batch[owner]
    shifts = np.column_stack([tiles.x0[t] - ax[owner], tiles.y0[t] - ay[owner]]).astype(np.float64)
    geoms = _collect(_polygons(polys, shifts, c), owner, batch.size)
    has = np.unique(owner)
    out[group_of_tile[batch[has]]] = geoms[has]


def _union_outline(cells: IntArray, pad: int, radius_cells: float, level: float, c: float) -> shapely.Geometry:
    """Outline of the union of every group's band: all cells on one grid, dilated and outlined once."""
    x0, y0 = cells.min(axis=0) - pad
    x1, y1 = cells.max(axis=0) + pad
    whole = np.zeros((int(y1 - y0) + 1, int(x1 - x0) + 1), dtype=bool)
    whole[cells[:, 1] - y0, cells[:, 0] - x0] = True
    whole = dilate_disk(whole, radius_cells)
    parts = _outline_parts(whole, level)
    shifts = np.tile(np.array([x0, y0], dtype=np.float64), (len(parts), 1))
    polys = _polygons(parts, shifts, c)
    return _collect(polys, np.zeros(polys.size, dtype=np.int64), 1)[0]


__all__ = ["BAND_CALIBRATION", "band_polygons", "dilate_disk"]
