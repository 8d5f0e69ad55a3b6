"""Sparse (demand, supply, distance) pairs: the one input of the capacity, backup and 2SFCA kernels.

:func:`coverage._search.within_located` returns ``(source_pos, target_pos,
distance)`` triplets with halls as sources and residents as targets; wrap them
with :func:`pairs_from_search` (or build :class:`Pairs` from any cost table
with :func:`as_pairs`). Every pair is within some walking limit; pairs not
listed are "out of reach".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._errors import CoverageInputError
from ._types import FloatArray, IntArray

__all__ = ["Pairs", "as_pairs", "pairs_from_search"]


@dataclass(frozen=True, eq=False)
class Pairs:
    """Demand-supply pairs within reach, with their network distance.

    Attributes
    ----------
    demand, supply : numpy.ndarray
        Positions of the demand unit and of the supply site (hall) of each pair.
    distance_m : numpy.ndarray
        Walking distance of each pair in metres.
    n_demand, n_supply : int
        Number of demand units and of supply sites (some may have no pair).
    """

    demand: IntArray
    supply: IntArray
    distance_m: FloatArray
    n_demand: int
    n_supply: int

    def __len__(self) -> int:
        return int(self.demand.size)

    def within(self, limit_m: float) -> Pairs:
        """Return the pairs with ``distance_m <= limit_m``."""
        keep = self.distance_m <= limit_m
        return Pairs(self.demand[keep], self.supply[keep], self.distance_m[keep], self.n_demand, self.n_supply)


def as_pairs(
    demand: npt.ArrayLike,
    supply: npt.ArrayLike,
    distance_m: npt.ArrayLike,
    *,
    n_demand: int,
    n_supply: int,
) -> Pairs:
    """Validate sparse pairs.

    Parameters
    ----------
    demand, supply : array-like of int
        Demand and supply positions of each pair.
    distance_m : array-like of float
        Walking distance of each pair (finite, >= 0).
    n_demand, n_supply : int
        How many demand units and supply sites there are in all.

    Returns
    -------
    Pairs

    Examples
    --------
    >>> p = as_pairs([0, 1], [0, 0], [120.0, 480.0], n_demand=3, n_supply=1)
    >>> len(p), len(p.within(300))
    (2, 1)
    """
    d = np.asarray(demand)
    s = np.asarray(supply)
    dist = np.asarray(distance_m, dtype=np.float64).ravel()
    if d.shape != s.shape or d.ravel().size != dist.size:
        raise CoverageInputError(
            f"pairs: demand ({d.size}), supply ({s.size}) and distance ({dist.size}) differ in length."
        )
    for name, arr, n in (("demand", d, n_demand), ("supply", s, n_supply)):
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise CoverageInputError(f"pairs: {name} positions must be integers.")
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            raise CoverageInputError(
                f"pairs: {name} positions must lie in [0, {n}); found {int(arr.min())}..{int(arr.max())}."
            )
    if dist.size and (not np.all(np.isfinite(dist)) or dist.min() < 0):
        raise CoverageInputError("pairs: distances must be finite metres >= 0 (leave unreachable pairs out).")
    d64 = d.astype(np.int64).ravel()
    s64 = s.astype(np.int64).ravel()
    key = d64 * max(n_supply, 1) + s64
    uniq, counts = np.unique(key, return_counts=True)
    if (counts > 1).any():
        dup = int(uniq[counts > 1][0])
        raise CoverageInputError(
            f"pairs: demand {dup // max(n_supply, 1)} and supply {dup % max(n_supply, 1)} are paired more than once; "
            "keep the shortest distance per pair."
        )
    return Pairs(d64, s64, dist, int(n_demand), int(n_supply))


def pairs_from_search(
    source_pos: IntArray, target_pos: IntArray, distance: FloatArray, *, n_halls: int, n_units: int
) -> Pairs:
    """Wrap the ``(source, target, distance)`` output of ``within_located`` (halls -> units) as :class:`Pairs`."""
    return as_pairs(target_pos, source_pos, distance, n_demand=n_units, n_supply=n_halls)
