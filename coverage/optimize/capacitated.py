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

solved exactly by HiGHS (``z`` continuous: a transportation problem once
``x`` is fixed). "Newly served" is measured against the best allocation with
the existing halls alone (the same model with ``k = 0``), so a new site that
relieves a full hall counts.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .._defaults import DEFAULT_MAX_NODES, DEFAULT_TIME_LIMIT_S
from .._errors import CoverageInputError
from .._types import BoolArray, FloatArray, IntArray
from ._checks import _as_count, _as_cover, _as_time_limit, _as_weights
from ._milp import Milp, solve_phases
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
    before = model.solve_k(0, time_limit_s=limit, max_nodes=nodes, start_sites=[])
    start = model.greedy(k, before.x)
    after = model.solve_k(
        k, time_limit_s=max(limit - (time.perf_counter() - t0), 1e-3), max_nodes=nodes, start_sites=start
    )
    chosen = start if after.x is None else model.open_sites(after.x)
    order, marginal = model.build_order(chosen, before.values[0], nodes, limit)
    served_before, served_after = before.values[0], before.values[0] + float(np.sum(marginal))
    bound = after.bounds[0]
    optimal = before.optimal and after.optimal
    upper = served_after - served_before if optimal else max(bound - served_before, served_after - served_before)
    if optimal:
        status = "optimal (MILP solved by HiGHS): no choice of as many new sites serves more residents"
    else:
        why = {"nodes": f"the node limit (max_nodes={nodes:,})", "time": f"the safety time limit of {limit:g} s"}
        status = f"not proven optimal: {why.get(after.limit, 'a HiGHS limit')} stopped the search"
    objective = served_after - served_before
    gap = 0.0 if optimal or upper <= 0 else max(0.0, (upper - objective) / upper)
    return SiteSelection(
        sites=np.asarray(order, dtype=np.int64),
        marginal_weight=np.asarray(marginal, dtype=np.float64),
        objective=objective,
        covered_before=served_before,
        covered_after=served_after,
        total_weight=total,
        upper_bound=upper,
        gap=gap,
        optimal=optimal,
        method="milp-highs",
        status=status,
        time_s=time.perf_counter() - t0,
        n_reduced_demand=model.n_rows,
        n_reduced_candidates=int(model.cols.size),
        model="capacitated_coverage",
        fixed_sites=fixed_cols,
        extras={
            "served_before": served_before,
            "served_after": served_after,
            "within_reach_after": model.within_reach(order),
        },
    )


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


class _Model:
    """The capacitated model on the useful part of the matrix (rows with residents, columns reaching them)."""

    def __init__(self, a: Any, pop: FloatArray, val: FloatArray, cap: FloatArray, is_fixed: BoolArray) -> None:
        rows_ok = (pop * val > 0) & (np.bincount(a.indices, minlength=a.shape[0]) > 0)
        self.rows = np.flatnonzero(rows_ok)
        sub = sp.csc_array(a[self.rows])
        self.cols = np.flatnonzero((np.diff(sub.indptr) > 0) | is_fixed)
        self.a = sp.csc_array(sub[:, self.cols])
        self.a.sort_indices()
        self.n_all = a.shape[1]
        self.n_rows = int(self.rows.size)
        self.pop = pop[self.rows]
        self.val = val[self.rows]
        self.cap = cap[self.cols]
        self.is_fixed = is_fixed[self.cols]
        self.milp = self._build()

    def _build(self) -> Milp:
        a = self.a
        n_r, n_c = a.shape
        nnz = a.nnz
        pair_row = a.indices.astype(np.int64)
        pair_col = np.repeat(np.arange(n_c), np.diff(a.indptr))
        z = n_c + np.arange(nnz)  # variable index of each pair
        # each unit served at most once
        once = sp.csr_array((np.ones(nnz), (pair_row, z)), shape=(n_r, n_c + nnz))
        # capacity: sum_i P_i z_ij - C_j x_j <= 0 (finite capacities only)
        finite = np.isfinite(self.cap)
        cap_rows = np.flatnonzero(finite)
        where = np.full(n_c, -1)
        where[cap_rows] = np.arange(cap_rows.size)
        in_cap = finite[pair_col]
        capacity = sp.csr_array(
            (
                np.concatenate([self.pop[pair_row[in_cap]], -self.cap[cap_rows]]),
                (
                    np.concatenate([where[pair_col[in_cap]], np.arange(cap_rows.size)]),
                    np.concatenate([z[in_cap], cap_rows]),
                ),
            ),
            shape=(cap_rows.size, n_c + nnz),
        )
        # z_ij <= x_j
        link = sp.csr_array(
            (
                np.concatenate([np.ones(nnz), -np.ones(nnz)]),
                (np.tile(np.arange(nnz), 2), np.concatenate([z, pair_col])),
            ),
            shape=(nnz, n_c + nnz),
        )
        card = sp.csr_array(np.concatenate([(~self.is_fixed).astype(float), np.zeros(nnz)]).reshape(1, -1))
        matrix = sp.vstack([once, capacity, link, card], format="csr")
        rows = once.shape[0] + capacity.shape[0] + link.shape[0]
        col_lower = np.concatenate([self.is_fixed.astype(float), np.zeros(nnz)])
        self.pair_row, self.pair_col = pair_row, pair_col
        return Milp(
            cost=np.concatenate([np.zeros(n_c), (self.pop * self.val)[pair_row]]),
            matrix=matrix,
            row_lower=np.full(rows + 1, -np.inf),
            row_upper=np.concatenate([np.ones(n_r), np.zeros(capacity.shape[0] + link.shape[0]), [0.0]]),
            n_integer=n_c,
            col_lower=col_lower,
            col_upper=np.ones(n_c + nnz),
        )

    def _local(self, sites: list[int]) -> IntArray:
        position = np.full(self.n_all, -1)
        position[self.cols] = np.arange(self.cols.size)
        local = position[np.asarray(sites, dtype=np.int64)]
        return local[local >= 0]

    def _with_sites(self, sites: list[int]) -> Milp:
        """Return the model with exactly these new sites open (the other candidates closed)."""
        lower = self.milp.col_lower.copy()
        upper = self.milp.col_upper.copy()
        n_c = self.cols.size
        upper[:n_c] = self.is_fixed.astype(float)
        upper[self._local(sites)] = 1.0
        lower[self._local(sites)] = 1.0
        m = Milp(**{**self.milp.__dict__, "col_lower": lower, "col_upper": upper})
        m.row_upper = m.row_upper.copy()
        m.row_upper[-1] = float(len(sites))
        return m

    def served(self, sites: list[int]) -> tuple[float, FloatArray]:
        """Best value-weighted service with the existing halls plus ``sites`` (a transportation LP)."""
        out = self._with_sites(sites).solve(time_limit_s=math.inf, max_nodes=0, start=None, relax=True)
        if out.x is None:
            raise CoverageInputError("the capacity allocation LP did not solve; check capacities for huge values.")
        return float(np.dot(self.milp.cost, out.x)), out.x

    def solve_k(self, k: int, *, time_limit_s: float, max_nodes: int, start_sites: list[int]) -> Any:
        milp = Milp(**self.milp.__dict__)
        milp.row_upper = milp.row_upper.copy()
        milp.row_upper[-1] = float(k)
        _, start = self.served(start_sites)
        start[: self.cols.size] = np.round(start[: self.cols.size])
        return solve_phases(milp, [milp.cost], start=start, time_limit_s=time_limit_s, max_nodes=max_nodes)

    def open_sites(self, x: FloatArray) -> list[int]:
        """Return the new sites (original column indices) open in a solution."""
        local = np.flatnonzero((x[: self.cols.size] > 0.5) & ~self.is_fixed)
        return [int(j) for j in self.cols[local]]

    def greedy(self, k: int, x_before: Any) -> list[int]:
        """Open, k times, the candidate with the most value-weighted residents it could still take."""
        residual = self.pop.copy()
        if x_before is not None:
            z = x_before[self.cols.size :]
            np.subtract.at(residual, self.pair_row, self.pop[self.pair_row] * z)
        residual = np.clip(residual, 0.0, None)
        chosen: list[int] = []
        open_ = self.is_fixed.copy()
        for _ in range(k):
            best, best_gain = -1, -1.0
            for j in np.flatnonzero(~open_).tolist():
                rows = self.a.indices[self.a.indptr[j] : self.a.indptr[j + 1]]
                gain = min(self.cap[j], float(np.dot(residual[rows], self.val[rows]))) if rows.size else 0.0
                if gain > best_gain:
                    best, best_gain = j, gain
            if best < 0:
                break
            open_[best] = True
            chosen.append(int(self.cols[best]))
            rows = self.a.indices[self.a.indptr[best] : self.a.indptr[best + 1]]
            left = self.cap[best]
            for i in rows.tolist():  # fill in row order until the capacity is used
                take = min(residual[i], left)
                residual[i] -= take
                left -= take
                if left <= 0:
                    break
        return chosen

    def build_order(
        self, chosen: list[int], before: float, max_nodes: int, limit: float
    ) -> tuple[list[int], list[float]]:
        """Order the sites so that each adds the most service given those before it (exact LPs)."""
        order: list[int] = []
        marginal: list[float] = []
        current = before
        left = list(chosen)
        while left:
            gains = [(self.served([*order, j])[0], -j) for j in left]
            value, neg = max(gains)
            order.append(-neg)
            left.remove(-neg)
            marginal.append(max(0.0, value - current))
            current = max(current, value)
        return order, marginal

    def within_reach(self, sites: list[int]) -> float:
        """Value-weighted residents within reach of an open site (capacity ignored)."""
        open_cols = np.concatenate([np.flatnonzero(self.is_fixed), self._local(sites)])
        reached = np.zeros(self.n_rows, dtype=bool)
        for j in open_cols.tolist():
            reached[self.a.indices[self.a.indptr[j] : self.a.indptr[j + 1]]] = True
        return math.fsum((self.pop * self.val)[reached].tolist())
