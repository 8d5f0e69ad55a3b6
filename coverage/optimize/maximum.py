"""Maximum coverage: ``k`` new sites covering the most weight, and the curve over ``k``."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt
import pandas as pd

from ._checks import _REL_TOL, Method, _as_count, _as_method, _as_time_limit, _check_total, _Problem, _problem
from ._greedy import _lazy_greedy, _submodular_bound, _swap_improve, _value, _within_tol
from ._highs import _HighsModel, _mclp_matrix, _mclp_start, _sites_from_x
from ._reduce import _reduce
from .result import SiteSelection

logger = logging.getLogger(__name__)


class _MaxCoverEngine:
    """Max coverage over one reduced problem, for one or many ``k``."""

    def __init__(self, prob: _Problem, *, reduce: bool) -> None:
        t0 = time.perf_counter()
        self.prob = prob
        self.red = _reduce(prob, enabled=reduce, weighted=True)
        self.red_total = math.fsum(self.red.w.tolist())
        self.uncovered = ~prob.already
        self.allowed = np.flatnonzero(prob.available).astype(np.int64)
        self._mip: _HighsModel | None = None
        self._lp: _HighsModel | None = None
        self.setup_s = time.perf_counter() - t0
        n_rows, n_cols = self.red.shape
        logger.debug(
            "max coverage: %d x %d reduced to %d demand x %d candidates in %.2f s",
            prob.a.shape[0],
            prob.n_available,
            n_rows,
            n_cols,
            self.setup_s,
        )

    # -- pieces
    def value(self, sites: Sequence[int]) -> float:
        return _value(self.red.a, self.red.w, sites)

    def greedy(self, k: int, start: Sequence[int] = ()) -> list[int]:
        picks, _ = _lazy_greedy(self.red.a, self.red.w, k - len(start), start=start)
        return [*start, *picks]

    def _model(self, k: int, *, relax: bool) -> _HighsModel:
        attr = "_lp" if relax else "_mip"
        model: _HighsModel | None = getattr(self, attr)
        n_rows, n_cols = self.red.shape
        if model is None:
            model = _HighsModel(
                cost=np.concatenate([np.zeros(n_cols), self.red.w]),
                matrix=_mclp_matrix(self.red),
                row_lower=np.full(n_rows + 1, -highspy.kHighsInf),
                row_upper=np.concatenate([np.zeros(n_rows), [float(k)]]),
                n_integer=n_cols,
                maximize=True,
                relax=relax,
            )
            setattr(self, attr, model)
        else:
            model.set_row_bounds(n_rows, -highspy.kHighsInf, float(k))
        return model

    # -- one k
    def solve(
        self,
        k: int,
        *,
        method: Method,
        time_limit_s: float,
        warm: Sequence[Sequence[int]] = (),
        include_setup: bool = True,
    ) -> tuple[SiteSelection, list[int]]:
        t0 = time.perf_counter() - (self.setup_s if include_setup else 0.0)
        n_cols = self.red.shape[1]
        if k == 0:
            return self.finish([], k, 0.0, True, "none", "k = 0: the baseline, no new sites", t0), []
        if n_cols == 0 or self.red_total <= 0:
            status = (
                "nothing left to cover: every demand unit with residents is already covered "
                "or out of every candidate's reach"
            )
            return self.finish([], k, 0.0, True, "none", status, t0), []
        if k >= n_cols:
            everything = list(range(n_cols))
            status = (
                f"optimal: k = {k} >= the {n_cols:,} candidates that still add coverage, so all of "
                "them are built and every reachable demand unit is covered"
            )
            return self.finish(everything, k, self.red_total, True, "none", status, t0), everything

        # heuristic start: the best of the warm starts (each completed to k) and plain greedy
        starts = [self.greedy(k, list(w)[:k]) for w in warm] or [self.greedy(k)]
        values = [self.value(s) for s in starts]
        best = starts[int(np.argmax(values))]
        sites = _swap_improve(self.red, best)
        value = self.value(sites)
        bound = _submodular_bound(self.red, sites, k)
        if k == 1:
            bound = value  # greedy's first pick is the single best site (the LP is slow here)
        if _within_tol(value, bound):
            return (
                self.finish(
                    sites,
                    k,
                    value,
                    True,
                    "greedy+swap",
                    "optimal: the greedy+swap solution meets its upper bound",
                    t0,
                ),
                sites,
            )

        if method == "greedy":
            lp = self._model(k, relax=True).run(time_limit_s=time_limit_s)
            lp_note = ""
            if lp.optimal and math.isfinite(lp.bound):
                bound = min(bound, lp.bound * (1 + _REL_TOL) + _REL_TOL)
            else:
                lp_note = f"; the LP relaxation stopped ({lp.status}), so the bound is the weaker submodular one"
            optimal = _within_tol(value, bound)
            status = (
                "optimal: the greedy+swap solution meets the LP bound"
                if optimal
                else f"heuristic solution; proven within the gap of the LP-relaxation bound{lp_note}"
            )
            return self.finish(sites, k, bound, optimal, "greedy+swap", status, t0), sites

        out = self._model(k, relax=False).run(time_limit_s=time_limit_s, start=_mclp_start(self.red, sites))
        if out.x is not None:
            mip_sites = _sites_from_x(out.x, n_cols)
            if len(mip_sites) <= k:
                mip_value = self.value(mip_sites)
                if mip_value > value:
                    sites, value = mip_sites, mip_value
        if math.isfinite(out.bound):
            bound = min(bound, out.bound)
        optimal = out.optimal or _within_tol(value, bound)
        if optimal:
            status = "optimal (MILP solved by HiGHS)"
            if not out.optimal:
                status = f"optimal: the solution meets its upper bound (HiGHS: {out.status})"
        elif out.time_limit_hit:
            status = (
                f"time limit of {time_limit_s:g} s reached: best solution found (MILP incumbent or "
                "greedy+swap start), optimality not proven"
            )
        else:
            status = f"HiGHS stopped ({out.status}): best solution found returned, optimality not proven"
        return self.finish(sites, k, bound, optimal, "milp-highs", status, t0), sites

    def finish(
        self,
        red_sites: Sequence[int],
        k: int,
        bound: float,
        optimal: bool,
        method: str,
        status: str,
        t0: float,
    ) -> SiteSelection:
        """Map reduced sites back, fill up to ``k``, order them and certify."""
        prob = self.prob
        chosen = [int(c) for c in self.red.cols[np.asarray(red_sites, dtype=np.int64)]]
        if len(chosen) < k:
            # sites that add nothing more (or, after a time limit, the best additions);
            # among zero gains the lowest index comes first
            extra, _ = _lazy_greedy(
                prob.a,
                prob.weights,
                k - len(chosen),
                allowed=self.allowed,
                start=chosen,
                uncovered=self.uncovered,
            )
            chosen.extend(extra)
        return _selection(
            prob,
            chosen,
            bound=bound,
            optimal=optimal,
            method=method,
            status=status,
            t0=t0,
            reduced_shape=self.red.shape,
            model="max_coverage",
        )


def _selection(
    prob: _Problem,
    chosen: Sequence[int],
    *,
    bound: float,
    optimal: bool,
    method: str,
    status: str,
    t0: float,
    reduced_shape: tuple[int, int],
    model: str,
    sites_lower_bound: int | None = None,
) -> SiteSelection:
    uncovered = ~prob.already
    order, marginal = _lazy_greedy(
        prob.a, prob.weights, len(chosen), allowed=np.asarray(chosen, dtype=np.int64), uncovered=uncovered
    )
    objective = _value(prob.a, prob.weights, order, uncovered=uncovered)
    before = prob.covered_before
    if sites_lower_bound is not None:
        upper = math.nan
        n = len(order)
        gap = 0.0 if optimal or n == 0 else max(0.0, (n - sites_lower_bound) / n)
    else:
        upper = objective if optimal else max(bound, objective)
        gap = 0.0 if optimal or upper <= 0 else max(0.0, (upper - objective) / upper)
    return SiteSelection(
        sites=np.asarray(order, dtype=np.int64),
        marginal_weight=np.asarray(marginal, dtype=np.float64),
        objective=objective,
        covered_before=before,
        covered_after=before + objective,
        total_weight=prob.total_weight,
        upper_bound=upper,
        gap=gap,
        optimal=bool(optimal),
        method=method,
        status=status,
        time_s=time.perf_counter() - t0,
        n_reduced_demand=int(reduced_shape[0]),
        n_reduced_candidates=int(reduced_shape[1]),
        model=model,
        fixed_sites=prob.fixed,
        sites_lower_bound=sites_lower_bound,
    )


def _max_coverage(prob: _Problem, k: int, *, method: Method, time_limit_s: float, reduce: bool) -> SiteSelection:
    engine = _MaxCoverEngine(prob, reduce=reduce)
    selection, _ = engine.solve(k, method=method, time_limit_s=time_limit_s)
    return selection


# --------------------------------------------------------------------------- public: max coverage


def max_coverage(
    cover: Any,
    weights: npt.ArrayLike,
    k: int,
    *,
    already_covered: npt.ArrayLike | None = None,
    method: Method = "exact",
    time_limit_s: float = 60.0,
    reduce: bool = True,
) -> SiteSelection:
    """Choose ``k`` new sites that cover the most not-yet-covered weight.

    The maximal covering location problem: maximise ``sum_i w_i y_i`` subject to
    ``y_i <= sum_j a_ij x_j``, ``sum_j x_j <= k``, ``x`` binary, ``0 <= y <= 1``,
    where demand already covered by existing halls has been taken out. The
    model uses ``<= k``; since coverage never falls when a site is added this
    has the same optimum as ``= k``, and the result always holds exactly ``k``
    sites: when fewer already reach the optimum (say every reachable unit is
    covered), the rest are the lowest-index remaining candidates, at zero
    marginal weight.

    Parameters
    ----------
    cover : scipy.sparse matrix or array, shape (n_demand, n_candidates)
        ``True`` (or 1) where candidate ``j`` covers demand unit ``i``.
    weights : array-like, shape (n_demand,)
        Non-negative weight (residents) of each demand unit.
    k : int
        Number of new sites, ``0 <= k <= n_candidates``; 0 gives the baseline.
    already_covered : array-like of bool, shape (n_demand,), optional
        Demand units existing halls already cover (fixed open, free).
    method : {"exact", "greedy"}
        ``"exact"``: MILP solved by HiGHS, warm-started from greedy+swap.
        ``"greedy"``: lazy greedy then a best-improvement 1-swap pass, certified
        by the LP-relaxation bound.
    time_limit_s : float
        Time limit for the solver (MILP, or the LP bound for ``"greedy"``). When
        it is hit the best solution found is returned with its gap.
    reduce : bool
        Apply the safe reductions first (same optimum, smaller problem).

    Returns
    -------
    SiteSelection
        The sites in build order with their marginal weights and certificate.

    Raises
    ------
    CoverageInputError
        Bad shapes, weights, masks, ``k`` or options.

    Examples
    --------
    >>> import numpy as np
    >>> cover = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)
    >>> max_coverage(cover, [5.0, 1.0, 2.0], 1, already_covered=[False, False, True]).sites.tolist()
    [0]
    """
    prob = _problem(cover, weights, already_covered)
    _check_total(prob.weights)
    k = _as_count(k, name="k", upper=prob.n_available, what="candidate sites")
    return _max_coverage(
        prob, k, method=_as_method(method), time_limit_s=_as_time_limit(time_limit_s), reduce=bool(reduce)
    )


def coverage_curve(
    cover: Any,
    weights: npt.ArrayLike,
    k_max: int,
    *,
    already_covered: npt.ArrayLike | None = None,
    method: Method = "exact",
    time_limit_s: float = 60.0,
    reduce: bool = True,
    progress: bool = False,
) -> pd.DataFrame:
    """Best coverage for every number of new sites from 0 to ``k_max``.

    The reduced problem and the HiGHS model are built once; each ``k`` starts
    from the better of the previous solution plus its best greedy addition and
    the greedy solution, improved by swaps. Hence the curve never decreases,
    even when a time limit stops the solver.

    Parameters
    ----------
    cover, weights, already_covered, method, reduce
        As in :func:`max_coverage`.
    k_max : int
        Largest number of new sites, ``0 <= k_max <= n_candidates``.
    time_limit_s : float
        Time limit for the solver *per value of k*.
    progress : bool
        Show a progress bar (``tqdm``).

    Returns
    -------
    pandas.DataFrame
        One row per ``k`` with columns ``k``; ``covered_weight`` (total covered:
        existing plus new); ``covered_share`` (of the total weight);
        ``upper_bound`` (bound on ``covered_weight``); ``gap`` (relative to the
        newly covered weight, as :attr:`SiteSelection.gap`); ``optimal``;
        ``time_s`` (solve time for this ``k``; the shared reduction is counted
        in row ``k = 0``); ``new_weight``; ``sites`` (tuple, build order) and
        ``status``.

    Raises
    ------
    CoverageInputError
        Bad shapes, weights, masks, ``k_max`` or options.
    """
    prob = _problem(cover, weights, already_covered)
    _check_total(prob.weights)
    k_max = _as_count(k_max, name="k_max", upper=prob.n_available, what="candidate sites")
    method = _as_method(method)
    limit = _as_time_limit(time_limit_s)
    engine = _MaxCoverEngine(prob, reduce=bool(reduce))
    chain = engine.greedy(min(k_max, engine.red.shape[1]))
    records: list[dict[str, Any]] = []
    previous: list[int] = []
    previous_obj = 0.0
    ks: Any = range(k_max + 1)
    if progress:
        from tqdm.auto import tqdm

        ks = tqdm(ks, desc="coverage curve", unit="k")
    for k in ks:
        warm = [previous, chain[:k]] if k else []
        sel, red_sites = engine.solve(k, method=method, time_limit_s=limit, warm=warm, include_setup=k == 0)
        if sel.objective < previous_obj:  # float noise only; keep the curve monotone
            t0 = time.perf_counter()
            red_sites = engine.greedy(k, previous)
            sel = engine.finish(red_sites, k, sel.upper_bound, sel.optimal, sel.method, sel.status, t0)
        previous, previous_obj = list(red_sites), sel.objective
        upper = sel.covered_before + sel.upper_bound
        records.append(
            {
                "k": k,
                "covered_weight": sel.covered_after,
                "covered_share": sel.covered_share_after,
                "upper_bound": upper,
                "gap": sel.gap,
                "optimal": sel.optimal,
                "time_s": sel.time_s,
                "new_weight": sel.objective,
                "sites": tuple(sel.sites.tolist()),
                "status": sel.status,
            }
        )
    return pd.DataFrame.from_records(records)
