"""Backup coverage: residents within reach of at least two halls.

A resident reached by one hall loses service when that hall closes or is
full; a resident reached by two or more has a backup (spopt issue 415 asks for
the same count). The count comes straight from the sparse pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._errors import CoverageInputError
from ._pairs import Pairs
from ._types import FloatArray, IntArray
from ._validate import as_count, as_distance

__all__ = ["BackupCoverage", "backup_coverage", "backup_from_counts"]


@dataclass(frozen=True, eq=False)
class BackupCoverage:
    """Residents by the number of halls within reach.

    Attributes
    ----------
    halls_within : numpy.ndarray
        Per demand unit: number of distinct halls within reach.
    covered : float
        Residents within reach of at least one hall.
    backup : float
        Residents within reach of at least ``min_sites`` halls.
    total : float
        All residents.
    min_sites : int
    by_count : dict
        Residents by exact number of halls within reach (0, 1, 2, ...).
    """

    halls_within: IntArray
    covered: float
    backup: float
    total: float
    min_sites: int
    by_count: dict[int, float]

    def headline(self) -> str:
        """One sentence with covered and backup-covered residents."""
        cov = self.covered / self.total if self.total else 0.0
        bak = self.backup / self.total if self.total else 0.0
        return (
            f"{self.covered:,.0f} of {self.total:,.0f} residents ({cov:.1%}) reach a hall; "
            f"{self.backup:,.0f} ({bak:.1%}) reach at least {self.min_sites} (backup coverage)."
        )

    def __repr__(self) -> str:
        return "BackupCoverage\n" + self.headline()


def backup_coverage(
    pairs: Pairs,
    population: npt.ArrayLike,
    *,
    radius_m: float | None = None,
    min_sites: int = 2,
) -> BackupCoverage:
    """Count residents within reach of at least ``min_sites`` halls.

    Parameters
    ----------
    pairs : Pairs
        Demand-hall pairs within reach.
    population : array-like
        Residents per demand unit.
    radius_m : float, optional
        Keep only pairs within this distance (default: all pairs).
    min_sites : int, default 2
        Halls needed for a resident to count as backed up.

    Returns
    -------
    BackupCoverage

    Examples
    --------
    >>> from coverage._pairs import as_pairs
    >>> p = as_pairs([0, 0, 1], [0, 1, 1], [100.0, 300.0, 50.0], n_demand=3, n_supply=2)
    >>> b = backup_coverage(p, [10, 20, 5])
    >>> b.covered, b.backup, b.halls_within.tolist()
    (30.0, 10.0, [2, 1, 0])
    """
    near = pairs if radius_m is None else pairs.within(as_distance(radius_m, name="radius_m"))
    count = np.bincount(near.demand, minlength=pairs.n_demand).astype(np.int64)
    return backup_from_counts(count, population, min_sites=min_sites)


def backup_from_counts(halls_within: npt.ArrayLike, population: npt.ArrayLike, *, min_sites: int = 2) -> BackupCoverage:
    """Count residents backed up, from the number of halls within reach of each unit.

    Parameters
    ----------
    halls_within : array-like of int
        Per demand unit, distinct halls within reach (e.g. ``CoverageResult.units["halls_within"]``,
        at each group's own threshold).
    population : array-like
        Residents per demand unit.
    min_sites : int, default 2
        Halls needed for a resident to count as backed up.

    Returns
    -------
    BackupCoverage

    Examples
    --------
    >>> backup_from_counts([2, 1, 0], [10, 20, 5]).backup
    10.0
    """
    k = as_count(min_sites, name="min_sites", minimum=1)
    pop: FloatArray = np.asarray(population, dtype=np.float64).ravel()
    count = np.asarray(halls_within).ravel()
    if pop.size != count.size:
        raise CoverageInputError(f"population has {pop.size} values for {count.size} demand units.")
    if not np.all(np.isfinite(pop)) or np.any(pop < 0):
        raise CoverageInputError("population must be finite numbers >= 0.")
    if count.size and (not np.issubdtype(count.dtype, np.integer) or count.min() < 0):
        raise CoverageInputError("halls_within must be whole numbers >= 0.")
    count = count.astype(np.int64)
    by_count = {int(c): float(pop[count == c].sum()) for c in np.unique(count)}
    return BackupCoverage(
        halls_within=count,
        covered=float(pop[count >= 1].sum()),
        backup=float(pop[count >= k].sum()),
        total=float(pop.sum()),
        min_sites=k,
        by_count=by_count,
    )
