"""Accessibility scores: two-step floating catchment area (2SFCA) and its enhanced form.

Step 1, at each supply site ``j`` (a hall with a capacity ``S_j``): the ratio
of supply to the demand that can reach it,

    ``R_j = S_j / Σ_{i: d_ij ≤ r} P_i W(d_ij)``.

Step 2, at each demand unit ``i``: the sum of the ratios it can reach,

    ``A_i = Σ_{j: d_ij ≤ r} R_j W(d_ij)``.

``W`` is 1 within the radius (classic 2SFCA, Luo and Wang 2003), a step
function of distance zones (enhanced 2SFCA, Luo and Qi 2009) or a Gaussian
``exp(-d² / (2σ²))``. ``A_i`` is supply per resident (e.g. hall places per
person); the population-weighted mean of ``A`` equals total reachable supply
over total population when ``W = 1`` and every supply site has demand.

The same definitions as PySAL's ``access`` package (``two_stage_fca``,
``enhanced_two_stage_fca``, ``weights.step_fn``, ``weights.gaussian``); the
tests check equality to 1e-9 on the same cost matrix. One difference: a supply
site that no one reaches has ratio 0 here (``access`` divides by zero); it is
listed in :attr:`Accessibility.idle_supply`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._errors import CoverageInputError
from ._pairs import Pairs
from ._types import FloatArray, IntArray
from ._validate import as_distance

__all__ = ["Accessibility", "two_step_fca"]


@dataclass(frozen=True, eq=False)
class Accessibility:
    """2SFCA scores.

    Attributes
    ----------
    score : numpy.ndarray
        Per demand unit: supply per resident within reach (0 where none).
    supply_ratio : numpy.ndarray
        Per supply site: ``R_j``, supply over the weighted demand reaching it.
    weighted_demand : numpy.ndarray
        Per supply site: ``Σ P_i W(d_ij)``.
    idle_supply : numpy.ndarray
        Positions of supply sites that no demand reaches (ratio set to 0).
    method : str
        ``"2SFCA"``, ``"E2SFCA zones ..."`` or ``"Gaussian 2SFCA sigma ..."``.
    radius_m : float
    """

    score: FloatArray
    supply_ratio: FloatArray
    weighted_demand: FloatArray
    idle_supply: IntArray
    method: str
    radius_m: float

    def headline(self, population: npt.ArrayLike | None = None) -> str:
        """One line: the method and the spread of the scores (population-weighted if given)."""
        w = np.ones_like(self.score) if population is None else np.asarray(population, dtype=np.float64)
        mean = float((w * self.score).sum() / w.sum()) if w.sum() > 0 else math.nan
        zero = float(w[self.score == 0].sum())
        who = "people" if population is not None else "units"
        return (
            f"{self.method} within {self.radius_m:g} m: mean score {mean:.4g} per resident, "
            f"max {float(self.score.max(initial=0.0)):.4g}; {zero:,.0f} {who} "
            f"reach no supply; {self.idle_supply.size} supply site(s) reached by no one."
        )

    def __repr__(self) -> str:
        return (
            f"Accessibility({self.score.size} demand units, {self.supply_ratio.size} supply sites)\n" + self.headline()
        )


def _weights(
    distance: FloatArray, radius: float, zones: Sequence[tuple[float, float]] | None, sigma: float | None
) -> tuple[FloatArray, str]:
    if zones is not None and sigma is not None:
        raise CoverageInputError("give zones (enhanced 2SFCA) or gaussian_sigma_m, not both.")
    if zones is not None:
        spec = sorted((as_distance(u, name="zones upper bound"), float(w)) for u, w in zones)
        if not spec or any(not math.isfinite(w) or w < 0 for _, w in spec):
            raise CoverageInputError(
                "zones: give (upper_m, weight) pairs with weights >= 0, e.g. [(300, 1.0), (500, 0.68)]."
            )
        uppers = np.array([u for u, _ in spec])
        values = np.array([w for _, w in spec] + [0.0])
        # A distance in (u_{k-1}, u_k] gets weight k; beyond the last bound, 0 (as access.weights.step_fn).
        out = values[np.searchsorted(uppers, distance, side="left")]
        label = "E2SFCA zones " + ", ".join(f"<={u:g} m: {w:g}" for u, w in spec)
        return out, label
    if sigma is not None:
        s = as_distance(sigma, name="gaussian_sigma_m")
        return np.exp(-distance * distance / (2.0 * s * s)), f"Gaussian 2SFCA sigma {s:g} m"
    return np.ones_like(distance), "2SFCA"


def two_step_fca(
    pairs: Pairs,
    population: npt.ArrayLike,
    capacity: npt.ArrayLike,
    *,
    radius_m: float,
    zones: Sequence[tuple[float, float]] | None = None,
    gaussian_sigma_m: float | None = None,
) -> Accessibility:
    """Two-step floating catchment area scores per demand unit.

    Parameters
    ----------
    pairs : Pairs
        Demand-supply pairs with their walking distance (see :mod:`coverage._pairs`).
    population : array-like
        People per demand unit (length ``pairs.n_demand``).
    capacity : array-like
        Supply per site (places, staff, visits a day; length ``pairs.n_supply``).
    radius_m : float
        Catchment: pairs farther than this are ignored (inclusive).
    zones : sequence of (upper_m, weight), optional
        Enhanced 2SFCA: distance zones with inclusive upper bounds and their
        weights, e.g. ``[(300, 1.0), (600, 0.68), (1000, 0.22)]``; beyond the
        last bound the weight is 0.
    gaussian_sigma_m : float, optional
        Gaussian decay ``exp(-d² / (2σ²))`` within the radius.

    Returns
    -------
    Accessibility

    Examples
    --------
    >>> from coverage._pairs import as_pairs
    >>> p = as_pairs([0, 1, 1], [0, 0, 1], [100.0, 200.0, 50.0], n_demand=2, n_supply=2)
    >>> acc = two_step_fca(p, [100, 300], [10, 30], radius_m=500)
    >>> acc.supply_ratio.tolist(), acc.score.tolist()
    ([0.025, 0.1], [0.025, 0.125])
    """
    radius = as_distance(radius_m, name="radius_m")
    pop = np.asarray(population, dtype=np.float64).ravel()
    cap = np.asarray(capacity, dtype=np.float64).ravel()
    if pop.size != pairs.n_demand or cap.size != pairs.n_supply:
        raise CoverageInputError(
            f"population has {pop.size} values for {pairs.n_demand} demand units and capacity {cap.size} for "
            f"{pairs.n_supply} supply sites; give one value per unit and per site."
        )
    for name, arr in (("population", pop), ("capacity", cap)):
        if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0):
            raise CoverageInputError(f"{name} must be finite numbers >= 0.")
    near = pairs.within(radius)
    w, method = _weights(near.distance_m, radius, zones, gaussian_sigma_m)
    demand_w = np.bincount(near.supply, weights=pop[near.demand] * w, minlength=pairs.n_supply).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand_w > 0, cap / np.where(demand_w > 0, demand_w, 1.0), 0.0)
    score = np.bincount(near.demand, weights=ratio[near.supply] * w, minlength=pairs.n_demand).astype(np.float64)
    idle = np.flatnonzero(demand_w <= 0).astype(np.int64)
    return Accessibility(
        score=score,
        supply_ratio=ratio,
        weighted_demand=demand_w,
        idle_supply=idle,
        method=method,
        radius_m=radius,
    )
