"""Capacitated maximum coverage: ``k`` new sites serving the most residents, capacities respected.

Every site (existing hall or candidate) serves at most ``capacity[j]``
residents, and only residents within reach. With ``x_j`` = site ``j`` open
and ``z_ij`` = share of unit ``i``'s residents served by site ``j`` (one
variable per covering pair of the sparse matrix)::

    max  sum_ij v_i P_i z_ij
    s.t. sum_j z_ij <= 1                      each unit at most once
         sum_i P_i z_ij <= C_j x_j            capacity of open sites
         z_ij <= x_j                          (strengthening: tight LP bound)
         sum_{j new} x_j <= k,  x_j = 1 for existing halls

``z`` is continuous: once ``x`` is fixed this is a transportation problem.
"Newly served" is measured against the best allocation with the existing
halls alone, so a new site that relieves a full hall counts.

How it is solved (:mod:`._capacity`): the existing halls' best allocation
alone (a small transportation LP); a greedy start; a cheap proven bound (the
halls' best service alone plus the ``k`` largest services of single new
sites, capped at the total weight). When the start meets the bound the plan
is proven without a MILP (common: whenever new sites fill up). Otherwise the
MILP above runs within the node limit, with one ``y_i <= sum_j a_ij x_j``
coverage variable per unit in place of the pairs of sites whose capacity can
never bind; a stopped MILP reports the smaller of its dual bound and the
cheap bound. (HiGHS's dual bound before its root LP is the sum of every
pair's cost, each resident counted once per site within reach: on Porto
Alegre at 15 minutes, 207 M for 813 k residents. It is never reported as
it is.)
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._defaults import DEFAULT_MAX_NODES, DEFAULT_TIME_LIMIT_S
from .._errors import CoverageInputError
from .._types import FloatArray
from ._capacity import _Model
from ._checks import _as_count, _as_cover, _as_time_limit, _as_weights
from ._curve import OPT_TOL
from ._milp import solve_phases
from .costs import _as_predefined
from .maximum import _as_nodes
from .result import SiteSelection


def capacitated_coverage(
    cover: Any,
    population: npt.ArrayLike,
    k: int,
    *,
    capacity: npt.ArrayLike,
    fixed: npt.ArrayLike | None = None,
    value: npt.ArrayLike | None = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> SiteSelection:
    """Choose ``k`` new sites that serve the most residents within the sites' capacities.

    Parameters
    ----------
    cover : sparse matrix or array, shape (n_demand, n_sites)
        ``True`` where site ``j`` is within reach of demand unit ``i``. The
        columns are all sites: the existing halls (``fixed``) and the candidates.
    population : array-like, shape (n_demand,)
        Residents of each unit (they may be split across sites).
    k : int
        New sites to open among the columns not in ``fixed``.
    capacity : array-like, shape (n_sites,)
        Residents each site can serve (``np.inf`` for no limit).
    fixed : array-like, optional
        Existing halls, always open: column indices or a boolean mask.
    value : array-like, shape (n_demand,), optional
        Weight of one served resident of each unit (e.g. 2 for the elderly);
        default 1.
    time_limit_s, max_nodes
        As in :func:`max_coverage`.

    Returns
    -------
    SiteSelection
        ``model="capacitated_coverage"``; weights are value-weighted residents
        served. ``covered_before`` is the best service of the existing halls
        alone, ``objective`` what the new sites add; ``extras`` holds
        ``served_before``, ``served_after`` and ``within_reach_after``
        (value-weighted residents within reach of an open site, capacity
        ignored). Sites in build order: each the one adding most service
        given those before it.

    Examples
    --------
    >>> import numpy as np
    >>> cover = np.array([[1, 1, 0], [1, 0, 1], [0, 0, 1]], dtype=bool)
    >>> sel = capacitated_coverage(cover, [100, 100, 100], 1, capacity=[150, 100, 100], fixed=[0])
    >>> sel.sites.tolist(), sel.covered_before, sel.covered_after
    ([2], 150.0, 250.0)
    """
    t0 = time.perf_counter()
    a = _as_cover(cover)
    n_d, n_c = a.shape
    pop = _as_weights(population, n_d, name="population")
    val = np.ones(n_d) if value is None else _as_weights(value, n_d, name="value")
    cap = _capacity(capacity, n_c)
    fixed_cols = _as_predefined(fixed, n_c)
    is_fixed = np.zeros(n_c, dtype=bool)
    is_fixed[fixed_cols] = True
    k = _as_count(k, name="k", upper=int((~is_fixed).sum()), what="candidate sites (columns not fixed)")
    limit = _as_time_limit(time_limit_s)
    nodes = _as_nodes(max_nodes)
    weight = pop * val
    total = math.fsum(weight.tolist())
    if total <= 0:
        raise CoverageInputError("population x value sums to 0: nobody to serve; check the population column.")
    model = _Model(a, pop, val, cap, is_fixed)
    found = _solve(model, k, limit=limit, nodes=nodes, t0=t0)
    order, marginal = _build_order(model, found.sites, found.before)
    served_after = found.before + math.fsum(marginal)
    objective = served_after - found.before
    upper = objective if found.optimal else max(objective, min(found.upper_after, model.total) - found.before)
    gap = 0.0 if found.optimal or upper <= 0 else max(0.0, (upper - objective) / upper)
    status = found.status
    if not found.optimal:
        status = f"not proven optimal: within {gap:.2%} of the upper bound; {status}"
    return SiteSelection(
        sites=np.asarray(order, dtype=np.int64),
        marginal_weight=np.asarray(marginal, dtype=np.float64),
        objective=objective,
        covered_before=found.before,
        covered_after=served_after,
        total_weight=total,
        upper_bound=upper,
        gap=gap,
        optimal=found.optimal,
        method=found.method,
        status=status,
        time_s=time.perf_counter() - t0,
        n_reduced_demand=model.n_rows,
        n_reduced_candidates=int(model.cols.size),
        model="capacitated_coverage",
        fixed_sites=fixed_cols,
        extras={
            "served_before": found.before,
            "served_after": served_after,
            "within_reach_after": model.within_reach(order),
        },
    )


@dataclass(frozen=True)
class _Found:
    """The chosen sites, the service before them and the proven bound on the service after."""

    sites: list[int]
    before: float
    upper_after: float
    optimal: bool
    method: str
    status: str


def _solve(model: _Model, k: int, *, limit: float, nodes: int, t0: float) -> _Found:
    """Greedy start and the cheap bound; the MILP only when they do not meet."""
    before, share_before = model.served([])
    new = model.original(np.flatnonzero(~model.is_fixed))
    if k >= len(new):  # every candidate that reaches anyone is built: nothing to choose
        after, _ = model.served(new)
        return _Found(new, before, after, True, "none", f"optimal: k = {k} builds every candidate that reaches anyone")
    start = model.greedy(k, share_before)
    best, _ = model.served(start)
    bound = model.bound(k, before)
    tol = OPT_TOL * max(1.0, bound)
    if best >= bound - tol:
        return _Found(start, before, bound, True, "greedy+bound", _BOUND_MET)
    remaining = limit - (time.perf_counter() - t0)
    if remaining <= 0:
        note = f"the safety time limit of {limit:g} s stopped the search before the MILP (machine speed decides this)"
        return _Found(start, before, bound, False, "greedy+bound", note)
    milp = model.milp(k)
    out = solve_phases(milp, [milp.cost], start=model.start_vector(start), time_limit_s=remaining, max_nodes=nodes)
    chosen = start
    if out.x is not None:
        sites = model.open_sites(out.x)
        value, _ = model.served(sites)
        if value > best:
            chosen, best = sites, value
    upper = min(bound, out.bounds[0]) if math.isfinite(out.bounds[0]) else bound
    if out.optimal or best >= upper - tol:
        return _Found(chosen, before, best, True, "milp-highs", _MILP_OPTIMAL)
    why = {
        "nodes": f"the node limit (max_nodes={nodes:,}) stopped the MILP",
        "time": f"the safety time limit of {limit:g} s stopped the MILP (this part depends on machine speed)",
    }
    return _Found(chosen, before, upper, False, "milp-highs", why.get(out.limit, "a HiGHS limit stopped the MILP"))


_BOUND_MET = (
    "optimal: the plan serves as many as the bound allows (the existing halls' best service alone plus "
    "the k largest services of single new sites)"
)
_MILP_OPTIMAL = "optimal (MILP solved by HiGHS): no choice of as many new sites serves more residents"


def _build_order(model: _Model, chosen: list[int], before: float) -> tuple[list[int], list[float]]:
    """Order the sites so that each adds the most service given those before it (exact allocations).

    Service is submodular in the set of open sites (a transportation value), so
    a gain computed earlier bounds the gain now: lazy evaluation, ties to the
    lowest index.
    """
    order: list[int] = []
    marginal: list[float] = []
    current = before
    heap = [(-math.inf, j, -1) for j in sorted(chosen)]
    heapq.heapify(heap)
    while heap:
        neg, j, when = heapq.heappop(heap)
        if when == len(order):
            order.append(j)
            marginal.append(max(0.0, -neg))
            current = max(current, current - neg)
            continue
        value, _ = model.served([*order, j])
        heapq.heappush(heap, (-(value - current), j, len(order)))
    return order, marginal


def _capacity(capacity: npt.ArrayLike, n: int) -> FloatArray:
    try:
        cap = np.array(capacity, dtype=np.float64, copy=True).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise CoverageInputError(f"capacity must be numbers (residents per site); ({exc}).") from exc
    if cap.size != n:
        raise CoverageInputError(f"capacity has {cap.size} values for {n} site columns; give one per column.")
    bad = np.flatnonzero(np.isnan(cap) | (cap < 0))
    if bad.size:
        raise CoverageInputError(
            f"capacity has {bad.size} NaN or negative value(s), first at column {int(bad[0])}; "
            "give residents per site (np.inf for no limit)."
        )
    return cap
