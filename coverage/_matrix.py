"""Numerical core: the sparse coverage matrix (which candidate reaches which demand unit).

Arrays in, arrays out. Both access walks count. Searches run from whichever
side has fewer snapped points, in batches on search windows; the other side
is placed on the street segments (:class:`coverage._search.Located`) and
evaluated per window, so no dense all-pairs matrix is ever formed and the
work grows with the pairs found.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._defaults import MAX_BLOCK_CELLS
from ._errors import CoverageInternalError
from ._search import AugmentedGraph, Located, augment, bounded_blocks, locate
from ._snap import Snap
from ._types import BoolArray, FloatArray, IntArray
from .network import WalkNetwork

__all__ = ["CoverageMatrix", "coverage_matrix"]


@dataclass(frozen=True, eq=False)
class CoverageMatrix:
    """Which candidate reaches which demand unit within a walking threshold.

    Attributes
    ----------
    cover : scipy.sparse.csc_array
        ``n_demand x n_candidates`` booleans, True where the walk (access
        walks included) is at most the demand unit's threshold (``radius_m``,
        or the per-unit thresholds it was built with). Column-major: the
        optimizer's layout.
    distance_m : scipy.sparse.csc_array or None
        The walking distance of every True pair of ``cover`` (same sparsity
        pattern; a distance of 0 is stored explicitly); None when built
        without distances (they cost 8 bytes a pair).
    radius_m : float
        The largest threshold.
    """

    cover: sp.csc_array
    distance_m: sp.csc_array | None
    radius_m: float

    def __post_init__(self) -> None:
        d = self.distance_m
        if d is not None and (self.cover.shape != d.shape or self.cover.nnz != d.nnz):
            raise CoverageInternalError("CoverageMatrix: cover and distance_m differ in shape or sparsity")

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_demand, n_candidates)``."""
        return int(self.cover.shape[0]), int(self.cover.shape[1])

    @property
    def nnz(self) -> int:
        """Number of covering pairs."""
        return int(self.cover.nnz)

    def within(self, threshold_m: FloatArray) -> sp.csc_array:
        """Return the pairs within a threshold per demand unit (at most ``radius_m``).

        Parameters
        ----------
        threshold_m : numpy.ndarray
            One threshold per demand row, e.g. a shorter reach for slower walkers.

        Returns
        -------
        scipy.sparse.csc_array
            Boolean, same shape as ``cover``.
        """
        if self.distance_m is None:
            raise CoverageInternalError("within() needs a matrix built with distances")
        threshold_m = np.asarray(threshold_m, dtype=np.float64)
        if threshold_m.shape != (self.shape[0],):
            raise CoverageInternalError(f"within: {threshold_m.shape} thresholds for {self.shape[0]} demand rows")
        dist = self.distance_m
        keep = dist.data <= threshold_m[dist.indices]
        out = sp.csc_array((keep, dist.indices.copy(), dist.indptr.copy()), shape=self.shape)
        out.eliminate_zeros()
        return out

    def __repr__(self) -> str:
        n_d, n_c = self.shape
        return f"CoverageMatrix({n_d:,} demand x {n_c:,} candidates, {self.nnz:,} pairs within {self.radius_m:g} m)"


def coverage_matrix(
    net: WalkNetwork,
    demand_snap: Snap,
    candidate_snap: Snap,
    *,
    radius_m: float | FloatArray,
    rows: BoolArray | None = None,
    distances: bool = True,
) -> CoverageMatrix:
    """Build the coverage matrix of snapped demand units and candidates.

    The smaller side is inserted into the network and searched from, in
    batches of nearby sources on search windows (:func:`coverage._search.bounded_blocks`);
    the other side is placed on the street segments. For each batch the
    points whose segment touches a reached node are evaluated at once, as a
    dense ``batch x points`` array, from the distances to their segment's two
    ends: no per-pair bookkeeping, and the work grows with the pairs found.

    Parameters
    ----------
    net : WalkNetwork
        The walking network both were snapped onto.
    demand_snap, candidate_snap : coverage.sites.Snap
        Where the demand units (rows) and candidates (columns) sit; unsnapped
        points get empty rows or columns.
    radius_m : float or numpy.ndarray
        Largest walk (access walks included) of a covering pair: one radius,
        or one threshold per demand unit (e.g. shorter for slower walkers).
    rows : numpy.ndarray of bool, optional
        Demand rows wanted (e.g. those not yet covered); the others stay
        empty and cost nothing.
    distances : bool, default True
        Keep the walking distance of each pair (``distance_m``).

    Returns
    -------
    CoverageMatrix
    """
    n_d, n_c = len(demand_snap), len(candidate_snap)
    threshold = np.broadcast_to(np.asarray(radius_m, dtype=np.float64), (n_d,))
    limit = float(threshold.max(initial=0.0))
    demand_ok = demand_snap.ok if rows is None else demand_snap.ok & np.asarray(rows, dtype=bool)
    from_candidates = int(candidate_snap.ok.sum()) <= int(demand_ok.sum())
    if from_candidates:
        src, tgt, src_ok, tgt_ok = candidate_snap, demand_snap, candidate_snap.ok, demand_ok
    else:
        src, tgt, src_ok, tgt_ok = demand_snap, candidate_snap, demand_ok, candidate_snap.ok
    aug = augment(net, np.where(src_ok, src.edge, -1), src.offset_m, src.access_m)
    loc = locate(aug, np.where(tgt_ok, tgt.edge, -1), tgt.offset_m, tgt.access_m)
    pieces = _pairs(
        aug,
        np.flatnonzero(src_ok),
        loc,
        limit,
        threshold,
        demand_is_source=not from_candidates,
        keep_distance=distances,
    )
    major, minor = (n_c, n_d) if from_candidates else (n_d, n_c)
    indptr, indices, data = _assemble(pieces, major, minor, keep_distance=distances)
    del pieces
    if from_candidates:  # sources are candidates: the pieces are already column-major
        cover = sp.csc_array((np.ones(indices.size, dtype=bool), indices, indptr), shape=(n_d, n_c))
        distance = sp.csc_array((data, indices.copy(), indptr.copy()), shape=(n_d, n_c)) if distances else None
    else:
        cover = sp.csr_array((np.ones(indices.size, dtype=bool), indices, indptr), shape=(n_d, n_c)).tocsc()
        distance = sp.csr_array((data, indices, indptr), shape=(n_d, n_c)).tocsc() if distances else None
    cover.sort_indices()
    if distance is not None:
        distance.sort_indices()
    return CoverageMatrix(cover=cover, distance_m=distance, radius_m=limit)


@dataclass(frozen=True)
class _Piece:
    """Pairs of one batch (and chunk of points), grouped by source, points ascending."""

    sources: IntArray  # the batch's source positions (in the inputs)
    counts: IntArray  # pairs per source
    points: IntArray  # point positions (in the inputs), source-major
    distance: FloatArray  # empty unless distances are kept


def _pairs(
    aug: AugmentedGraph,
    sources: IntArray,
    loc: Located,
    limit: float,
    threshold: FloatArray,
    *,
    demand_is_source: bool,
    keep_distance: bool,
) -> list[_Piece]:
    """All (source, located point) pairs within their demand unit's threshold, batch by batch."""
    targets = np.flatnonzero(loc.ok)
    n = aug.n_nodes
    # Points listed under both ends of their segment, to find those touching a window.
    ends = np.concatenate([loc.node_a[targets], loc.node_b[targets]])
    owner = np.concatenate([targets, targets])
    order = np.argsort(ends, kind="stable")
    ptr = np.searchsorted(ends[order], np.arange(n + 1))
    by_node = owner[order]
    del ends, owner, order
    local_of = np.full(n, -1, dtype=np.int64)
    small = np.int32 if loc.ok.size < 2**31 else np.int64
    pieces: list[_Piece] = []
    for block in bounded_blocks(aug, aug.point_node[sources], limit=limit):
        reached = block.nodes[(block.dist <= limit).any(axis=0)]
        if reached.size == 0:
            continue
        counts = ptr[reached + 1] - ptr[reached]
        starts = np.repeat(ptr[reached] - np.cumsum(counts) + counts, counts)
        near = np.unique(by_node[starts + np.arange(counts.sum())])
        if near.size == 0:
            continue
        local_of[block.nodes] = np.arange(block.nodes.size)
        la, lb = local_of[loc.node_a[near]], local_of[loc.node_b[near]]
        local_of[block.nodes] = -1
        padded = np.hstack([block.dist, np.full((block.dist.shape[0], 1), np.inf)])  # column -1: outside
        src = sources[block.source_pos]
        step = max(1, MAX_BLOCK_CELLS // max(padded.shape[0], 1))
        for lo in range(0, near.size, step):
            pts = near[lo : lo + step]
            d = np.minimum(padded[:, la[lo : lo + step]] + loc.to_a[pts], padded[:, lb[lo : lo + step]] + loc.to_b[pts])
            d += loc.access[pts]
            bound = threshold[src][:, None] if demand_is_source else threshold[pts][None, :]
            hit = d <= bound
            si, ti = np.nonzero(hit)  # row-major: grouped by source, points ascending
            pieces.append(
                _Piece(
                    sources=src,
                    counts=hit.sum(axis=1),
                    points=pts[ti].astype(small),
                    distance=d[si, ti] if keep_distance else np.empty(0),
                )
            )
    return pieces


def _assemble(
    pieces: list[_Piece], n_major: int, n_minor: int, *, keep_distance: bool
) -> tuple[IntArray, IntArray, FloatArray]:
    """Place the pieces into one compressed structure over the sources (indptr, indices, data)."""
    per_source = np.zeros(n_major, dtype=np.int64)
    for piece in pieces:
        per_source[piece.sources] += piece.counts
    indptr: IntArray = np.concatenate([[0], np.cumsum(per_source)]).astype(np.int64)
    small = np.int32 if n_minor < 2**31 else np.int64
    indices: IntArray = np.empty(int(indptr[-1]), dtype=small)
    data: FloatArray = np.empty(indices.size if keep_distance else 0)
    fill = indptr[:-1].copy()
    for piece in pieces:
        total = int(piece.counts.sum())
        if total == 0:
            continue
        offset = np.repeat(fill[piece.sources] - (np.cumsum(piece.counts) - piece.counts), piece.counts)
        where = offset + np.arange(total)
        indices[where] = piece.points
        if keep_distance:
            data[where] = piece.distance
        fill[piece.sources] += piece.counts
    return indptr, indices, data
