"""Numerical core: the sparse coverage matrix (which candidate reaches which demand unit).

Arrays in, arrays out. Both access walks count. Searches run from whichever
side has fewer snapped points; the other side is placed on the street
segments (:class:`coverage._search.Located`), so no dense all-pairs matrix is
ever formed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._errors import CoverageInternalError
from ._search import augment, locate, within_located
from ._snap import Snap
from ._types import FloatArray
from .network import WalkNetwork

__all__ = ["CoverageMatrix", "coverage_matrix"]


@dataclass(frozen=True, eq=False)
class CoverageMatrix:
    """Which candidate reaches which demand unit within a walking radius.

    Attributes
    ----------
    cover : scipy.sparse.csr_array
        ``n_demand x n_candidates`` booleans, True where the walk (access
        walks included) is at most ``radius_m``.
    distance_m : scipy.sparse.csr_array
        The walking distance of every True pair of ``cover`` (same sparsity
        pattern; a distance of 0 is stored explicitly).
    radius_m : float
        The radius the matrix was built for.
    """

    cover: sp.csr_array
    distance_m: sp.csr_array
    radius_m: float

    def __post_init__(self) -> None:
        if self.cover.shape != self.distance_m.shape or self.cover.nnz != self.distance_m.nnz:
            raise CoverageInternalError("CoverageMatrix: cover and distance_m differ in shape or sparsity")

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_demand, n_candidates)``."""
        return int(self.cover.shape[0]), int(self.cover.shape[1])

    @property
    def nnz(self) -> int:
        """Number of covering pairs."""
        return int(self.cover.nnz)

    def within(self, threshold_m: FloatArray) -> sp.csr_array:
        """Return the pairs within a threshold per demand unit (at most ``radius_m``).

        Parameters
        ----------
        threshold_m : numpy.ndarray
            One threshold per demand row, e.g. a shorter reach for slower walkers.

        Returns
        -------
        scipy.sparse.csr_array
            Boolean, same shape as ``cover``.
        """
        threshold_m = np.asarray(threshold_m, dtype=np.float64)
        if threshold_m.shape != (self.shape[0],):
            raise CoverageInternalError(f"within: {threshold_m.shape} thresholds for {self.shape[0]} demand rows")
        dist = self.distance_m
        rows = np.repeat(np.arange(self.shape[0]), np.diff(dist.indptr))
        keep = dist.data <= threshold_m[rows]
        return sp.csr_array((keep, dist.indices, dist.indptr), shape=self.shape)

    def __repr__(self) -> str:
        n_d, n_c = self.shape
        return f"CoverageMatrix({n_d:,} demand x {n_c:,} candidates, {self.nnz:,} pairs within {self.radius_m:g} m)"


def coverage_matrix(net: WalkNetwork, demand_snap: Snap, candidate_snap: Snap, *, radius_m: float) -> CoverageMatrix:
    """Build the coverage matrix of snapped demand units and candidates.

    Parameters
    ----------
    net : WalkNetwork
        The walking network both were snapped onto.
    demand_snap, candidate_snap : coverage.sites.Snap
        Where the demand units (rows) and candidates (columns) sit; unsnapped
        points get empty rows or columns.
    radius_m : float
        Largest walk (access walks included) of a covering pair.

    Returns
    -------
    CoverageMatrix
    """
    n_d, n_c = len(demand_snap), len(candidate_snap)
    from_candidates = int(candidate_snap.ok.sum()) <= int(demand_snap.ok.sum())
    src, tgt = (candidate_snap, demand_snap) if from_candidates else (demand_snap, candidate_snap)
    aug = augment(net, src.edge, src.offset_m, src.access_m)
    loc = locate(aug, tgt.edge, tgt.offset_m, tgt.access_m)
    ok_src = np.flatnonzero(src.ok)
    s_pos, t_pos, dist = within_located(aug, aug.point_node[ok_src], loc, limit=radius_m)
    s_idx = ok_src[s_pos]
    rows, cols = (t_pos, s_idx) if from_candidates else (s_idx, t_pos)
    cover = sp.csr_array((np.ones(rows.size, dtype=bool), (rows, cols)), shape=(n_d, n_c))
    distance = sp.csr_array((dist, (rows, cols)), shape=(n_d, n_c))
    return CoverageMatrix(cover=cover, distance_m=distance, radius_m=float(radius_m))
