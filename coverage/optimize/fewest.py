"""Fewest sites: reach a target share (target coverage) or cover everyone coverable (LSCP)."""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .._errors import CoverageInputError, CoverageWarning
from .._types import IntArray
from ._checks import _REL_TOL, _as_share, _as_time_limit, _check_total, _Problem, _problem
from ._greedy import _covered_mask, _lazy_greedy, _prune, _value
from ._highs import _HighsModel, _mclp_matrix, _mclp_start, _sites_from_x
from ._reduce import _reduce
from .maximum import _selection
from .result import SiteSelection, _few, _fmt


def reachable_share(
    cover: Any,
    weights: npt.ArrayLike,
    *,
    already_covered: npt.ArrayLike | None = None,
) -> float:
    """Largest share of the total weight that existing halls plus all candidates cover.

    Parameters
    ----------
    cover, weights, already_covered
        As in :func:`max_coverage`.

    Returns
    -------
    float
        ``(covered_before + weight some candidate can newly cover) / total weight``.

    Examples
    --------
    >>> import numpy as np
    >>> reachable_share(np.array([[1], [0]], dtype=bool), [3.0, 1.0])
    0.75
    """
    prob = _problem(cover, weights, already_covered)
    _check_total(prob.weights)
    return _reach(prob)[0]


def _reach(prob: _Problem) -> tuple[float, IntArray, float]:
    """Reachable share, unreachable demand rows and their weight."""
    reachable = prob.reachable()
    unreachable = np.flatnonzero(~prob.already & ~reachable).astype(np.int64)
    lost = math.fsum(prob.weights[unreachable].tolist())
    total = prob.total_weight
    reach_w = math.fsum(prob.weights[prob.already | reachable].tolist())
    return (reach_w / total if total > 0 else 0.0), unreachable, lost


def _fewest_sites_status(out: Any, n_sites: int, limit: float, goal: str) -> tuple[int, str]:
    """Proven lower bound on the site count and status text of a fewest-sites MILP run."""
    bound = max(1, math.ceil(out.bound - 1e-6) if math.isfinite(out.bound) else 1)
    lower = min(n_sites if out.optimal else bound, n_sites)
    if lower == n_sites:
        return lower, f"optimal: {n_sites} new site(s) are the fewest that {goal}"
    if out.time_limit_hit:
        return lower, f"time limit of {limit:g} s reached: best solution found; at least {lower} site(s) are needed"
    return lower, f"HiGHS stopped ({out.status}): best solution found; at least {lower} site(s) are needed"


def target_coverage(
    cover: Any,
    weights: npt.ArrayLike,
    *,
    target_share: float = 0.95,
    already_covered: npt.ArrayLike | None = None,
    time_limit_s: float = 60.0,
) -> SiteSelection:
    """Find the fewest new sites that bring the covered share to ``target_share``.

    Minimise ``sum_j x_j`` subject to ``sum_i w_i y_i >= needed``,
    ``y_i <= sum_j a_ij x_j``, where ``needed = target_share * total_weight -
    covered_before`` and the total includes demand no candidate can reach.
    Solved exactly by HiGHS, warm-started from greedy.

    Parameters
    ----------
    cover, weights, already_covered
        As in :func:`max_coverage`.
    target_share : float
        Share of the total weight to cover (existing plus new), in ``[0, 1]``.
    time_limit_s : float
        Time limit for the solver; when hit, the best solution found is
        returned with ``sites_lower_bound`` and its gap.

    Returns
    -------
    SiteSelection
        ``model="target_coverage"``; ``sites_lower_bound`` is the proven fewest
        number of sites and ``upper_bound`` is ``nan``. When the target is
        already met the selection has no sites and ``method="none"``.

    Raises
    ------
    CoverageInputError
        If the target exceeds :func:`reachable_share`; the message gives the
        reachable share and the demand no candidate reaches.
    """
    t0 = time.perf_counter()
    prob = _problem(cover, weights, already_covered)
    _check_total(prob.weights)
    share = _as_share(target_share)
    limit = _as_time_limit(time_limit_s)
    total = prob.total_weight
    before = prob.covered_before
    slack = _REL_TOL * max(1.0, total)
    needed = share * total - before
    if needed <= slack:
        status = f"target already met: existing coverage {before / total:.2%} >= target {share:.2%}; nothing to do"
        return _selection(
            prob,
            [],
            bound=0.0,
            optimal=True,
            method="none",
            status=status,
            t0=t0,
            reduced_shape=(0, 0),
            model="target_coverage",
            sites_lower_bound=0,
        )
    reach, unreachable, lost = _reach(prob)
    reachable_new = total * reach - before
    if needed > reachable_new + slack:
        raise CoverageInputError(
            f"target_share={share:.4g} cannot be met: existing halls plus every candidate reach at most "
            f"{reach:.4%} of the total weight {_fmt(total)}; {unreachable.size:,} demand units with weight "
            f"{_fmt(lost)} ({lost / total:.2%}) are out of every candidate's reach (rows "
            f"{_few(unreachable.tolist())}). Lower target_share to at most "
            f"{math.floor(reach * 1e4) / 1e4:.4f}, or add candidate sites near those units."
        )
    needed = min(needed, reachable_new) - slack
    red = _reduce(prob, enabled=True, weighted=True)
    n_rows, n_cols = red.shape
    picks, _ = _lazy_greedy(red.a, red.w, n_cols, stop_at=needed)
    picks = _prune(red, picks, needed)
    matrix = sp.vstack(
        [
            _mclp_matrix(red)[:n_rows],
            sp.hstack([sp.csc_array((1, n_cols)), sp.csc_array(red.w.reshape(1, -1))]),
        ],
        format="csc",
    )
    model = _HighsModel(
        cost=np.concatenate([np.ones(n_cols), np.zeros(n_rows)]),
        matrix=matrix,
        row_lower=np.concatenate([np.full(n_rows, -highspy.kHighsInf), [needed]]),
        row_upper=np.concatenate([np.zeros(n_rows), [highspy.kHighsInf]]),
        n_integer=n_cols,
        maximize=False,
    )
    out = model.run(time_limit_s=limit, start=_mclp_start(red, picks))
    sites = picks
    if out.x is not None:
        mip_sites = _sites_from_x(out.x, n_cols)
        if len(mip_sites) < len(sites) and _value(red.a, red.w, mip_sites) >= needed:
            sites = mip_sites
    lower, status = _fewest_sites_status(out, len(sites), limit, f"reach {share:.2%}")
    optimal = lower == len(sites)
    chosen = red.cols[np.asarray(sites, dtype=np.int64)].tolist()
    return _selection(
        prob,
        chosen,
        bound=math.nan,
        optimal=optimal,
        method="milp-highs",
        status=status,
        t0=t0,
        reduced_shape=red.shape,
        model="target_coverage",
        sites_lower_bound=lower,
    )


def full_coverage(
    cover: Any,
    weights: npt.ArrayLike | None = None,
    *,
    already_covered: npt.ArrayLike | None = None,
    time_limit_s: float = 60.0,
) -> SiteSelection:
    """Find the fewest new sites that cover every demand unit some candidate can reach.

    The location set covering problem (LSCP): minimise ``sum_j x_j`` subject to
    ``sum_j a_ij x_j >= 1`` for every demand unit not already covered that at
    least one candidate covers. Units no candidate reaches cannot be covered;
    they are reported in a :class:`~coverage._errors.CoverageWarning` and in
    ``status`` and left out (spopt's LSCP would be infeasible instead).

    Parameters
    ----------
    cover, already_covered
        As in :func:`max_coverage`.
    weights : array-like, optional
        Weights for reporting only (every unit counts in the constraint, even
        with weight 0); default 1 per demand unit.
    time_limit_s : float
        Time limit for the solver.

    Returns
    -------
    SiteSelection
        ``model="full_coverage"``, with ``sites_lower_bound`` as certificate.
    """
    t0 = time.perf_counter()
    prob = _problem(cover, weights, already_covered, weights_required=False)
    _check_total(prob.weights)
    limit = _as_time_limit(time_limit_s)
    return _full_coverage(prob, limit, t0, stacklevel=3)


def _full_coverage(prob: _Problem, limit: float, t0: float, *, stacklevel: int) -> SiteSelection:
    _, unreachable, lost = _reach(prob)
    note = ""
    if unreachable.size:
        note = (
            f"; {unreachable.size:,} demand unit(s) with weight {_fmt(lost)} are out of every candidate's "
            f"reach and stay uncovered (rows {_few(unreachable.tolist())})"
        )
        warnings.warn(
            f"{unreachable.size:,} demand unit(s) (rows {_few(unreachable.tolist())}, weight {_fmt(lost)}) "
            "are farther than the service radius from every candidate and cannot be covered; they are "
            "left out of the set cover. Add candidate sites near them to cover them.",
            CoverageWarning,
            stacklevel=stacklevel,
        )
    red = _reduce(prob, enabled=True, weighted=False)
    n_rows, n_cols = red.shape
    if n_rows == 0:
        status = "nothing to do: every reachable demand unit is already covered" + note
        return _selection(
            prob,
            [],
            bound=0.0,
            optimal=True,
            method="none",
            status=status,
            t0=t0,
            reduced_shape=(0, 0),
            model="full_coverage",
            sites_lower_bound=0,
        )
    picks, _ = _lazy_greedy(red.a, red.w, n_cols, stop_at=math.fsum(red.w.tolist()))
    picks = _prune(red, picks, math.fsum(red.w.tolist()))
    model = _HighsModel(
        cost=np.ones(n_cols),
        matrix=sp.csc_array(red.a, dtype=np.float64),
        row_lower=np.ones(n_rows),
        row_upper=np.full(n_rows, highspy.kHighsInf),
        n_integer=n_cols,
        maximize=False,
    )
    start = np.zeros(n_cols)
    start[np.asarray(picks, dtype=np.int64)] = 1.0
    out = model.run(time_limit_s=limit, start=start)
    sites = picks
    if out.x is not None:
        mip_sites = _sites_from_x(out.x, n_cols)
        covered = _covered_mask(red.a, mip_sites, n_rows)
        if len(mip_sites) < len(sites) and bool(covered.all()):
            sites = mip_sites
    lower, status = _fewest_sites_status(out, len(sites), limit, "cover every reachable demand unit")
    optimal = lower == len(sites)
    chosen = red.cols[np.asarray(sites, dtype=np.int64)].tolist()
    return _selection(
        prob,
        chosen,
        bound=math.nan,
        optimal=optimal,
        method="milp-highs",
        status=status + note,
        t0=t0,
        reduced_shape=red.shape,
        model="full_coverage",
        sites_lower_bound=lower,
    )
