"""Maximum coverage: ``k`` new sites covering the most weight, and the curve over ``k``.

Both run on :class:`coverage.optimize._engine.Engine`: safe reductions, the
split into independent blocks, cheap bounds first and LP/MILP steps only
where the allocation across blocks needs them.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy.typing as npt
import pandas as pd

from .._defaults import DEFAULT_MAX_NODES, DEFAULT_TIME_LIMIT_S
from ._checks import Method, _as_count, _as_method, _as_time_limit, _check_total, _Problem, _problem
from ._engine import Engine
from .result import SiteSelection

logger = logging.getLogger(__name__)


def _as_nodes(value: Any) -> int:
    return _as_count(value, name="max_nodes", upper=2**31 - 1, what="nodes HiGHS accepts")


def _max_coverage(
    prob: _Problem, k: int, *, method: Method, time_limit_s: float, reduce: bool, max_nodes: int = DEFAULT_MAX_NODES
) -> SiteSelection:
    t0 = time.perf_counter()
    engine = Engine(prob, k, exact=method == "exact", max_nodes=max_nodes, time_limit_s=time_limit_s, reduce=reduce)
    answer = engine.solve(k)
    return engine.selection(answer, k, t0)


def max_coverage(
    cover: Any,
    weights: npt.ArrayLike,
    k: int,
    *,
    already_covered: npt.ArrayLike | None = None,
    method: Method = "exact",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    max_nodes: int = DEFAULT_MAX_NODES,
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

    The problem is reduced, split into independent blocks, and ``k`` is
    allocated across them exactly (dynamic programming over the blocks'
    curves). Each block is bounded by its LP relaxation (a Lagrangian bound
    from the LP duals) and solved by HiGHS only where the greedy+swap and
    LP-support heuristics do not already meet the bound.

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
        ``"exact"``: proven optimal unless a limit stops it. ``"greedy"``:
        lazy greedy and a 1-swap pass, certified by the LP bound (no MILP).
    time_limit_s : float
        Safety net in seconds; a result it stops is marked not proven, with
        its gap (this is the only limit that depends on machine speed).
    max_nodes : int
        Branch-and-bound nodes allowed to each MILP (deterministic work limit).
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
        prob,
        k,
        method=_as_method(method),
        time_limit_s=_as_time_limit(time_limit_s),
        reduce=bool(reduce),
        max_nodes=_as_nodes(max_nodes),
    )


def coverage_curve(
    cover: Any,
    weights: npt.ArrayLike,
    k_max: int,
    *,
    already_covered: npt.ArrayLike | None = None,
    method: Method = "exact",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    max_nodes: int = DEFAULT_MAX_NODES,
    reduce: bool = True,
    progress: bool = False,
) -> pd.DataFrame:
    """Best coverage for every number of new sites from 0 to ``k_max``.

    One engine serves every ``k``: the reduction, the blocks, their HiGHS
    models and every bound found are shared, so the whole curve costs little
    more than its hardest point.

    Parameters
    ----------
    cover, weights, already_covered, method, max_nodes, reduce
        As in :func:`max_coverage`.
    k_max : int
        Largest number of new sites, ``0 <= k_max <= n_candidates``.
    time_limit_s : float
        Safety net in seconds for the whole curve.
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
    engine = Engine(
        prob,
        k_max,
        exact=_as_method(method) == "exact",
        max_nodes=_as_nodes(max_nodes),
        time_limit_s=_as_time_limit(time_limit_s),
        reduce=bool(reduce),
    )
    return curve_frame(engine, k_max, progress=progress)


def curve_frame(engine: Engine, k_max: int, *, progress: bool = False) -> pd.DataFrame:
    """Solve ``k = 0..k_max`` on one engine and tabulate (see :func:`coverage_curve`)."""
    records: list[dict[str, Any]] = []
    previous: SiteSelection | None = None
    ks: Any = range(k_max + 1)
    if progress:
        from tqdm.auto import tqdm

        ks = tqdm(ks, desc="coverage curve", unit="k")
    for k in ks:
        t0 = time.perf_counter() - (engine.setup_s if k == 0 else 0.0)
        sel = engine.selection(engine.solve(k), k, t0)
        if previous is not None and sel.objective < previous.objective:  # float noise only
            chosen = previous.sites.tolist()
            sel = engine.finish_original(chosen, k, sel.upper_bound, sel.optimal, sel.method, sel.status, t0)
        previous = sel
        records.append(
            {
                "k": k,
                "covered_weight": sel.covered_after,
                "covered_share": sel.covered_share_after,
                "upper_bound": sel.covered_before + sel.upper_bound,
                "gap": sel.gap,
                "optimal": sel.optimal,
                "time_s": sel.time_s,
                "new_weight": sel.objective,
                "sites": tuple(sel.sites.tolist()),
                "status": sel.status,
            }
        )
    return pd.DataFrame.from_records(records)
