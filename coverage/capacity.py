"""Capacity: allocate residents to halls within reach, exactly, as a transportation problem.

Each hall ``j`` serves at most ``C_j`` residents (or ``C_j`` visits a day, with
a visit rate per resident); each demand unit ``i`` has ``P_i`` residents and
may be served by any hall within reach. On the sparse pairs ``(i, j, d_ij)``:

1. maximise the residents served ``Σ x_ij`` subject to ``Σ_j x_ij ≤ P_i``,
   ``Σ_i x_ij ≤ C_j``, ``x ≥ 0``;
2. among those allocations, minimise the total walking ``Σ d_ij x_ij``.

This is "nearest first, capacity respected" made exact: a greedy nearest-hall
assignment can strand residents that a slightly longer walk would have served.
Both steps are one linear program solved by HiGHS: minimise ``Σ (d_ij - M) x_ij``
with ``M`` larger than any augmenting path's walk (see :func:`_lexicographic_lp`),
after fixing every unit whose nearest hall can never be full (its capacity
covers everyone within its reach) to that hall. Transportation problems have
integral optimal vertices, so integer populations and capacities give integer
flows (up to solver tolerance). networkx's ``max_flow_min_cost`` is the oracle
in the tests.

Residents split across halls are allowed (a demand unit is a group of
people). Residents within reach of some hall but not allocated are "over
capacity"; residents with no hall within reach are "out of reach".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import highspy
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from ._errors import CoverageInputError, CoverageInternalError
from ._pairs import Pairs
from ._types import FloatArray
from ._validate import as_distance

__all__ = ["CapacityAllocation", "allocate_capacity"]



@dataclass(frozen=True, eq=False)
class CapacityAllocation:
    """Residents allocated to halls within capacity.

    Attributes
    ----------
    flows : pandas.DataFrame
        One row per pair with a positive allocation: ``demand``, ``site``,
        ``residents``, ``distance_m``.
    units : pandas.DataFrame
        Per demand unit: ``population``, ``served``, ``over_capacity``
        (within reach but not served), ``out_of_reach``, ``mean_distance_m``
        of the served residents (NaN if none).
    halls : pandas.DataFrame
        Per hall: ``capacity_residents`` (and ``capacity_visits`` when a visit
        rate was given), ``load`` (residents allocated), ``load_share``,
        ``population_within`` (everyone it reaches), ``full`` (load at capacity).
    served, over_capacity, out_of_reach : float
        Totals; they add up to the total population (checked).
    total_distance_m : float
        ``Σ d x`` of the allocation (resident-metres).
    status : str
        ``"optimal"``.
    timings : dict
    """

    flows: pd.DataFrame
    units: pd.DataFrame
    halls: pd.DataFrame
    served: float
    over_capacity: float
    out_of_reach: float
    total_distance_m: float
    status: str
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def population(self) -> float:
        """Total population."""
        return self.served + self.over_capacity + self.out_of_reach

    def headline(self) -> str:
        """One sentence with the totals."""
        total = self.population
        share = self.served / total if total else 0.0
        mean = self.total_distance_m / self.served if self.served else math.nan
        full = int(self.halls["full"].sum())
        return (
            f"{self.served:,.0f} of {total:,.0f} residents ({share:.1%}) are served within capacity "
            f"(mean walk {mean:,.0f} m); {self.over_capacity:,.0f} are within reach but over capacity; "
            f"{self.out_of_reach:,.0f} have no hall within reach; {full} of {len(self.halls)} halls are full."
        )

    def __repr__(self) -> str:
        return f"CapacityAllocation({len(self.flows):,} flows, {self.status})\n" + self.headline()

    def _repr_html_(self) -> str:
        from html import escape

        table = self.halls.to_html(index=False, float_format="{:,.1f}".format)
        return f"<p>{escape(self.headline())}</p>{table}"


def allocate_capacity(
    pairs: Pairs,
    population: npt.ArrayLike,
    capacity: npt.ArrayLike,
    *,
    radius_m: float | None = None,
    visits_per_resident: float | None = None,
    time_limit_s: float | None = None,
) -> CapacityAllocation:
    """Allocate residents to halls within reach, maximising residents served, then minimising walking.

    Parameters
    ----------
    pairs : Pairs
        Demand-hall pairs within reach, with walking distances.
    population : array-like
        Residents per demand unit (length ``pairs.n_demand``).
    capacity : array-like
        Per hall: residents it can serve, or visits a day if
        ``visits_per_resident`` is given (length ``pairs.n_supply``; ``inf``
        for no limit).
    radius_m : float, optional
        Keep only pairs within this walking distance (default: all pairs).
    visits_per_resident : float, optional
        Visits a day per resident: a hall of ``V`` visits a day serves
        ``V / visits_per_resident`` residents.
    time_limit_s : float, optional
        Solver time limit per step (default none). If a step stops early,
        :class:`~coverage._errors.CoverageInternalError` is raised rather
        than an inexact answer returned.

    Returns
    -------
    CapacityAllocation

    Examples
    --------
    >>> from coverage._pairs import as_pairs
    >>> p = as_pairs([0, 1, 1], [0, 0, 1], [100.0, 50.0, 400.0], n_demand=2, n_supply=2)
    >>> a = allocate_capacity(p, [60, 60], [80, 100])
    >>> a.served, a.halls["load"].round(6).tolist()
    (120.0, [80.0, 40.0])
    """
    import time

    t0 = time.perf_counter()
    pop = _values(population, pairs.n_demand, "population", "demand unit")
    cap_given = _values(capacity, pairs.n_supply, "capacity", "hall", allow_inf=True)
    if visits_per_resident is not None:
        rate = float(visits_per_resident)
        if not math.isfinite(rate) or rate <= 0:
            raise CoverageInputError(
                f"visits_per_resident={visits_per_resident!r}: give visits a day per resident > 0."
            )
        cap = cap_given / rate
    else:
        cap = cap_given
    near = pairs if radius_m is None else pairs.within(as_distance(radius_m, name="radius_m"))
    # Units and halls with nothing to give or take drop out of the LP.
    keep = (pop[near.demand] > 0) & (cap[near.supply] > 0)
    i, j, d = near.demand[keep], near.supply[keep], near.distance_m[keep]
    flow = _solve(i, j, d, pop, cap, time_limit_s) if i.size else np.zeros(0)
    flow = np.clip(flow, 0.0, None)
    timings = {"solve": time.perf_counter() - t0}
    return _result(near, i, j, d, flow, pop, cap, cap_given if visits_per_resident is not None else None, timings)


def _values(values: npt.ArrayLike, n: int, name: str, what: str, *, allow_inf: bool = False) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size != n:
        raise CoverageInputError(f"{name} has {arr.size} values for {n} {what}s; give one per {what}.")
    ok = np.isfinite(arr) | (allow_inf & np.isposinf(arr))
    bad = np.flatnonzero(~ok | (arr < 0))
    if bad.size:
        raise CoverageInputError(f"{name} must be numbers >= 0; positions {bad[:10].tolist()} are not.")
    return arr


def _solve(
    i: npt.NDArray[np.int64],
    j: npt.NDArray[np.int64],
    d: FloatArray,
    pop: FloatArray,
    cap: FloatArray,
    time_limit_s: float | None,
) -> FloatArray:
    """Maximum served at least total walking, exactly: fixed nearest-hall flows, then one LP on the rest."""
    flow = np.zeros(i.size)
    fixed = _fix_nearest_when_never_full(i, j, d, pop, cap)
    flow[fixed] = pop[i[fixed]]
    rest = np.flatnonzero(~np.isin(i, i[fixed]))
    if rest.size:
        left = cap - np.bincount(j[fixed], weights=flow[fixed], minlength=cap.size)
        flow[rest] = _lexicographic_lp(i[rest], j[rest], d[rest], pop, np.maximum(left, 0.0), time_limit_s)
    return flow


def _fix_nearest_when_never_full(
    i: npt.NDArray[np.int64], j: npt.NDArray[np.int64], d: FloatArray, pop: FloatArray, cap: FloatArray
) -> npt.NDArray[np.bool_]:
    """Pairs (unit, nearest hall) where that hall can never be full: every optimum sends the whole unit there.

    A hall whose capacity covers everyone within its reach is never full, so
    moving any of a unit's residents from another hall to its nearest such
    hall serves no fewer people and walks no farther (and frees capacity).
    """
    within = np.bincount(j, weights=pop[i], minlength=cap.size)
    never_full = within <= cap
    order = np.lexsort((j, d, i))  # per unit, nearest first (ties: lower hall position)
    first = np.ones(order.size, dtype=bool)
    first[1:] = i[order][1:] != i[order][:-1]
    nearest = order[first]
    out = np.zeros(i.size, dtype=bool)
    out[nearest[never_full[j[nearest]]]] = True
    return out


def _lexicographic_lp(
    i: npt.NDArray[np.int64],
    j: npt.NDArray[np.int64],
    d: FloatArray,
    pop: FloatArray,
    cap: FloatArray,
    time_limit_s: float | None,
) -> FloatArray:
    """One LP, ``min Σ (d - M) x``, whose optimum serves the most residents and, among those, walks least.

    An allocation that serves fewer than the most has an augmenting path
    (unit, hall, unit, ..., hall) in its residual graph with one more forward
    pair than backward pairs, at most one forward pair per hall. Pushing flow
    along it changes the objective by ``Σ_fwd d - Σ_bwd d - M <= n_halls·max(d) - M``,
    negative for ``M > n_halls·max(d)``: so every optimum is a maximum flow,
    and ``M Σ x`` being constant over those, it has the least walking.
    """
    units, i_local = np.unique(i, return_inverse=True)
    halls, j_local = np.unique(j, return_inverse=True)
    n = i.size
    cap_h = cap[halls]
    finite = np.isfinite(cap_h)
    big_m = (int(finite.sum()) + 1) * max(float(d.max(initial=0.0)), 1.0) + 1.0
    cols = np.arange(n)
    rows_u = sp.csr_array((np.ones(n), (i_local, cols)), shape=(units.size, n))
    rows_h = sp.csr_array((np.ones(n), (j_local, cols)), shape=(halls.size, n))[np.flatnonzero(finite)]
    a = sp.csc_array(sp.vstack([rows_u, rows_h], format="csc"), dtype=np.float64)
    a.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = int(a.shape[0])
    lp.col_cost_ = d - big_m
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.full(n, highspy.kHighsInf)
    lp.row_lower_ = np.full(lp.num_row_, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([pop[units], cap_h[finite]])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = lp.num_row_
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    cls = getattr(highspy, "_Highs", None) or highspy.Highs  # the base class prints no banner
    h = cls()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", "simplex")
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise CoverageInternalError(
            f"capacity allocation did not reach an optimum: {h.modelStatusToString(status)} "
            "(raise time_limit_s, or report this with the input sizes)."
        )
    return np.asarray(h.getSolution().col_value, dtype=np.float64)


def _result(
    near: Pairs,
    i: npt.NDArray[np.int64],
    j: npt.NDArray[np.int64],
    d: FloatArray,
    flow: FloatArray,
    pop: FloatArray,
    cap: FloatArray,
    visits: FloatArray | None,
    timings: dict[str, float],
) -> CapacityAllocation:
    served_u = np.bincount(i, weights=flow, minlength=near.n_demand)
    walk_u = np.bincount(i, weights=flow * d, minlength=near.n_demand)
    reachable = np.zeros(near.n_demand, dtype=bool)
    reachable[near.demand] = True
    load = np.bincount(j, weights=flow, minlength=near.n_supply)
    within = np.bincount(near.supply, weights=pop[near.demand], minlength=near.n_supply)
    tol = 1e-6 * np.maximum(1.0, pop)
    if np.any(served_u > pop + tol) or np.any(
        load > np.where(np.isfinite(cap), cap, np.inf) + 1e-6 * np.maximum(1.0, cap)
    ):
        raise CoverageInternalError("capacity allocation exceeds a population or a capacity")
    served_u = np.minimum(served_u, pop)
    over = np.where(reachable, pop - served_u, 0.0)
    out = np.where(reachable, 0.0, pop)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_u = np.where(served_u > 0, walk_u / np.where(served_u > 0, served_u, 1.0), np.nan)
        share = np.where(np.isfinite(cap) & (cap > 0), load / np.where(cap > 0, cap, 1.0), np.nan)
    finite_cap = np.where(np.isfinite(cap), cap, 0.0)
    full = np.isfinite(cap) & (cap > 0) & (load >= finite_cap - 1e-6 * np.maximum(1.0, finite_cap))
    halls = pd.DataFrame(
        {
            "site": np.arange(near.n_supply),
            "capacity_residents": cap,
            "load": load,
            "load_share": share,
            "population_within": within,
            "full": full,
        }
    )
    if visits is not None:
        halls.insert(1, "capacity_visits", visits)
    units = pd.DataFrame(
        {
            "demand": np.arange(near.n_demand),
            "population": pop,
            "served": served_u,
            "over_capacity": over,
            "out_of_reach": out,
            "mean_distance_m": mean_u,
        }
    )
    positive = flow > 1e-9
    flows = pd.DataFrame(
        {"demand": i[positive], "site": j[positive], "residents": flow[positive], "distance_m": d[positive]}
    )
    totals = (float(served_u.sum()), float(over.sum()), float(out.sum()))
    if not math.isclose(sum(totals), float(pop.sum()), rel_tol=1e-9, abs_tol=1e-6):
        raise CoverageInternalError(f"capacity allocation: served + over + out = {sum(totals)} != {pop.sum()}")
    return CapacityAllocation(
        flows=flows,
        units=units,
        halls=halls,
        served=totals[0],
        over_capacity=totals[1],
        out_of_reach=totals[2],
        total_distance_m=float((flow * d).sum()),
        status="optimal",
        timings=timings,
    )
